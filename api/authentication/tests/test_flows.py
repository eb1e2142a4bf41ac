"""The account flows end to end over HTTP, with real emails in the outbox."""

import pytest
from django.core import mail
from rest_framework.test import APIClient

from accounts.models import ActivityLog, User
from authentication.tests.conftest import PASSWORD, bearer, code_sent_to, login, register

pytestmark = pytest.mark.django_db(transaction=True)


def test_register_verify_login_refresh_logout(api_client: APIClient):
    registered = register(api_client, phone_number="0912345678")

    user = registered["user"]
    assert user["email"] == "amna@example.com"
    assert user["is_email_verified"] is False
    assert user["phone_number"] == "+249912345678"  # Sudan by default, E.164 out
    assert set(user) == {
        "id", "email", "first_name", "last_name", "account_type", "language", "phone_number",
        "whatsapp_number", "avatar", "is_email_verified", "date_joined", "stores",
    }  # fmt: skip
    # The code email, in text and HTML.
    [code_email] = mail.outbox
    assert code_email.subject == "Confirm your email address — Sudamall"
    assert code_email.alternatives[0][1] == "text/html"

    # Unverified: the right password is not enough yet.
    refused = login(api_client, "amna@example.com")
    assert refused.status_code == 403
    assert refused.json()["code"] == "email_not_verified"

    verified = api_client.post(
        "/api/auth/verify-email/",
        {"email": "amna@example.com", "code": code_sent_to("amna@example.com")},
        format="json",
    )
    assert verified.status_code == 200
    assert verified.json()["user"]["is_email_verified"] is True
    assert mail.outbox[-1].subject == "Welcome to Sudamall"

    session = login(api_client, "AMNA@example.com").json()
    me = bearer(session["access"]).get("/api/accounts/me/")
    assert me.status_code == 200
    assert me.json()["email"] == "amna@example.com"

    rotated = api_client.post("/api/auth/refresh/", {"refresh": session["refresh"]}, format="json")
    assert rotated.status_code == 200
    assert set(rotated.json()) == {"access", "refresh"}

    logged_out = bearer(rotated.json()["access"]).post(
        "/api/auth/logout/", {"refresh": rotated.json()["refresh"]}, format="json"
    )
    assert logged_out.status_code == 204
    again = api_client.post(
        "/api/auth/refresh/", {"refresh": rotated.json()["refresh"]}, format="json"
    )
    assert again.status_code == 401
    assert again.json()["code"] == "token_not_valid"

    actions = list(
        ActivityLog.objects.filter(user__email="amna@example.com").values_list("action", flat=True)
    )
    assert set(actions) >= {"registered", "code_requested", "email_verified", "login", "logout"}


def test_business_owner_gets_the_business_welcome(api_client: APIClient):
    register(api_client, email="shop@example.com", account_type="business_owner")

    api_client.post(
        "/api/auth/verify-email/",
        {"email": "shop@example.com", "code": code_sent_to("shop@example.com")},
        format="json",
    )

    welcome = mail.outbox[-1]
    assert "open your store" in welcome.subject
    assert "creating your first store" in welcome.body


