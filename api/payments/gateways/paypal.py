"""PayPal, through its REST API (Orders v2) over httpx.

Create opens a PayPal order for the checkout's amount (``PayPal-Request-Id`` makes a retry
return the same order) and hands the buyer its approval URL; once approved, confirm captures it
(``CHECKOUT.ORDER.APPROVED`` arriving first captures it too). Refunds go against the capture.

Webhooks are verified locally, per PayPal's documented scheme: the signature
(``PAYPAL-TRANSMISSION-SIG``, RSA-SHA256) covers
``<transmission id>|<transmission time>|<webhook id>|<CRC32 of the raw body>`` and is checked
with the certificate at ``PAYPAL-CERT-URL``, which must be served by PayPal over HTTPS. The
transmission time must be within PayPal's redelivery period (it resends a failed delivery for
three days, and does not document whether a resend is signed anew): a captured delivery older
than that is refused, and a replay within it is the same event id, which the inbox stores once.

``http_client`` is the one seam tests replace, serving PayPal's API and certificate locally.
"""

import base64
import binascii
import json
import logging
import zlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.conf import settings
from django.core.cache import cache

from payments.exceptions import InvalidWebhook, PaymentGatewayError
from payments.gateways.base import (
    EventOutcome,
    GatewayResult,
    PaymentGateway,
    VerifiedEvent,
    refund_key,
)

logger = logging.getLogger(__name__)

http_client = httpx.Client(timeout=httpx.Timeout(10.0, connect=3.0))
TOKEN_CACHE_KEY = "paypal:access-token"  # noqa: S105 - a cache key, not a secret
CERT_HOSTS = frozenset(
    {"api.paypal.com", "api-m.paypal.com", "api.sandbox.paypal.com", "api-m.sandbox.paypal.com"}
)
CERT_PATH = "/v1/notifications/certs/"
TOLERANCE_SECONDS = 4 * 24 * 3600  # three days of redeliveries, and a day of clock slack
# PayPal's currency codes reference: "This currency does not support decimals."
NO_DECIMALS = frozenset({"HUF", "JPY", "TWD"})
# What PayPal can charge (its currency codes reference); anything else is refused up front.
CURRENCIES = frozenset(
    [
        "AUD",
        "BRL",
        "CAD",
        "CNY",
        "CZK",
        "DKK",
        "EUR",
        "HKD",
        "HUF",
        "ILS",
        "JPY",
        "MYR",
        "MXN",
        "TWD",
        "NZD",
        "NOK",
        "PHP",
        "PLN",
        "GBP",
        "SGD",
        "SEK",
        "CHF",
        "THB",
        "USD",
    ]
)


def _token(*, fresh: bool = False) -> str:
    token = None if fresh else cache.get(TOKEN_CACHE_KEY)
    if token:
        return str(token)
    try:
        response = http_client.post(
            f"{settings.PAYPAL_API_BASE}/v1/oauth2/token",
            auth=(settings.PAYPAL_CLIENT_ID, settings.PAYPAL_CLIENT_SECRET),
            data={"grant_type": "client_credentials"},
            headers={"Accept": "application/json"},
        )
    except httpx.HTTPError as exc:
        raise PaymentGatewayError(details={"provider": "paypal"}) from exc
    if response.status_code != 200:
        logger.error("paypal refused our credentials", extra={"status": response.status_code})
        raise PaymentGatewayError(details={"provider": "paypal"})
    body = _body(response)
    token, expires_in = body.get("access_token"), body.get("expires_in", 0)
    if not isinstance(token, str) or not isinstance(expires_in, int):
        raise PaymentGatewayError(details={"provider": "paypal"})
    cache.set(TOKEN_CACHE_KEY, token, max(expires_in - 60, 1))
    return token


