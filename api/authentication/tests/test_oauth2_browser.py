"""The OAuth2 sign-in and consent pages in a real browser (headless Chromium, driven by
Playwright): what a buyer sees when a partner app sends them to Sudamall. Screenshots of both
pages are kept in var/screenshots/ for a person to look at."""

import pytest
from oauth2_provider.models import Application

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from core.tests.browser import SCREENSHOTS, chromium_page, needs_chromium

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True), needs_chromium]

REDIRECT_URI = "https://partner.example.com/callback"


@pytest.fixture
def browser_page():
    with chromium_page() as page:
        yield page


def test_a_buyer_signs_in_and_approves_a_partner_app_in_chromium(
    live_server, browser_page, settings
):
    settings.CSRF_COOKIE_SECURE = settings.SESSION_COOKIE_SECURE = False  # http live server
    UserFactory(email="amna@example.com", first_name="Amna", is_email_verified=True)
    app = Application.objects.create(
        name="Souq Partner",
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=REDIRECT_URI,
    )
    page = browser_page
    # The partner's callback never leaves the machine: the browser's request is answered here.
    page.route(f"{REDIRECT_URI}**", lambda route: route.fulfill(status=200, body="partner"))

    page.goto(
        f"{live_server.url}/o/authorize/?response_type=code&client_id={app.client_id}"
        f"&redirect_uri={REDIRECT_URI}&scope=read+write&state=xyz"
        "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
    )
    assert page.get_by_role("heading", name="Sign in").is_visible()
    assert "to continue to Souq Partner" in page.inner_text("main")
    page.screenshot(path=str(SCREENSHOTS / "oauth2-sign-in.png"), full_page=True)
    page.get_by_label("Email").fill("amna@example.com")
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    heading = page.get_by_role("heading", name="Allow Souq Partner to use your Sudamall account?")
    heading.wait_for()
    assert "Read your data" in page.inner_text("main")
    page.screenshot(path=str(SCREENSHOTS / "oauth2-consent.png"), full_page=True)
    with page.expect_request(lambda request: request.url.startswith(REDIRECT_URI)) as callback:
        page.get_by_role("button", name="Allow").click()

    assert "code=" in callback.value.url
    assert "state=xyz" in callback.value.url
