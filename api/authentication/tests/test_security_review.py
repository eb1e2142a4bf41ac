"""Regression tests for the holes a security review of accounts and authentication found."""

import secrets
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.exceptions import CodeLocked
from accounts.models import OneTimeCode
from accounts.tests.factories import UserFactory
from authentication import services
from authentication.tests.conftest import bearer, code_sent_to

pytestmark = pytest.mark.django_db


def oauth_token_for(user) -> str:
    """A live read+write OAuth2 access token of an application the user owns."""
    app = Application.objects.create(
        name="App",
        user=user,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
    )
    raw = secrets.token_urlsafe(24)
    AccessToken.objects.create(
        user=user,
        application=app,
        token=raw,
        scope="read write",
        expires=timezone.now() + timedelta(hours=1),
    )
    return raw


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_fresh_codes_do_not_buy_fresh_guesses():
    user = UserFactory()
    purpose = OneTimeCode.Purpose.CHANGE_EMAIL
    for _ in range(2):  # two codes, five wrong tries each: the window's budget of ten is spent
        code = account_services.issue_code(user=user, purpose=purpose, target_email="n@example.com")
        for _ in range(5):
            with pytest.raises(Exception):  # noqa: B017, PT011 - InvalidCode or CodeLocked
                account_services.consume_code(user=user, purpose=purpose, code=wrong(code))

    code = account_services.issue_code(user=user, purpose=purpose, target_email="n@example.com")
    with pytest.raises(CodeLocked):
        account_services.consume_code(user=user, purpose=purpose, code=code)


def test_email_change_requests_are_throttled_per_target_address(django_capture_on_commit_callbacks):
    client = bearer(services.issue_tokens(user=UserFactory(is_email_verified=True)).access)

    with django_capture_on_commit_callbacks(execute=True):
        statuses = [
            client.post("/api/accounts/me/email/", {"new_email": "victim@example.com"}).status_code
            for _ in range(6)
        ]

    assert statuses == [202] * 5 + [429]
    assert len([m for m in mail.outbox if m.to == ["victim@example.com"]]) == 5


def test_a_password_reset_revokes_oauth2_tokens_too(django_capture_on_commit_callbacks):
    user = UserFactory(email="amna@example.com", is_email_verified=True)
    raw = oauth_token_for(user)
    oauth = APIClient()
    oauth.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert oauth.get("/api/accounts/me/").status_code == 200

    anonymous = APIClient()
    with django_capture_on_commit_callbacks(execute=True):
        anonymous.post("/api/auth/password-reset/", {"email": user.email}, format="json")
    anonymous.post(
        "/api/auth/password-reset/confirm/",
        {"email": user.email, "code": code_sent_to(user.email), "new_password": "Blue-Nile-2027?"},
        format="json",
    )

    assert oauth.get("/api/accounts/me/").status_code == 401
    assert not AccessToken.objects.filter(user=user).exists()


def test_third_party_tokens_cannot_touch_account_security(service_token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {service_token}")

    for method, url, body in [
        ("post", "/api/accounts/me/email/", {"new_email": "attacker@example.com"}),
        ("post", "/api/accounts/me/email/confirm/", {"code": "123456"}),
        ("post", "/api/auth/otp/", {"purpose": "delete_account"}),
        ("post", "/api/auth/password/change/", {"current_password": "x", "new_password": "y"}),
        ("delete", "/api/accounts/me/", {"code": "123456"}),
    ]:
        response = getattr(client, method)(url, body, format="json")
        assert response.status_code == 403, url
        assert response.json()["code"] == "permission_denied"
    assert client.get("/api/accounts/me/").status_code == 200


@pytest.fixture
def service_token() -> str:
    return oauth_token_for(UserFactory(is_email_verified=True))


def test_reset_confirm_with_a_weak_password_answers_alike_for_known_and_unknown(
    api_client: APIClient,
):
    UserFactory(email="known@example.com")
    body = {"code": "123456", "new_password": "1"}

    known = api_client.post(
        "/api/auth/password-reset/confirm/", {"email": "known@example.com", **body}, format="json"
    )
    unknown = api_client.post(
        "/api/auth/password-reset/confirm/", {"email": "nobody@example.com", **body}, format="json"
    )

    assert known.status_code == unknown.status_code == 400
    assert known.json() == unknown.json()


def test_email_change_answers_do_not_reveal_a_taken_address():
    UserFactory(email="taken@example.com")
    client = bearer(services.issue_tokens(user=UserFactory(is_email_verified=True)).access)
    client.post("/api/accounts/me/email/", {"new_email": "free@example.com"})
    for _ in range(5):
        client.post("/api/accounts/me/email/confirm/", {"code": "000001"})

    client.post("/api/accounts/me/email/", {"new_email": "taken@example.com"})
    after_taken = client.post("/api/accounts/me/email/confirm/", {"code": "000001"})
    client.post("/api/accounts/me/email/", {"new_email": "free2@example.com"})
    after_free = client.post("/api/accounts/me/email/confirm/", {"code": "000001"})

    assert after_taken.status_code == after_free.status_code == 400
    assert after_taken.json() == after_free.json()


def test_a_forged_x_forwarded_for_does_not_dodge_ip_throttles(api_client: APIClient):
    statuses = [
        api_client.post(
            "/api/auth/register/", {}, format="json", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}"
        ).status_code
        for n in range(11)
    ]

    assert statuses[-1] == 429


def test_the_per_address_code_limit_keys_on_the_signed_in_user():
    client = bearer(services.issue_tokens(user=UserFactory(is_email_verified=True)).access)

    statuses = [
        client.post(
            "/api/auth/otp/", {"purpose": "delete_account", "email": f"x{n}@example.com"}
        ).status_code
        for n in range(6)
    ]

    assert statuses == [202] * 5 + [429]


def test_wrong_current_passwords_count_toward_the_login_limit():
    user = UserFactory(is_email_verified=True)
    client = bearer(services.issue_tokens(user=user).access)

    statuses = [
        client.post(
            "/api/auth/password/change/",
            {"current_password": "guess", "new_password": "Whatever-2029!"},
        ).status_code
        for _ in range(6)
    ]

    assert statuses == [401] * 5 + [429]


@pytest.mark.parametrize("page", ["²", "9" * 5000, "٣"])
def test_unicode_and_huge_page_numbers_are_400(auth_client: APIClient, page: str):
    assert auth_client.get(f"/api/accounts/me/activity/?page={page}").status_code == 400
    assert auth_client.get(f"/api/accounts/me/activity/?page_size={page}").status_code == 400


@pytest.mark.parametrize("path", ["/api/auth/password-reset/", "/api/auth/verify-email/resend/"])
def test_known_and_unknown_addresses_cost_a_request_the_same_work(path, api_client):
    """A known address used to answer measurably slower (it wrote a code and an activity row);
    now both hand the address to the worker the same way: the same statements, in order."""
    import re

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.tests.factories import UserFactory

    UserFactory(email="known@example.com", is_email_verified=False)

    def work(email: str) -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            answer = api_client.post(path, {"email": email}, format="json")
        assert answer.status_code == 202
        # The statements' shapes: table names and SQL verbs, values left out.
        return [re.sub(r"'[^']*'|\b\d+\b", "?", q["sql"]) for q in queries.captured_queries]

    known, unknown = work("known@example.com"), work("nobody@example.com")

    assert known == unknown
    assert len(known) == 1  # the outbox row: the lookup happens in the worker
