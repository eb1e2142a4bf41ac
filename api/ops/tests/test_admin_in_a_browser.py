"""The admin as staff see it, in headless Chromium at 1280 x 900: every change list shows all its
columns (no horizontal scroll hiding totals and statuses), read-only pages offer no Save
button, and names read right. Screenshots land in var/screenshots/admin-*.png."""

import pytest
from django.utils import timezone

from accounts.models import ActivityLog, User
from accounts.services import record_activity
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from authentication.models import ExternalIdentity
from chat import services as chat_services
from core.tests.browser import SCREENSHOTS, chromium_page, needs_chromium
from notifications.models import Campaign, Subscriber, Suppression, Template, TrackingEvent
from notifications.seeds import seed as seed_email_templates
from orders.tests.factories import paid_checkout, place_checkout
from payments.tests.factories import open_payment
from products.tests.factories import make_product
from search.models import SearchQuery, SynonymGroup
from stores.tests.factories import StoreFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True), needs_chromium]


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
    "notifications/notification",
    "notifications/template",
    "notifications/asset",
    "notifications/dispatch",
    "post_office/email",
    "notifications/subscriber",
    "notifications/suppression",
    "notifications/trackingevent",
    "notifications/campaign",
    "authentication/externalidentity",
    "search/searchquery",
    "search/synonymgroup",
    "chat/conversation",
    "chat/message",
    "chat/report",
]


@pytest.fixture
def staff_browser(live_server, settings):
    settings.CSRF_COOKIE_SECURE = settings.SESSION_COOKIE_SECURE = False  # http live server
    settings.HOLD_MAX_OPEN_CHECKOUTS = 10  # one buyer with a page of unpaid checkouts
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
    for text, found in (("صندل جلد", 3), ("sandals", 3), ("markoub snake skin", 0)):
        SearchQuery.objects.create(text=text, results=found, backend="database", latency_ms=12)
    SynonymGroup.objects.create(words="جوال, موبايل, هاتف")
    seed_email_templates()
    Subscriber.objects.create(address=buyer.email, user=buyer, status="subscribed")
    Suppression.objects.create(address="gone@example.com", reason="bounced", detail="550 5.1.1")
    TrackingEvent.objects.create(
        provider="mailgun", event_id="mg-1", event_type="delivered", recipient=buyer.email,
        message_id="<20261130.1@mg.example>",
    )  # fmt: skip
    Campaign.objects.create(name="Ramadan offers", scheduled_at=timezone.now(),
                            template=Template.objects.get(name="newsletter.ar"))  # fmt: skip
    talk, _ = chat_services.start_conversation(
        buyer=buyer, store=store, message="هل المقاس 42 متوفر؟"
    )
    reply, _ = chat_services.send_message(
        conversation=talk, sender=store.owner, body="Yes — call 0912 345 678 to arrange delivery"
    )
    chat_services.report_message(
        message=reply, user=buyer, reason="scam", note="asks to pay off-site"
    )
    with chromium_page() as page:
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", "ops@sudamall.local")
        page.fill("#id_password", DEFAULT_PASSWORD)
        page.click("input[type=submit]")
        yield page, live_server.url


def test_change_lists_fit_a_1280_pixel_screen(staff_browser):
    page, base = staff_browser
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
        page.screenshot(path=str(SCREENSHOTS / f"admin-{change_list.replace('/', '-')}.png"))

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
