"""Shared by the payments tests: the test cards, the payment endpoints, and webhooks signed like a
provider would."""

import json
from typing import Any

from django.conf import settings
from rest_framework.test import APIClient

from orders.models import Checkout
from payments.gateways import test as test_gateway
from products.models import Product, Size

GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"
NO_FUNDS_CARD = "4000000000009995"


def create(client: APIClient, checkout: Checkout, gateway: str = "test", **headers: str) -> Any:
    return client.post(
        "/api/payments/create/",
        {"checkout_id": checkout.pk, "gateway": gateway},
        format="json",
        headers=headers or None,
    )


def confirm(client: APIClient, payment_id: int, card: str = GOOD_CARD, **headers: str) -> Any:
    return client.post(
        "/api/payments/confirm/",
        {"payment_id": payment_id, "card_number": card},
        format="json",
        headers=headers or None,
    )


def signed_webhook(
    client: APIClient,
    event: dict[str, Any],
    *,
    secret: str | None = None,
    timestamp: int | None = None,
    body: bytes | None = None,
) -> Any:
    """POST the test gateway's webhook, signed over the exact bytes sent."""
    raw = json.dumps(event).encode() if body is None else body
    signature = test_gateway.sign(
        json.dumps(event).encode() if body is not None else raw,
        settings.PAYMENT_TEST_WEBHOOK_SECRET if secret is None else secret,
        timestamp,
    )
    return client.generic(
        "POST",
        "/api/payments/webhook/",
        raw,
        content_type="application/json",
        headers={"X-Signature": signature},
    )


def stock(product: Product) -> tuple[int, int]:
    """(on hand, reserved) of a product's only size."""
    size = Size.objects.get(product=product)
    return size.on_hand, size.reserved
