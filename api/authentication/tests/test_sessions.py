"""Sign-in sessions: signing out, a password change or a reused refresh token ends every token of
the session — REST calls, socket handshakes, and sockets already open (4401) — and a socket
lives no longer than its token unless the client renews it."""

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from api.asgi import application
from authentication.models import SignInSession

pytestmark = pytest.mark.django_db(transaction=True)

CLOSED = {"type": "websocket.close", "code": 4401}


@sync_to_async
def sign_in(email: str = "amna@example.com", *, new_user: bool = True) -> dict:
    if new_user:
        UserFactory(email=email, is_email_verified=True)
    response = APIClient().post(
        "/api/auth/login/", {"email": email, "password": DEFAULT_PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


async def socket_for(access: str) -> WebsocketCommunicator:
    socket = WebsocketCommunicator(application, "/ws/events/")
    assert (await socket.connect())[0]
    await socket.send_json_to({"type": "auth", "token": access})
    return socket


async def closed(socket: WebsocketCommunicator, *, timeout: float) -> bool:
    """Whether the server closed the socket with 4401; then the client side goes too (as a
    browser's would), so the consumer forgets it."""
    output = await socket.receive_output(timeout=timeout)
    await socket.disconnect()
    return output == CLOSED


async def test_signing_out_ends_that_sessions_socket_and_tokens_but_not_the_others():
    phone = await sign_in()
    laptop = await sign_in(new_user=False)
    phone_socket = await socket_for(phone["access"])
    laptop_socket = await socket_for(laptop["access"])
    assert (await phone_socket.receive_json_from())["type"] == "auth.ok"
    assert (await laptop_socket.receive_json_from())["type"] == "auth.ok"

    signed_out = await sync_to_async(
        lambda: bearer(phone["access"]).post(
            "/api/auth/logout/", {"refresh": phone["refresh"]}, format="json"
        )
    )()

    assert signed_out.status_code == 204
    assert await closed(phone_socket, timeout=2)
    assert await laptop_socket.receive_nothing(timeout=0.5)
    me = await sync_to_async(lambda: bearer(phone["access"]).get("/api/accounts/me/"))()
    assert me.status_code == 401
    again = await socket_for(phone["access"])
    assert await closed(again, timeout=2)
    await laptop_socket.disconnect()


async def test_a_password_change_closes_every_socket_of_the_user():
    session = await sign_in()
    sockets = [await socket_for(session["access"]) for _ in range(2)]
    for socket in sockets:
        await socket.receive_json_from()

    changed = await sync_to_async(
        lambda: bearer(session["access"]).post(
            "/api/auth/password/change/",
            {"current_password": DEFAULT_PASSWORD, "new_password": "Another-Nile-2027!"},
            format="json",
        )
    )()

    assert changed.status_code == 200, changed.content
    for socket in sockets:
        assert await closed(socket, timeout=2)


def test_reusing_a_rotated_refresh_token_ends_the_whole_family():
    UserFactory(email="amna@example.com", is_email_verified=True)
    first = APIClient().post(
        "/api/auth/login/", {"email": "amna@example.com", "password": DEFAULT_PASSWORD},
        format="json",
    ).json()  # fmt: skip
    second = APIClient().post("/api/auth/refresh/", {"refresh": first["refresh"]}, format="json")
    assert second.status_code == 200

    replayed = APIClient().post("/api/auth/refresh/", {"refresh": first["refresh"]}, format="json")
    successor = APIClient().post(
        "/api/auth/refresh/", {"refresh": second.json()["refresh"]}, format="json"
    )

    assert replayed.status_code == 401
    assert successor.status_code == 401  # the thief's (or the owner's) copy dies too
    assert bearer(second.json()["access"]).get("/api/accounts/me/").status_code == 401
    (session,) = SignInSession.objects.all()
    assert session.revoked_reason == SignInSession.Reason.REUSE


def test_rotation_keeps_the_session(api_client):
    UserFactory(email="amna@example.com", is_email_verified=True)
    pair = api_client.post(
        "/api/auth/login/", {"email": "amna@example.com", "password": DEFAULT_PASSWORD},
        format="json",
    ).json()  # fmt: skip
    for _ in range(3):
        pair = api_client.post("/api/auth/refresh/", {"refresh": pair["refresh"]}).json()

    assert bearer(pair["access"]).get("/api/accounts/me/").status_code == 200
    assert SignInSession.objects.count() == 1


async def test_a_socket_closes_when_its_token_expires_unless_renewed(monkeypatch):
    # simplejwt reads the lifetime into the class when it is imported, not per token. Three
    # seconds: signing in and opening both sockets must fit in it on a busy machine (with one
    # second, a loaded CI run saw the token expire before the handshake).
    monkeypatch.setattr(AccessToken, "lifetime", timedelta(seconds=3))
    short = await sign_in()
    expiring = await socket_for(short["access"])
    renewed = await socket_for(short["access"])
    await expiring.receive_json_from()
    await renewed.receive_json_from()
    monkeypatch.setattr(AccessToken, "lifetime", timedelta(minutes=15))
    fresh = await sign_in(new_user=False)

    await renewed.send_json_to({"type": "auth", "token": fresh["access"]})

    assert (await renewed.receive_json_from(timeout=2))["type"] == "auth.renewed"
    assert await closed(expiring, timeout=6)
    assert await renewed.receive_nothing(timeout=0.5)
    await renewed.disconnect()


async def test_renewing_with_someone_elses_token_closes_the_socket():
    mine = await sign_in()
    theirs = await sign_in("omer@example.com")
    socket = await socket_for(mine["access"])
    await socket.receive_json_from()

    await socket.send_json_to({"type": "auth", "token": theirs["access"]})

    assert await closed(socket, timeout=2)


def test_sessions_are_pruned_once_their_last_refresh_token_has_expired(api_client):
    from django.utils import timezone

    from authentication.tasks import prune_sign_in_sessions_task

    UserFactory(email="amna@example.com", is_email_verified=True)
    login = {"email": "amna@example.com", "password": DEFAULT_PASSWORD}
    stale = api_client.post("/api/auth/login/", login, format="json").json()
    kept = api_client.post("/api/auth/login/", login, format="json").json()
    long_ago = timezone.now() - timedelta(days=30)
    SignInSession.objects.update(created_at=long_ago, refreshed_at=long_ago)
    api_client.post("/api/auth/refresh/", {"refresh": kept["refresh"]}, format="json")

    assert prune_sign_in_sessions_task() == 1

    assert SignInSession.objects.count() == 1
    assert bearer(stale["access"]).get("/api/accounts/me/").status_code == 200  # until it expires


def test_staff_sign_out_a_session_from_the_admin(admin_client):
    UserFactory(email="amna@example.com", is_email_verified=True)
    pair = APIClient().post(
        "/api/auth/login/", {"email": "amna@example.com", "password": DEFAULT_PASSWORD},
        format="json",
    ).json()  # fmt: skip
    (session,) = SignInSession.objects.all()

    response = admin_client.post(
        "/admin/authentication/signinsession/",
        {"action": "sign_out", "_selected_action": [str(session.pk)]},
        follow=True,
    )

    assert "1 session(s) signed out." in response.content.decode()
    assert bearer(pair["access"]).get("/api/accounts/me/").status_code == 401
    refresh = APIClient().post("/api/auth/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert refresh.status_code == 401
