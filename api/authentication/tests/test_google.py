"""Google sign-in against a local key: the real google-auth verifier runs on every token."""

import pytest
from django.core import mail
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import UserFactory
from authentication.models import ExternalIdentity
from authentication.tests.google_fake import FakeGoogle, another_key

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in(client: APIClient, token: str, **extra):
    return client.post("/api/auth/google/", {"id_token": token, **extra}, format="json")


def test_a_new_user_is_created_verified_and_signed_in(api_client: APIClient, google: FakeGoogle):
    response = sign_in(api_client, google.id_token(), account_type="business_owner")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["is_new_user"] is True
    assert body["user"]["email"] == "fatima.ali@gmail.com"
    assert body["user"]["is_email_verified"] is True
    assert body["user"]["account_type"] == "business_owner"
    assert (body["user"]["first_name"], body["user"]["last_name"]) == ("Fatima", "Ali")
    assert google.requests == ["https://www.googleapis.com/oauth2/v1/certs"]
    assert mail.outbox[-1].subject.startswith("Welcome to Sudamall")


def test_signing_in_again_finds_the_same_user(api_client: APIClient, google: FakeGoogle):
    first = sign_in(api_client, google.id_token()).json()
    again = sign_in(api_client, google.id_token()).json()

    assert again["is_new_user"] is False
    assert again["user"]["id"] == first["user"]["id"]
    assert ExternalIdentity.objects.count() == 1
    # Google's certificates are cached as their Cache-Control allows.
    assert len(google.requests) == 1


def test_an_existing_password_account_is_linked(api_client: APIClient, google: FakeGoogle):
    existing = UserFactory(email="fatima.ali@gmail.com", is_email_verified=True)

    body = sign_in(api_client, google.id_token()).json()

    assert body["is_new_user"] is False
    assert body["user"]["id"] == existing.pk
    existing.refresh_from_db()
    assert existing.has_usable_password()  # a verified owner keeps their password
    assert existing.activity.filter(action="google_linked").exists()


def test_linking_an_unverified_account_removes_the_squatters_password(
    api_client: APIClient, google: FakeGoogle
):
    squatted = UserFactory(email="fatima.ali@gmail.com", is_email_verified=False)

    body = sign_in(api_client, google.id_token()).json()

    squatted.refresh_from_db()
    assert body["user"]["id"] == squatted.pk
    assert squatted.is_email_verified is True
    assert squatted.has_usable_password() is False


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"aud": "someone-else.apps.googleusercontent.com"}, id="wrong-audience"),
        pytest.param({"iss": "https://evil.example.com"}, id="wrong-issuer"),
        pytest.param({"exp": 1_700_000_000, "iat": 1_699_990_000}, id="expired"),
    ],
)
def test_tokens_google_did_not_issue_for_us_are_rejected(
    api_client: APIClient, google: FakeGoogle, claims: dict
):
    response = sign_in(api_client, google.id_token(**claims))

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_google_token"
    assert not User.objects.exists()


def test_a_token_signed_by_another_key_is_rejected(api_client: APIClient, google: FakeGoogle):
    forged = google.id_token(key=another_key())

    response = sign_in(api_client, forged)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_google_token"


def test_an_unverified_google_email_is_rejected(api_client: APIClient, google: FakeGoogle):
    response = sign_in(api_client, google.id_token(email_verified=False))

    assert response.status_code == 400
    assert response.json()["code"] == "google_email_not_verified"
    assert not User.objects.exists()


def test_not_a_jwt_is_rejected(api_client: APIClient):
    response = sign_in(api_client, "not-a-token")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_google_token"


def test_without_configured_client_ids_google_sign_in_is_unavailable(
    api_client: APIClient, google: FakeGoogle, settings
):
    settings.GOOGLE_CLIENT_IDS = []

    response = sign_in(api_client, google.id_token())

    assert response.status_code == 503
    assert response.json()["code"] == "google_sign_in_unavailable"


def test_a_deleted_accounts_google_identity_starts_afresh(
    api_client: APIClient, google: FakeGoogle
):
    first = sign_in(api_client, google.id_token()).json()
    User.objects.filter(pk=first["user"]["id"]).update(
        is_active=False, deleted_at="2026-01-01T00:00:00Z", email="deleted-1@deleted.invalid"
    )

    again = sign_in(api_client, google.id_token()).json()

    assert again["is_new_user"] is True
    assert again["user"]["id"] != first["user"]["id"]
