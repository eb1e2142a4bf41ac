"""Stripe, through the official SDK and PaymentIntents.

An intent is created per payment with an idempotency key (a retried create can't open two),
the amount in the currency's smallest unit, and our ids in its metadata. The client confirms it
with Stripe.js using ``client_secret`` (3-D Secure and the like happen there: the intent is then
``requires_action``) or sends us a ``payment_method`` to confirm server-side; either way Stripe's
webhook (``payment_intent.succeeded`` / ``payment_failed`` / ``canceled``), verified with the
SDK's ``Stripe-Signature`` check, is the authority. An open intent is cancelled when the window
closes. Refunds carry the refund's own idempotency key.

The SDK's HTTP goes through ``http_client`` (httpx) — the one seam the tests replace, serving
Stripe's API locally with its real request and response formats.
"""

import logging
from collections.abc import Mapping
from typing import Any

import httpx
import stripe
from django.conf import settings

from payments.exceptions import InvalidWebhook, PaymentGatewayError
from payments.gateways.base import (
    EventOutcome,
    GatewayResult,
    PaymentGateway,
    VerifiedEvent,
    refund_key,
    to_minor_units,
)

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "Stripe-Signature"
TOLERANCE_SECONDS = 300
# Calls run inside web requests: with the SDK's two retries a hung Stripe holds a request for
# about half a minute at most, not the minutes of the SDK's own 80 s default.
http_client = httpx.Client(timeout=httpx.Timeout(8.0, connect=3.0))

# PaymentIntent status → Payment status.
STATUSES = {
    "requires_payment_method": "pending",
    "requires_confirmation": "pending",
    "processing": "pending",
    "requires_capture": "pending",
    "requires_action": "requires_action",
    "succeeded": "succeeded",
    "canceled": "cancelled",
}


class _HttpxClient(stripe.HTTPClient):
    """The SDK's transport over our httpx client (sync only)."""

    name = "sudamall-httpx"

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[str, int, Mapping[str, str]]:
        try:
            response = http_client.request(
                method, url, headers=dict(headers or {}), content=post_data
            )
        except httpx.HTTPError as exc:
            # should_retry: the SDK retries (max_network_retries) only errors flagged so, as its
            # own clients flag every network error. Safe: each retry of a POST carries the same
            # Idempotency-Key, so Stripe replays work it already did instead of redoing it.
            raise stripe.APIConnectionError(
                f"Stripe unreachable: {type(exc).__name__}", should_retry=True
            ) from exc
        return response.text, response.status_code, response.headers

    def request_stream(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover
        raise NotImplementedError("streaming is not used")

    def close(self) -> None:  # the module's client lives as long as the process
        pass


def _client() -> stripe.StripeClient:
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        http_client=_HttpxClient(),
        max_network_retries=2,
        stripe_version=settings.STRIPE_API_VERSION or None,
    )


def _intent_result(intent: Any) -> GatewayResult:
    data = intent.to_dict() if hasattr(intent, "to_dict") else dict(intent)
    status = STATUSES.get(data.get("status", ""), "pending")
    error = data.get("last_payment_error") or {}
    if status == "pending" and data.get("status") == "requires_payment_method" and error:
        status = "failed"  # the payment method was declined; a new one may be attached
    return GatewayResult(
        status=status,
        reference=data.get("id", ""),
        capture_reference=data.get("latest_charge") or "",
        client_secret=data.get("client_secret") or "",
        error_code=error.get("decline_code") or error.get("code") or "",
        message=error.get("message") or "",
        response=data,
    )


def _gateway_error(exc: stripe.StripeError) -> PaymentGatewayError:
    logger.warning("stripe error", extra={"error_type": type(exc).__name__,
                                          "stripe_code": getattr(exc, "code", "")})  # fmt: skip
    return PaymentGatewayError(details={"provider": "stripe"})


