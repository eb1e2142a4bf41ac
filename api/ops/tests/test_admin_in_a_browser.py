"""The admin as staff see it, in headless Chromium at 1280 x 900: every change list shows all its
columns (no horizontal scroll hiding totals and statuses), read-only pages offer no Save
button, and names read right. Screenshots land in var/screenshots/admin-*.png."""

import shutil
from pathlib import Path

import pytest

from accounts.models import ActivityLog, User
from accounts.services import record_activity
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from authentication.models import ExternalIdentity
from orders.tests.factories import paid_checkout, place_checkout
from payments.tests.factories import open_payment
from products.tests.factories import make_product
from stores.tests.factories import StoreFactory

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = Path(__file__).resolve().parents[3] / "var" / "screenshots"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        CHROMIUM is None, reason="needs Chromium (Debian: apt-get install chromium)"
    ),
]

CHANGE_LISTS = [
    "orders/order",
    "orders/checkout",
    "payments/payment",
    "products/product",
    "products/size",
    "products/stockmovement",
    "accounts/user",
    "accounts/activitylog",
    "stores/store",
    "notifications/userevent",
    "authentication/externalidentity",
]


@pytest.fixture
def staff_browser(live_server, monkeypatch, settings):
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop in this thread
    settings.CSRF_COOKIE_SECURE = settings.SESSION_COOKIE_SECURE = False  # http live server
    User.objects.create_superuser("ops@sudamall.local", password=DEFAULT_PASSWORD)
    buyer = UserFactory(email="amna.osman@example.com", first_name="Amna", last_name="Osman")
    store = StoreFactory(name="Khartoum Leather Works")
    for n in range(3):
        product = make_product(store, name=f"Hand-stitched leather sandals, size set {n}")
        paid_checkout(buyer, product, quantity=2)
        open_payment(buyer, product)
    place_checkout(buyer, make_product(store, name="Karkade (hibiscus) 500 g"))
    record_activity(user=buyer, action=ActivityLog.Action.LOGIN)
    ExternalIdentity.objects.create(
        user=buyer, provider="google", subject="110169484474386276334", email=buyer.email
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", "ops@sudamall.local")
        page.fill("#id_password", DEFAULT_PASSWORD)
        page.click("input[type=submit]")
        yield page, live_server.url
        browser.close()


def test_change_lists_fit_a_1280_pixel_screen(staff_browser):
    page, base = staff_browser
    SHOTS.mkdir(parents=True, exist_ok=True)
    overflowing = {}
    for change_list in CHANGE_LISTS:
        page.goto(f"{base}/admin/{change_list}/")
        assert page.locator("#result_list").count() == 1, change_list  # rows to look at
        table, room = page.evaluate(
            "[document.querySelector('#result_list').scrollWidth,"
            " document.querySelector('.results').clientWidth]"
        )
        if table > room:
            overflowing[change_list] = (table, room)
        page.screenshot(path=str(SHOTS / f"admin-{change_list.replace('/', '-')}.png"))

    assert overflowing == {}


def test_read_only_pages_offer_no_save_button(staff_browser):
    page, base = staff_browser
    for change_list in ("orders/order", "payments/payment", "products/stockmovement"):
        page.goto(f"{base}/admin/{change_list}/")
        page.locator("#result_list tbody tr th a").first.click()

        assert page.locator("input[name=_save]").count() == 0, change_list
        assert page.locator("input[name=_continue]").count() == 0, change_list


def test_names_read_right(staff_browser):
    page, base = staff_browser
    page.goto(f"{base}/admin/")

    text = page.inner_text("#content")
    assert "External identities" in text
    assert "identitys" not in text
    assert page.title() == "Marketplace | Sudamall admin"