def _call(method: str, path: str, *, request_id: str = "", json_body: Any = None) -> httpx.Response:
    """One API call with a cached token (renewed once if PayPal says it expired). 5xx and
    network errors raise PaymentGatewayError; 4xx are returned for the caller to read."""
    for fresh in (False, True):
        headers = {
            "Authorization": f"Bearer {_token(fresh=fresh)}",
            "Content-Type": "application/json",
            "Prefer": "return=representation",
        }
        if request_id:
            headers["PayPal-Request-Id"] = request_id
        try:
            response = http_client.request(
                method, f"{settings.PAYPAL_API_BASE}{path}", headers=headers, json=json_body
            )
        except httpx.HTTPError as exc:
            raise PaymentGatewayError(details={"provider": "paypal"}) from exc
        if response.status_code == 401 and not fresh:
            continue
        if response.status_code >= 500 or response.status_code in (401, 403, 429):
            logger.warning("paypal error", extra={"status": response.status_code, "path": path})
            raise PaymentGatewayError(details={"provider": "paypal"})
        return response
    raise PaymentGatewayError(details={"provider": "paypal"})  # pragma: no cover


def _json(response: httpx.Response) -> dict[str, Any]:
    """The answer's JSON object, or a stand-in when PayPal (or a proxy) sent something else."""
    try:
        body = response.json()
    except ValueError:
        return {"status_code": response.status_code}
    return body if isinstance(body, dict) else {"body": body}


