"""The OAuth2 provider at /o/: tokens it issues work on the REST API, within their scopes."""

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from oauth2_provider.models import Application
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

REDIRECT_URI = "https://partner.example.com/callback"


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


@pytest.fixture
def owner():
    return UserFactory(is_email_verified=True)


@pytest.fixture
def service_app(owner):
    """A confidential client-credentials app, owned by a user it acts for."""
    secret = secrets.token_urlsafe(32)
    app = Application.objects.create(
        name="Inventory sync",
        user=owner,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=secret,
    )
    return app, secret


def client_credentials_token(app: Application, secret: str, scope: str) -> str:
    response = Client().post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": scope},
        HTTP_AUTHORIZATION=basic(app.client_id, secret),
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def test_client_credentials_read_token_reads_but_cannot_write(service_app, owner):
    token = client_credentials_token(*service_app, scope="read")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    read = api.get("/api/accounts/me/")
    write = api.patch("/api/accounts/me/", {"first_name": "Changed"}, format="json")

    assert read.status_code == 200
    assert read.json()["id"] == owner.pk  # acts as the application's owner
    assert write.status_code == 403
    assert write.json()["code"] == "permission_denied"
    assert "write" in write.json()["message"]
    owner.refresh_from_db()
    assert owner.first_name != "Changed"


def test_a_token_in_the_url_or_the_body_is_not_taken(service_app):
    """Only the Authorization header carries a token: one in the query string would be written
    to every access log on the way."""
    token = client_credentials_token(*service_app, scope="read write")
    api = APIClient()

    in_query = api.get(f"/api/accounts/me/?access_token={token}")
    in_body = api.post("/api/cart/add/", {"access_token": token}, format="json")

    assert in_query.status_code == 401
    assert in_query.json()["code"] == "not_authenticated"
    assert in_body.status_code == 401


def test_write_scope_allows_writes(service_app):
    token = client_credentials_token(*service_app, scope="read write")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    assert api.patch("/api/accounts/me/", {"first_name": "Sync"}, format="json").status_code == 200


def test_introspection_and_revocation(service_app):
    app, secret = service_app
    token = client_credentials_token(app, secret, scope="read")

    introspected = Client().post(
        "/o/introspect/", {"token": token}, HTTP_AUTHORIZATION=basic(app.client_id, secret)
    )
    assert introspected.status_code == 200
    assert introspected.json()["active"] is True
    assert introspected.json()["scope"] == "read"

    revoked = Client().post(
        "/o/revoke_token/", {"token": token}, HTTP_AUTHORIZATION=basic(app.client_id, secret)
    )
    assert revoked.status_code == 200
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = api.get("/api/accounts/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_authorization_code_with_pkce():
    person = UserFactory(is_email_verified=True)
    app = Application.objects.create(
        name="Partner SPA",
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=REDIRECT_URI,
    )
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    browser = Client()
    browser.force_login(person)
    params = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "read write",
        "state": "st4te",
        "code_challenge": challenge.decode(),
        "code_challenge_method": "S256",
    }

    consent = browser.get("/o/authorize/", params)
    assert consent.status_code == 200
    approved = browser.post("/o/authorize/", {**params, "allow": "Authorize"})
    assert approved.status_code == 302
    query = parse_qs(urlsplit(approved["Location"]).query)
    assert query["state"] == ["st4te"]

    without_verifier = Client().post(
        "/o/token/",
        {
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": REDIRECT_URI,
            "client_id": app.client_id,
        },
    )
    assert without_verifier.status_code == 400
    exchanged = Client().post(
        "/o/token/",
        {
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": REDIRECT_URI,
            "client_id": app.client_id,
            "code_verifier": verifier,
        },
    )
    assert exchanged.status_code == 200, exchanged.content

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {exchanged.json()['access_token']}")
    assert api.get("/api/accounts/me/").json()["id"] == person.pk


def test_an_unknown_bearer_token_is_401(api_client: APIClient):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer definitely-not-issued")

    response = api_client.get("/api/accounts/me/")

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"
