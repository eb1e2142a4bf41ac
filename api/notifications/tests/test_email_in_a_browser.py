"""The seeded emails as a person sees them: the Arabic order email, sent through the real path,
read back as MIME, its cid: logo swapped for the image part it names, opened in headless
Chromium at a phone's width. It reads right to left, the stylesheet's phone rule applies, the
logo shows. Screenshots land in var/screenshots/email-*.png."""

import base64
import email
import email.policy

import pytest
from django.core import mail

from accounts.tests.factories import UserFactory
from core.tests.browser import SCREENSHOTS, chromium_page, needs_chromium
from notifications import services
from notifications.seeds import seed

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True), needs_chromium]

ORDER = {
    "first_name": "آمنة", "checkout_id": 5, "minutes": 15, "deadline": "2026-11-30 14:05",
    "total": "12500.00", "currency": "SDG",
    "orders": [{"number": "SM-00000017", "store": "تمور كسلا",
                "lines": [{"name": "عجوة تمر", "size": "1 كغ", "quantity": 2,
                           "line_total": "9000.00"},
                          {"name": "كركدي", "size": "", "quantity": 1, "line_total": "3500.00"}]}],
}  # fmt: skip


def as_a_mail_client_shows_it(message) -> str:
    parsed = email.message_from_bytes(message.message().as_bytes(), policy=email.policy.default)
    html = parsed.get_body(("html",)).get_content()
    for part in parsed.walk():
        if part["Content-ID"]:
            data = base64.b64encode(part.get_content()).decode()
            cid = part["Content-ID"].strip("<>")
            html = html.replace(f"cid:{cid}", f"data:{part.get_content_type()};base64,{data}")
    return html


def test_the_arabic_order_email_reads_right_to_left_on_a_phone():
    seed()
    amna = UserFactory(first_name="آمنة", language="ar")
    services.notify("order_placed", key="order_placed:5", context=ORDER, user_id=amna.pk,
                    address=amna.email, language="ar")  # fmt: skip
    [sent] = mail.outbox
    html = as_a_mail_client_shows_it(sent)
    assert "cid:" not in html  # every image the HTML shows is a part of the message

    with chromium_page(width=390, height=844) as page:
        page.set_content(html)
        direction = page.evaluate("getComputedStyle(document.body).direction")
        card_padding = page.evaluate(
            "getComputedStyle(document.querySelector('table.card')).paddingLeft"
        )
        logo_width = page.evaluate("document.querySelector('img').naturalWidth")
        page.screenshot(path=str(SCREENSHOTS / "email-order_placed-ar.png"), full_page=True)

    assert direction == "rtl"
    assert card_padding == "16px"  # the stylesheet's @media (max-width: 600px) rule, kept
    assert logo_width == 160  # the logo part decoded and shown
    assert "عجوة تمر" in html