def _body(response: httpx.Response) -> dict[str, Any]:
    """A success answer's JSON object; anything else is the provider misbehaving (502)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        logger.warning("paypal answered something that isn't a JSON object")
        raise PaymentGatewayError(details={"provider": "paypal"})
    return body


def _issue(response: httpx.Response) -> str:
    details = _json(response).get("details")
    first = details[0] if isinstance(details, list) and details else {}
    return str(first.get("issue", "")) if isinstance(first, dict) else ""


def _list(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _capture_result(order: Mapping[str, Any]) -> GatewayResult:
    captures = [
        capture
        for unit in _list(order.get("purchase_units"))
        for capture in _list((unit.get("payments") or {}).get("captures"))
    ]
    capture = captures[0] if captures else {}
    status = {"COMPLETED": "succeeded", "PENDING": "pending", "DECLINED": "failed",
              "FAILED": "failed"}.get(capture.get("status", ""), "pending")  # fmt: skip
    return GatewayResult(
        status=status,
        reference=str(order.get("id", "")),
        capture_reference=str(capture.get("id", "")),
        error_code="card_declined" if status == "failed" else "",
        response=dict(order),
    )


def _amount(value: Any, currency: str) -> dict[str, str]:
    currency = currency.upper()
    # PayPal refuses any decimal point in these (DECIMALS_NOT_SUPPORTED), even "100.00". A
    # fractional amount keeps its decimals: PayPal refuses it rather than us rounding the charge.
    places = 0 if currency in NO_DECIMALS and value == int(value) else 2
    return {"currency_code": currency, "value": f"{value:.{places}f}"}


class PayPalGateway(PaymentGateway):
    name = "paypal"

    def is_enabled(self) -> bool:
        return bool(settings.PAYPAL_CLIENT_ID and settings.PAYPAL_CLIENT_SECRET)

    def supports_currency(self, currency: str) -> bool:
        return currency.upper() in CURRENCIES

    def create(self, payment: Any) -> GatewayResult:
        response = _call(
            "POST",
            "/v2/checkout/orders",
            request_id=f"{settings.PAYMENT_KEY_PREFIX}-payment-{payment.pk}-create",
            json_body={
                "intent": "CAPTURE",
                "purchase_units": [
                    {
                        "reference_id": f"checkout-{payment.checkout_id}",
                        "custom_id": str(payment.pk),
                        "invoice_id": f"{settings.PAYMENT_KEY_PREFIX}-payment-{payment.pk}",
                        "amount": _amount(payment.amount, payment.currency),
                    }
                ],
                "payment_source": {
                    "paypal": {
                        "experience_context": {
                            "user_action": "PAY_NOW",
                            "return_url": settings.PAYPAL_RETURN_URL,
                            "cancel_url": settings.PAYPAL_CANCEL_URL,
                        }
                    }
                },
            },
        )
        if response.status_code not in (200, 201):
            logger.warning("paypal refused the order", extra={"issue": _issue(response)})
            raise PaymentGatewayError(details={"provider": "paypal", "issue": _issue(response)})
        order = _body(response)
        if not isinstance(order.get("id"), str):
            raise PaymentGatewayError(details={"provider": "paypal"})
        approve = next(
            (
                str(link.get("href", ""))
                for link in _list(order.get("links"))
                if link.get("rel") in ("payer-action", "approve")
            ),
            "",
        )
        return GatewayResult(
            status="pending", reference=order["id"], approval_url=approve, response=order
        )

    def confirm(self, payment: Any, data: Mapping[str, Any]) -> GatewayResult:
        """Capture the approved order."""
        tries = payment.attempts.filter(action="confirm").count() + 1
        response = _call(
            "POST",
            f"/v2/checkout/orders/{payment.provider_reference}/capture",
            # One id per try, so a new try after the buyer approves again isn't answered with
            # the stored refusal; a try after a lost answer gets ORDER_ALREADY_CAPTURED (below).
            request_id=f"{settings.PAYMENT_KEY_PREFIX}-payment-{payment.pk}-capture-{tries}",
        )
        if response.status_code in (200, 201):
            return _capture_result(_body(response))
        issue = _issue(response)
        if issue == "ORDER_ALREADY_CAPTURED":
            order = _call("GET", f"/v2/checkout/orders/{payment.provider_reference}")
            return _capture_result(_body(order))
        if issue in ("ORDER_NOT_APPROVED", "PAYER_ACTION_REQUIRED"):
            return GatewayResult(
                status="requires_action",
                reference=payment.provider_reference,
                approval_url=payment.approval_url,
                error_code=issue.lower(),
                message="Approve the payment at PayPal first.",
                response=_json(response),
            )
        if issue in ("INSTRUMENT_DECLINED", "TRANSACTION_REFUSED", "PAYER_CANNOT_PAY"):
            return GatewayResult(
                status="failed",
                reference=payment.provider_reference,
                error_code=issue.lower(),
                message="PayPal declined the payment; choose another funding source.",
                response=_json(response),
            )
        logger.warning("paypal capture refused", extra={"issue": issue})
        raise PaymentGatewayError(details={"provider": "paypal", "issue": issue})

    def cancel(self, payment: Any) -> GatewayResult:
        # An uncaptured PayPal order just lapses: nothing to call. Unless it was captured.
        response = _call("GET", f"/v2/checkout/orders/{payment.provider_reference}")
        if response.status_code == 200 and _json(response).get("status") == "COMPLETED":
            return _capture_result(_body(response))
        return GatewayResult(status="cancelled", reference=payment.provider_reference)

    def refund(self, payment: Any, refund: Any) -> GatewayResult:
        response = _call(
            "POST",
            f"/v2/payments/captures/{payment.capture_reference}/refund",
            request_id=refund_key(refund),
            json_body={
                "amount": _amount(refund.amount, refund.currency),
                "invoice_id": refund_key(refund),
                "note_to_payer": (refund.reason or "Refund from Sudamall")[:255],
            },
        )
        if response.status_code not in (200, 201):
            return GatewayResult(status="failed", error_code=_issue(response).lower(),
                                 message=_issue(response), response=_json(response))  # fmt: skip
        body = _body(response)
        status = "failed" if body.get("status") in ("CANCELLED", "FAILED") else "succeeded"
        return GatewayResult(status=status, reference=str(body.get("id", "")), response=body)

    # --- webhooks ---------------------------------------------------------------------------------

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> VerifiedEvent:
        if not settings.PAYPAL_WEBHOOK_ID:
            raise InvalidWebhook("PayPal webhooks are not configured here.")
        transmission_id = headers.get("PAYPAL-TRANSMISSION-ID", "")
        transmission_time = headers.get("PAYPAL-TRANSMISSION-TIME", "")
        signature = headers.get("PAYPAL-TRANSMISSION-SIG", "")
        cert_url = headers.get("PAYPAL-CERT-URL", "")
        algorithm = headers.get("PAYPAL-AUTH-ALGO", "SHA256withRSA")
        if not (transmission_id and transmission_time and signature and cert_url):
            raise InvalidWebhook("PayPal's transmission headers are missing.")
        if algorithm != "SHA256withRSA":
            raise InvalidWebhook("Unsupported signature algorithm.")
        try:
            sent = datetime.fromisoformat(transmission_time.replace("Z", "+00:00"))
        except ValueError as exc:
            raise InvalidWebhook("The transmission time is not a time.") from exc
        if sent.tzinfo is None or abs((datetime.now(UTC) - sent).total_seconds()) > (
            TOLERANCE_SECONDS
        ):
            raise InvalidWebhook("The transmission time is outside the tolerance.")
        message = "|".join(
            [transmission_id, transmission_time, settings.PAYPAL_WEBHOOK_ID, str(zlib.crc32(body))]
        )
        public_key = _certificate_key(cert_url)
        try:
            public_key.verify(
                base64.b64decode(signature, validate=True),
                message.encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except (InvalidSignature, binascii.Error, ValueError) as exc:
            raise InvalidWebhook() from exc
        try:
            event = json.loads(body)
            event_id, event_type = event["id"], event["event_type"]
            if not isinstance(event_id, str) or not isinstance(event_type, str):
                raise TypeError
        except (ValueError, KeyError, TypeError, RecursionError) as exc:
            raise InvalidWebhook("The body is not a PayPal event.", code="invalid") from exc
        return VerifiedEvent(event_id=event_id[:255], type=event_type[:100], payload=event)

    def interpret_event(self, event_type: str, payload: Mapping[str, Any]) -> EventOutcome:
        resource = payload.get("resource") or {}
        if event_type == "CHECKOUT.ORDER.APPROVED" and resource.get("id"):
            return EventOutcome(outcome="approved", provider_reference=str(resource["id"]))
        order_id = ((resource.get("supplementary_data") or {}).get("related_ids") or {}).get(
            "order_id"
        )
        if not order_id:
            return EventOutcome()
        if event_type == "PAYMENT.CAPTURE.COMPLETED":
            return EventOutcome(
                outcome="succeeded",
                provider_reference=str(order_id),
                capture_reference=str(resource.get("id", "")),
            )
        if event_type in ("PAYMENT.CAPTURE.DENIED", "PAYMENT.CAPTURE.DECLINED"):
            return EventOutcome(
                outcome="failed", provider_reference=str(order_id), error_code="capture_denied"
            )
        return EventOutcome()


def _certificate_key(cert_url: str) -> rsa.RSAPublicKey:
    """The public key of PayPal's signing certificate, fetched only from PayPal over HTTPS and
    cached. Anything else is refused: a forger would sign with their own certificate."""
    try:
        parts = urlsplit(cert_url)
        port = parts.port
    except ValueError as exc:
        raise InvalidWebhook("The certificate URL is not a URL.") from exc
    if (
        parts.scheme != "https"
        or parts.hostname not in CERT_HOSTS
        or port not in (None, 443)
        or parts.query
        or parts.fragment
        or parts.username
        or not parts.path.startswith(CERT_PATH)
        or "%" in parts.path
        or ".." in parts.path.split("/")
    ):
        raise InvalidWebhook("The certificate URL is not PayPal's.")
    cache_key = f"paypal:cert:{cert_url}"
    pem = cache.get(cache_key)
    if pem is None:
        try:
            response = http_client.get(cert_url)
        except httpx.InvalidURL as exc:
            raise InvalidWebhook("The certificate URL is not a URL.") from exc
        except httpx.HTTPError as exc:
            raise PaymentGatewayError(details={"provider": "paypal"}) from exc
        if response.status_code != 200:
            raise InvalidWebhook("PayPal's certificate could not be fetched.")
        pem = response.content
        cache.set(cache_key, pem, 24 * 3600)
    try:
        certificate = x509.load_pem_x509_certificate(pem)
    except ValueError as exc:
        raise InvalidWebhook("PayPal's certificate could not be read.") from exc
    now = datetime.now(UTC)
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise InvalidWebhook("PayPal's certificate is not valid now.")
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise InvalidWebhook("PayPal's certificate has no RSA key.")
    return key