class StripeGateway(PaymentGateway):
    name = "stripe"

    def is_enabled(self) -> bool:
        return bool(settings.STRIPE_SECRET_KEY)

    def create(self, payment: Any) -> GatewayResult:
        try:
            intent = _client().v1.payment_intents.create(
                params={
                    "amount": to_minor_units(payment.amount, payment.currency),
                    "currency": payment.currency.lower(),
                    "automatic_payment_methods": {
                        "enabled": True,
                        # Stripe refuses to confirm an intent that allows redirect-based methods
                        # without a return_url: with none to give, only methods that never leave
                        # the page (cards still do 3-D Secure in place, through Stripe.js).
                        "allow_redirects": "always" if settings.STRIPE_RETURN_URL else "never",
                    },
                    "description": f"Sudamall checkout {payment.checkout_id}",
                    "metadata": {
                        "payment_id": str(payment.pk),
                        "checkout_id": str(payment.checkout_id),
                    },
                },
                options={
                    "idempotency_key": f"{settings.PAYMENT_KEY_PREFIX}-payment-{payment.pk}-create"
                },
            )
        except stripe.StripeError as exc:
            raise _gateway_error(exc) from exc
        return _intent_result(intent)

    def confirm(self, payment: Any, data: Mapping[str, Any]) -> GatewayResult:
        intents = _client().v1.payment_intents
        method = data.get("payment_method")
        tries = payment.attempts.filter(action="confirm").count() + 1
        prefix = settings.PAYMENT_KEY_PREFIX
        params: dict[str, Any] = {"payment_method": str(method)}
        if settings.STRIPE_RETURN_URL:  # where a redirect-based method (3-D Secure) comes back
            params["return_url"] = settings.STRIPE_RETURN_URL
        try:
            if method:
                intent = intents.confirm(
                    payment.provider_reference,
                    params=params,  # type: ignore[arg-type]
                    # One key per try: the SDK's retries of this call share it, while a new
                    # try after a decline isn't answered with the stored decline.
                    options={"idempotency_key": f"{prefix}-payment-{payment.pk}-confirm-{tries}"},
                )
            else:
                intent = intents.retrieve(payment.provider_reference)
        except stripe.CardError as exc:
            error = exc.error
            return GatewayResult(
                status="failed",
                reference=payment.provider_reference,
                error_code=(error.decline_code or error.code or "card_declined")
                if error
                else "card_declined",
                message=(error.message or "") if error else "",
                response=exc.json_body if isinstance(exc.json_body, dict) else {},
            )
        except stripe.InvalidRequestError as exc:
            # Already succeeded (an earlier try whose answer was lost) or cancelled: what is it?
            if getattr(exc, "code", "") != "payment_intent_unexpected_state":
                raise _gateway_error(exc) from exc
            try:
                intent = intents.retrieve(payment.provider_reference)
            except stripe.StripeError as again:
                raise _gateway_error(again) from again
        except stripe.StripeError as exc:
            raise _gateway_error(exc) from exc
        return _intent_result(intent)

    def cancel(self, payment: Any) -> GatewayResult:
        intents = _client().v1.payment_intents
        try:
            return _intent_result(
                intents.cancel(
                    payment.provider_reference,
                    params={"cancellation_reason": "abandoned"},
                )
            )
        except stripe.InvalidRequestError as exc:
            # Already succeeded, processing or cancelled: what is it now?
            if getattr(exc, "code", "") != "payment_intent_unexpected_state":
                raise _gateway_error(exc) from exc
        except stripe.StripeError as exc:
            raise _gateway_error(exc) from exc
        try:
            return _intent_result(intents.retrieve(payment.provider_reference))
        except stripe.StripeError as exc:
            raise _gateway_error(exc) from exc

    def refund(self, payment: Any, refund: Any) -> GatewayResult:
        try:
            created = _client().v1.refunds.create(
                params={
                    "payment_intent": payment.provider_reference,
                    "amount": to_minor_units(refund.amount, refund.currency),
                    "metadata": {"refund_id": str(refund.pk), "payment_id": str(payment.pk)},
                },
                options={"idempotency_key": refund_key(refund)},
            )
        except stripe.InvalidRequestError as exc:
            return GatewayResult(status="failed", error_code=exc.code or "invalid_request",
                                 message=str(exc.user_message or ""))  # fmt: skip
        except stripe.StripeError as exc:
            raise _gateway_error(exc) from exc
        data = created.to_dict()
        # "pending" refunds are accepted by Stripe and complete on their own.
        status = "failed" if data.get("status") in ("failed", "canceled") else "succeeded"
        return GatewayResult(status=status, reference=data.get("id", ""), response=data,
                             message=data.get("failure_reason") or "")  # fmt: skip

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> VerifiedEvent:
        try:
            event = stripe.Webhook.construct_event(
                body,
                headers.get(SIGNATURE_HEADER, ""),
                settings.STRIPE_WEBHOOK_SECRET,
                tolerance=TOLERANCE_SECONDS,
            )
        except stripe.SignatureVerificationError as exc:
            raise InvalidWebhook() from exc
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise InvalidWebhook("The body is not a Stripe event.", code="invalid") from exc
        data = event.to_dict()
        if not data.get("id") or not data.get("type"):
            raise InvalidWebhook("The body is not a Stripe event.", code="invalid")
        return VerifiedEvent(event_id=data["id"], type=data["type"], payload=data)

    def interpret_event(self, event_type: str, payload: Mapping[str, Any]) -> EventOutcome:
        intent = (payload.get("data") or {}).get("object") or {}
        if intent.get("object") != "payment_intent" or not intent.get("id"):
            return EventOutcome()
        outcome = {
            "payment_intent.succeeded": "succeeded",
            "payment_intent.payment_failed": "failed",
            "payment_intent.canceled": "cancelled",
            "payment_intent.requires_action": "requires_action",
        }.get(event_type, "")
        error = intent.get("last_payment_error") or {}
        return EventOutcome(
            outcome=outcome,
            # A failed attempt leaves the intent open for another payment method.
            terminal=False,
            provider_reference=intent["id"],
            capture_reference=intent.get("latest_charge") or "",
            error_code=error.get("decline_code") or error.get("code") or "",
            message=error.get("message") or "",
        )
