"""Swagger UI as an integrator meets it, in headless Chromium: it loads offline from this server,
"Try it out" on the cart fills in a body that works, and money shows as money (no "-" from a
pattern that allowed negatives). A screenshot lands in var/screenshots/swagger-cart-add.png."""

import json

import pytest

from core.tests.browser import SCREENSHOTS, chromium_page, needs_chromium

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True), needs_chromium]


def test_swagger_ui_offers_working_examples_and_plain_money(live_server):
    with chromium_page() as page:
        outside = []
        page.on(
            "request",
            lambda r: outside.append(r.url) if not r.url.startswith(live_server.url) else None,
        )
        page.goto(f"{live_server.url}/api/schema/swagger-ui/")

        operation = page.locator("#operations-cart-cart_add_create")
        operation.wait_for()
        operation.locator(".opblock-summary").click()
        operation.get_by_role("button", name="Try it out").click()
        body = json.loads(operation.locator("textarea.body-param__text").input_value())
        page.screenshot(path=str(SCREENSHOTS / "swagger-cart-add.png"), full_page=False)

        checkout = page.locator("#operations-cart-cart_checkout_create")
        checkout.locator(".opblock-summary").click()
        example_response = checkout.locator(".responses-wrapper .example").first.inner_text()

    assert body == {"product_id": 1, "quantity": 2}
    assert outside == []  # every asset from this server: works offline
    assert '"total": "12.50"' in example_response
    assert '"-"' not in example_response
