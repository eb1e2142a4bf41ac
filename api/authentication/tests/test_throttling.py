import pytest
from django.core import mail
from rest_framework.test import APIClient

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def login(client: APIClient, email: str, password: str, ip: str = "203.0.113.7"):
    return client.post(
        "/api/auth/login/", {"email": email, "password": password}, format="json", REMOTE_ADDR=ip
    )


def test_login_is_throttled_after_five_failures_for_one_email(api_client: APIClient):
    user = UserFactory(email="target@example.com", is_email_verified=True)

    for _ in range(5):
        assert login(api_client, user.email, "wrong").status_code == 401
    throttled = login(api_client, user.email, DEFAULT_PASSWORD)  # even the right password waits

    assert throttled.status_code == 429
    assert throttled.json()["code"] == "throttled"
    assert 1 <= int(throttled.headers["Retry-After"]) <= 15 * 60
    # Another client IP doesn't lift a per-email limit.
    assert login(api_client, user.email, DEFAULT_PASSWORD, ip="198.51.100.9").status_code == 429
    # Other accounts are unaffected.
    other = UserFactory(is_email_verified=True)
    assert login(api_client, other.email, DEFAULT_PASSWORD, ip="198.51.100.9").status_code == 200


def test_login_is_throttled_per_ip_across_many_emails(api_client: APIClient):
    for n in range(20):
        assert login(api_client, f"nobody{n}@example.com", "wrong").status_code == 401

    assert login(api_client, "someone@example.com", "wrong").status_code == 429


def test_successful_logins_are_not_counted_as_failures(api_client: APIClient):
    user = UserFactory(is_email_verified=True)
    for _ in range(4):
        login(api_client, user.email, "wrong")
    assert login(api_client, user.email, DEFAULT_PASSWORD).status_code == 200

    for _ in range(4):
        assert login(api_client, user.email, "wrong").status_code == 401


def test_code_requests_for_one_address_are_limited(api_client: APIClient):
    for _ in range(5):
        response = api_client.post(
            "/api/auth/password-reset/", {"email": "a@example.com"}, format="json"
        )
        assert response.status_code == 202

    limited = api_client.post(
        "/api/auth/password-reset/", {"email": "a@example.com"}, format="json"
    )

    assert limited.status_code == 429
    assert "Retry-After" in limited.headers


def test_registration_is_limited_per_ip(api_client: APIClient):
    for _ in range(10):
        assert api_client.post("/api/auth/register/", {}, format="json").status_code == 400

    assert api_client.post("/api/auth/register/", {}, format="json").status_code == 429


@pytest.mark.parametrize("url", ["/api/auth/password-reset/", "/api/auth/verify-email/resend/"])
def test_known_and_unknown_addresses_get_identical_answers(
    api_client: APIClient, url: str, django_capture_on_commit_callbacks
):
    UserFactory(email="known@example.com", is_email_verified=False)

    with django_capture_on_commit_callbacks(execute=True):
        known = api_client.post(url, {"email": "known@example.com"}, format="json")
    unknown = api_client.post(url, {"email": "unknown@example.com"}, format="json")

    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())
    assert known.status_code == 202
    assert [m.to for m in mail.outbox] == [["known@example.com"]]


def test_wrong_codes_for_known_and_unknown_addresses_get_identical_answers(api_client: APIClient):
    UserFactory(email="known@example.com", is_email_verified=False)
    body = {"code": "123456", "new_password": "Another-one-2028!"}

    known = api_client.post(
        "/api/auth/password-reset/confirm/", {"email": "known@example.com", **body}, format="json"
    )
    unknown = api_client.post(
        "/api/auth/password-reset/confirm/", {"email": "nobody@example.com", **body}, format="json"
    )
    verify_unknown = api_client.post(
        "/api/auth/verify-email/", {"email": "nobody@example.com", "code": "123456"}, format="json"
    )

    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())
    assert verify_unknown.json() == unknown.json()
    assert known.json()["code"] == "invalid_code"
