"""The OAuth2 authorization code flow as third-party clients meet it: authlib over HTTP against a
live server, a person signing in on the project's own page (any verified user, not only staff)
and approving on the consent page, then the token calling the API."""

import re
import secrets
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.integrations.requests_client import OAuth2Session as OAuth2Client
from oauth2_provider.models import Application

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

REDIRECT_URI = "https://partner.example.com/callback"


@pytest.fixture(autouse=True)
def _plain_http_for_the_live_server(monkeypatch, settings):
    """The live server speaks http; production cookies are Secure (https only)."""
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    settings.CSRF_COOKIE_SECURE = settings.SESSION_COOKIE_SECURE = False


@pytest.fixture
def partner_app() -> Application:
    return Application.objects.create(
        name="Souq Partner",
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=REDIRECT_URI,
    )


def csrf_form(html: str) -> dict[str, str]:
    """The hidden inputs of the page's form, the CSRF token among them."""
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html)
    fields += [
        (n, v) for v, n in re.findall(r'<input[^>]*value="([^"]*)"[^>]*name="([^"]+)"', html)
    ]
    return {name: value.replace("&amp;", "&") for name, value in fields}


class Browser:
    """What a person's browser does on our pages: keep cookies, follow our redirects, submit
    forms — and stop at the partner's redirect URI."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, follow_redirects=False, timeout=10)

    def visit(self, url: str) -> httpx.Response:
        response = self.http.get(url)
        while response.is_redirect and not response.headers["location"].startswith(REDIRECT_URI):
            response = self.http.get(response.headers["location"])
        return response

    def submit(self, page: httpx.Response, **fields: str) -> httpx.Response:
        data = {**csrf_form(page.text), **fields}
        response = self.http.post(str(page.url), data=data)
        if response.is_redirect and not response.headers["location"].startswith(REDIRECT_URI):
            return self.visit(response.headers["location"])
        return response


def authorize(live_server, app: Application, email: str, password: str) -> tuple:
    """Run the flow up to the partner's callback; returns (authlib client, verifier, browser,
    the response to the consent form or to the sign-in form if it stopped there)."""
    verifier = secrets.token_urlsafe(48)
    client = OAuth2Client(
        client_id=app.client_id,
        redirect_uri=REDIRECT_URI,
        scope="read write",
        code_challenge_method="S256",
    )
    url, _ = client.create_authorization_url(
        f"{live_server.url}/o/authorize/", code_verifier=verifier
    )
    browser = Browser(live_server.url)
    sign_in = browser.visit(url)
    assert sign_in.status_code == 200
    assert "/o/sign-in/" in str(sign_in.url)
    assert "Souq Partner" in sign_in.text  # "to continue to ..."
    consent = browser.submit(sign_in, email=email, password=password)
    return client, verifier, browser, consent


def test_a_verified_buyer_authorizes_an_app_with_pkce_and_the_app_calls_the_api(
    live_server, partner_app
):
    buyer = UserFactory(email="amna@example.com", is_email_verified=True, account_type="buyer")

    client, verifier, browser, consent = authorize(
        live_server, partner_app, "amna@example.com", DEFAULT_PASSWORD
    )
    assert consent.status_code == 200
    assert "Allow Souq Partner to use your Sudamall account?" in consent.text
    assert "amna@example.com" in consent.text
    assert "Read your data" in consent.text
    assert "Change your data" in consent.text
    callback = browser.submit(consent, allow="Authorize")
    assert callback.status_code == 302
    location = callback.headers["location"]
    assert location.startswith(REDIRECT_URI)
    token = client.fetch_token(
        f"{live_server.url}/o/token/", authorization_response=location, code_verifier=verifier
    )
    me = client.get(f"{live_server.url}/api/accounts/me/")

    assert token["token_type"] == "Bearer"
    assert set(token["scope"].split()) == {"read", "write"}
    assert me.status_code == 200
    assert me.json()["id"] == buyer.pk


def test_a_store_owner_can_too(live_server, partner_app):
    UserFactory(email="owner@example.com", is_email_verified=True, account_type="business_owner")

    *_, consent = authorize(live_server, partner_app, "owner@example.com", DEFAULT_PASSWORD)

    assert consent.status_code == 200
    assert "Allow Souq Partner" in consent.text


def test_cancelling_on_the_consent_page_tells_the_app_access_was_denied(live_server, partner_app):
    UserFactory(email="amna@example.com", is_email_verified=True)
    _, _, browser, consent = authorize(
        live_server, partner_app, "amna@example.com", DEFAULT_PASSWORD
    )

    denied = browser.submit(consent)  # "Cancel": the form without "allow"

    assert parse_qs(urlsplit(denied.headers["location"]).query)["error"] == ["access_denied"]


def test_wrong_password_and_unverified_email_stay_on_the_sign_in_page(live_server, partner_app):
    UserFactory(email="amna@example.com", is_email_verified=True)
    UserFactory(email="new@example.com", is_email_verified=False)

    *_, wrong = authorize(live_server, partner_app, "amna@example.com", "not-the-password")
    *_, unverified = authorize(live_server, partner_app, "new@example.com", DEFAULT_PASSWORD)

    assert wrong.status_code == 400
    assert "don&#x27;t match an account" in wrong.text
    assert unverified.status_code == 403
    assert "Verify your email address first" in unverified.text


def test_repeated_wrong_passwords_are_limited_like_the_api_login(
    live_server, partner_app, settings
):
    settings.LOGIN_FAILURES_PER_EMAIL = 3
    UserFactory(email="amna@example.com", is_email_verified=True)

    statuses = [
        authorize(live_server, partner_app, "amna@example.com", "wrong")[3].status_code
        for _ in range(4)
    ]
    *_, even_right = authorize(live_server, partner_app, "amna@example.com", DEFAULT_PASSWORD)

    assert statuses == [400, 400, 400, 429]
    assert even_right.status_code == 429
    assert int(even_right.headers["Retry-After"]) > 0


def test_the_sign_in_form_refuses_a_post_without_its_csrf_token(live_server):
    UserFactory(email="amna@example.com", is_email_verified=True)

    response = httpx.post(
        f"{live_server.url}/o/sign-in/",
        data={"email": "amna@example.com", "password": DEFAULT_PASSWORD},
    )

    assert response.status_code == 403


@pytest.mark.parametrize("next_url", ["https://evil.example.com/", "//evil.example.com/x"])
def test_signing_in_never_redirects_off_the_site(live_server, next_url):
    UserFactory(email="amna@example.com", is_email_verified=True)
    browser = Browser(live_server.url)
    page = browser.visit(f"/o/sign-in/?next={next_url}")

    after = browser.http.post(
        "/o/sign-in/",
        data={**csrf_form(page.text), "email": "amna@example.com", "password": DEFAULT_PASSWORD,
              "next": next_url},
    )  # fmt: skip

    assert after.status_code == 302
    assert after.headers["location"] == "/o/signed-in/"


def test_the_admin_offers_only_the_grants_that_work(admin_client):
    page = admin_client.get("/admin/oauth2_provider/application/add/")

    offered = set(
        re.findall(r'name="authorization_grant_type"[^>]*value="([^"]+)"', page.content.decode())
    )

    assert page.status_code == 200
    assert offered == {"authorization-code", "client-credentials"}
    assert 'name="algorithm"' not in page.content.decode()
