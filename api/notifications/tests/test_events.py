"""/ws/events/ over the real ASGI application and channel layer."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from accounts.tests.factories import UserFactory
from api.asgi import application
from authentication import services
from core.realtime import push_to_user

pytestmark = pytest.mark.django_db(transaction=True)

HEADERS = [(b"origin", b"http://testserver"), (b"host", b"testserver")]


async def connect() -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, "/ws/events/", headers=HEADERS)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


@sync_to_async
def session() -> tuple[int, str]:
    user = UserFactory(is_email_verified=True)
    return user.pk, services.issue_tokens(user=user).access


async def test_an_authenticated_socket_receives_the_users_events():
    user_id, access = await session()
    socket = await connect()

    await socket.send_json_to({"type": "auth", "token": access})
    assert await socket.receive_json_from() == {"type": "auth.ok", "data": {"user_id": user_id}}
    await sync_to_async(push_to_user)(user_id, "cart.updated", {"item_count": 2})

    assert await socket.receive_json_from(timeout=2) == {
        "type": "cart.updated",
        "data": {"item_count": 2},
    }
    await socket.disconnect()


async def test_two_sessions_of_one_user_both_hear_and_others_do_not():
    user_id, access = await session()
    _, other_access = await session()
    mine_a, mine_b, theirs = await connect(), await connect(), await connect()
    for socket, token in ((mine_a, access), (mine_b, access), (theirs, other_access)):
        await socket.send_json_to({"type": "auth", "token": token})
        await socket.receive_json_from()

    await sync_to_async(push_to_user)(user_id, "checkout.created", {"id": 7})

    assert (await mine_a.receive_json_from(timeout=2))["type"] == "checkout.created"
    assert (await mine_b.receive_json_from(timeout=2))["type"] == "checkout.created"
    assert await theirs.receive_nothing(timeout=0.3)
    for socket in (mine_a, mine_b, theirs):
        await socket.disconnect()


@pytest.mark.parametrize(
    "first_message",
    [
        {"type": "auth"},
        {"type": "auth", "token": "not-a-jwt"},
        {"type": "subscribe", "token": "x"},
        ["auth"],
    ],
)
async def test_a_bad_first_message_closes_with_4401(first_message):
    socket = await connect()

    await socket.send_json_to(first_message)

    assert await socket.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}


async def test_text_that_is_not_json_closes_with_4401():
    socket = await connect()

    await socket.send_to(text_data="hello")

    assert await socket.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}


async def test_a_revoked_token_closes_with_4401():
    @sync_to_async
    def revoked() -> str:
        from accounts.services import revoke_all_tokens

        user = UserFactory(is_email_verified=True)
        access = services.issue_tokens(user=user).access
        revoke_all_tokens(user=user)
        return access

    socket = await connect()
    await socket.send_json_to({"type": "auth", "token": await revoked()})

    assert await socket.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}


async def test_silence_closes_with_4401(monkeypatch):
    from notifications.consumers import EventsConsumer

    monkeypatch.setattr(EventsConsumer, "auth_timeout_seconds", 0.1)
    socket = await connect()

    assert await socket.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}
