"""The test gateway: API.md's cards, for development and the test suite. No money moves.

``4242424242424242`` succeeds, ``4000000000000002`` is declined, ``4000000000009995`` fails
with insufficient funds; any other number is declined as unknown. Its webhook is signed like
Stripe's: ``X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>``.
Off in production unless ``PAYMENT_TEST_GATEWAY_ENABLED`` says otherwise.
"""

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Mapping
from typing import Any

from django.conf import settings

from payments.exceptions import InvalidWebhook
from payments.gateways.base import (
    EventOutcome,
    GatewayResult,
    PaymentGateway,
    VerifiedEvent,
)

SUCCESS_CARD = "4242424242424242"
DECLINED_CARDS = {
    "4000000000000002": ("card_declined", "Your card was declined."),
    "4000000000009995": ("insufficient_funds", "Your card has insufficient funds."),
}
SIGNATURE_HEADER = "X-Signature"
TOLERANCE_SECONDS = 300


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """The ``X-Signature`` value for ``body``: what the provider (or a test) sends."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify_signature(body: bytes, header: str, secret: str, tolerance: int) -> None:
    """Raises InvalidWebhook unless ``header`` signs ``body`` with ``secret`` within
    ``tolerance`` seconds of now (either side: a clock running ahead is no excuse)."""
    if not secret:
        raise InvalidWebhook("Webhooks of this gateway are not configured here.")
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    raw = parts.get("t", [""])[0]
    try:
        if len(raw) > 12:  # seconds since 1970 fit in 12 digits for a long while yet
            raise ValueError(raw)
        timestamp = int(raw)
    except ValueError as exc:
        raise InvalidWebhook("The signature header has no valid timestamp.") from exc
    if abs(time.time() - timestamp) > tolerance:
        raise InvalidWebhook("The signature's timestamp is outside the tolerance.")
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    if not any(hmac.compare_digest(expected.hexdigest(), v) for v in parts.get("v1", [])):
        raise InvalidWebhook()


class TestGateway(PaymentGateway):
    name = "test"

    def is_enabled(self) -> bool:
        return bool(settings.PAYMENT_TEST_GATEWAY_ENABLED)

    def create(self, payment: Any) -> GatewayResult:
        reference = f"tp_{uuid.uuid4().hex}"
        return GatewayResult(
            status="pending", reference=reference, response={"id": reference, "status": "open"}
        )

    def confirm(self, payment: Any, data: Mapping[str, Any]) -> GatewayResult:
        number = str(data.get("card_number", ""))
        card = {"last4": number[-4:], "brand": "visa" if number.startswith("4") else "unknown"}
        if number == SUCCESS_CARD:
            charge = f"tch_{uuid.uuid4().hex}"
            return GatewayResult(
                status="succeeded",
                capture_reference=charge,
                response={"id": payment.provider_reference, "charge": charge, "card": card},
            )
        code, message = DECLINED_CARDS.get(number, ("card_declined", "Unknown test card."))
        return GatewayResult(
            status="failed",
            error_code=code,
            message=message,
            response={"id": payment.provider_reference, "error": code, "card": card},
        )

    def cancel(self, payment: Any) -> GatewayResult:
        return GatewayResult(status="cancelled", response={"id": payment.provider_reference})

    def refund(self, payment: Any, refund: Any) -> GatewayResult:
        reference = f"tre_{uuid.uuid4().hex}"
        return GatewayResult(
            status="succeeded",
            reference=reference,
            response={"id": reference, "amount": str(refund.amount), "status": "succeeded"},
        )

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> VerifiedEvent:
        verify_signature(
            body,
            headers.get(SIGNATURE_HEADER, ""),
            settings.PAYMENT_TEST_WEBHOOK_SECRET,
            TOLERANCE_SECONDS,
        )
        try:
            event = json.loads(body)
            event_id, event_type = event["id"], event["type"]
            if not isinstance(event_id, str) or not isinstance(event_type, str) or not event_id:
                raise TypeError
            if not isinstance(event.get("data", {}), dict):
                raise TypeError
        except (ValueError, KeyError, TypeError, RecursionError) as exc:
            raise InvalidWebhook(
                "The event must be {id, type, data: {payment_id}}.", code="invalid"
            ) from exc
        return VerifiedEvent(event_id=event_id[:255], type=event_type[:100], payload=event)

    def interpret_event(self, event_type: str, payload: Mapping[str, Any]) -> EventOutcome:
        outcome = {"payment.succeeded": "succeeded", "payment.failed": "failed"}.get(event_type)
        payment_id = payload.get("data", {}).get("payment_id")
        if outcome is None or not isinstance(payment_id, int) or isinstance(payment_id, bool):
            return EventOutcome()
        return EventOutcome(
            outcome=outcome,
            payment_id=payment_id,
            error_code="card_declined" if outcome == "failed" else "",
        )