def test_registering_a_taken_email_is_400(api_client: APIClient):
    register(api_client)

    response = api_client.post(
        "/api/auth/register/",
        {
            "email": "Amna@Example.com",
            "password": PASSWORD,
            "first_name": "A",
            "last_name": "B",
            "account_type": "buyer",
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["details"] == {"email": ["An account with this email already exists."]}
    assert User.objects.count() == 1


def test_weak_password_is_400_and_creates_nothing(api_client: APIClient):
    response = api_client.post(
        "/api/auth/register/",
        {
            "email": "x@example.com",
            "password": "12345678",
            "first_name": "A",
            "last_name": "B",
            "account_type": "buyer",
        },
        format="json",
    )

    assert response.status_code == 400
    assert "password" in response.json()["details"]
    assert not User.objects.exists()
    assert mail.outbox == []


def test_resend_sends_a_new_code_and_the_old_one_stops_working(api_client: APIClient):
    register(api_client)
    first = code_sent_to("amna@example.com")

    resent = api_client.post(
        "/api/auth/verify-email/resend/", {"email": "amna@example.com"}, format="json"
    )
    second = code_sent_to("amna@example.com")

    assert resent.status_code == 202
    assert len(mail.outbox) == 2
    if first != second:  # one in a million they collide
        old = api_client.post(
            "/api/auth/verify-email/",
            {"email": "amna@example.com", "code": first},
            format="json",
        )
        assert old.status_code == 400
    ok = api_client.post(
        "/api/auth/verify-email/", {"email": "amna@example.com", "code": second}, format="json"
    )
    assert ok.status_code == 200


def test_password_reset_sets_the_password_and_signs_out_everywhere(
    api_client: APIClient, verified_session: dict
):
    other_device = login(api_client, "amna@example.com").json()

    asked = api_client.post(
        "/api/auth/password-reset/", {"email": "amna@example.com"}, format="json"
    )
    assert asked.status_code == 202
    confirmed = api_client.post(
        "/api/auth/password-reset/confirm/",
        {
            "email": "amna@example.com",
            "code": code_sent_to("amna@example.com"),
            "new_password": "Blue-Nile-2027?",
        },
        format="json",
    )

    assert confirmed.status_code == 200
    assert mail.outbox[-1].subject == "Your Sudamall password was changed"
    for session in (verified_session, other_device):
        refreshed = api_client.post(
            "/api/auth/refresh/", {"refresh": session["refresh"]}, format="json"
        )
        assert refreshed.status_code == 401
        assert bearer(session["access"]).get("/api/accounts/me/").status_code == 401
    assert login(api_client, "amna@example.com").status_code == 401
    assert login(api_client, "amna@example.com", "Blue-Nile-2027?").status_code == 200


def test_password_change_keeps_this_session_and_ends_the_others(
    api_client: APIClient, verified_session: dict
):
    other_device = login(api_client, "amna@example.com").json()

    changed = bearer(verified_session["access"]).post(
        "/api/auth/password/change/",
        {"current_password": PASSWORD, "new_password": "Blue-Nile-2027?"},
        format="json",
    )

    assert changed.status_code == 200
    assert bearer(changed.json()["access"]).get("/api/accounts/me/").status_code == 200
    assert bearer(other_device["access"]).get("/api/accounts/me/").status_code == 401
    wrong = bearer(changed.json()["access"]).post(
        "/api/auth/password/change/",
        {"current_password": "nope", "new_password": "Another-one-2028!"},
        format="json",
    )
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "invalid_credentials"


def test_delete_account_with_a_code(api_client: APIClient, verified_session: dict):
    client = bearer(verified_session["access"])

    without_code = client.delete("/api/accounts/me/", {}, format="json")
    assert without_code.status_code == 400
    assert (
        client.post("/api/auth/otp/", {"purpose": "delete_account"}, format="json").status_code
        == 202
    )
    wrong = client.delete("/api/accounts/me/", {"code": "000000"}, format="json")
    if code_sent_to("amna@example.com") != "000000":
        assert wrong.status_code == 400
    deleted = client.delete(
        "/api/accounts/me/", {"code": code_sent_to("amna@example.com")}, format="json"
    )

    assert deleted.status_code == 204
    assert client.get("/api/accounts/me/").status_code == 401
    refreshed = api_client.post(
        "/api/auth/refresh/", {"refresh": verified_session["refresh"]}, format="json"
    )
    assert refreshed.status_code == 401
    assert login(api_client, "amna@example.com").status_code == 401
    gone = User.objects.get(pk=verified_session["user"]["id"])
    assert gone.is_active is False
    assert gone.email.endswith("@deleted.invalid")
    assert (gone.first_name, gone.last_name, gone.has_usable_password()) == ("", "", False)
    # The address is free again.
    register(api_client)


def test_change_email_with_a_code_sent_to_the_new_address(
    api_client: APIClient, verified_session: dict
):
    client = bearer(verified_session["access"])

    asked = client.post(
        "/api/accounts/me/email/", {"new_email": "amna.new@example.com"}, format="json"
    )
    assert asked.status_code == 202
    confirmed = client.post(
        "/api/accounts/me/email/confirm/",
        {"code": code_sent_to("amna.new@example.com")},
        format="json",
    )

    assert confirmed.status_code == 200
    assert confirmed.json()["email"] == "amna.new@example.com"
    assert login(api_client, "amna.new@example.com").status_code == 200


def test_change_email_to_a_taken_address_sends_nothing_and_says_nothing(
    api_client: APIClient, verified_session: dict
):
    User.objects.create_user("taken@example.com", password=PASSWORD)
    sent_before = len(mail.outbox)

    asked = bearer(verified_session["access"]).post(
        "/api/accounts/me/email/", {"new_email": "taken@example.com"}, format="json"
    )

    assert asked.status_code == 202
    assert len(mail.outbox) == sent_before


def test_five_wrong_codes_lock_verification_even_for_the_right_code(api_client: APIClient):
    register(api_client)
    right = code_sent_to("amna@example.com")
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    for _ in range(5):
        response = api_client.post(
            "/api/auth/verify-email/", {"email": "amna@example.com", "code": wrong}, format="json"
        )
        assert response.status_code == 400
    locked = api_client.post(
        "/api/auth/verify-email/", {"email": "amna@example.com", "code": right}, format="json"
    )

    assert locked.status_code == 400
    assert locked.json()["code"] == "invalid_code"
    assert User.objects.get().is_email_verified is False
