"""A local stand-in for PayPal's REST API, served to the gateway through its ``http_client``.

It speaks PayPal's documented formats: the OAuth2 client-credentials token, Orders v2 (create,
get, capture), captures' refunds, PayPal's error bodies (``name``, ``details[].issue``,
``debug_id``, ``links``) and its ``PayPal-Request-Id`` idempotency. The buyer's side, which
happens at paypal.com, is a method call: ``approve`` (optionally with a funding source that will
be declined). Webhooks are signed with a locally generated RSA key whose self-signed X.509
certificate is served at a PayPal certificate URL, exactly per PayPal's local verification
scheme: RSA-SHA256 over ``<transmission id>|<transmission time>|<webhook id>|<crc32(body)>``.

Every request the fake receives is recorded in ``requests``.

A modelling choice where PayPal's documentation is silent: only successful answers are stored
under a ``PayPal-Request-Id``. PayPal documents the replay for retries after timeouts and 5xx
("returns the latest status of the previous request"); it doesn't say whether a 4xx (an order
not approved yet, a declined instrument) is replayed to a later request with the same id.
"""

import base64
import functools
import json
import secrets
import string
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qs

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

API_BASE = "https://api-m.sandbox.paypal.com"
# HATEOAS links in PayPal's sandbox answers point at this host.
LINK_BASE = "https://api.sandbox.paypal.com"
API_HOSTS = frozenset({"api-m.sandbox.paypal.com", "api.sandbox.paypal.com"})
CHECKOUT_BASE = "https://www.sandbox.paypal.com/checkoutnow"
CERT_URL = "https://api.sandbox.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-1d93a270"
CLIENT_ID = "AWx3sudamallSandboxClientId0123456789abcdefghijklmnopqrstuvwxyzAB"
CLIENT_SECRET = "EJ5sudamallSandboxClientSecret0123456789abcdefghijklmnopqrstuvwxy"
WEBHOOK_ID = "1JE4291016473214C"
APP_ID = "APP-80W284485P519543T"
MERCHANT_ID = "C7CYMKZDG8D6E"
DOCS = "https://developer.paypal.com/docs"
SCOPE = " ".join(
    [
        "https://uri.paypal.com/services/invoicing",
        "https://uri.paypal.com/services/payments/payment/authcapture",
        "https://uri.paypal.com/services/payments/refund",
        "https://uri.paypal.com/services/applications/webhooks",
        "https://uri.paypal.com/services/payments/orders/readwrite",
        "https://uri.paypal.com/services/payments/realtimepayment",
        "openid",
    ]
)

# PayPal's currency codes reference: what the REST API takes, and those without decimals.
CURRENCIES = frozenset(
    {"AUD", "BRL", "CAD", "CNY", "CZK", "DKK", "EUR", "HKD", "HUF", "ILS", "JPY", "MYR", "MXN",
     "TWD", "NZD", "NOK", "PHP", "PLN", "GBP", "SGD", "SEK", "CHF", "THB", "USD"}
)  # fmt: skip
NO_DECIMALS = frozenset({"HUF", "JPY", "TWD"})
# PayPal's standard US rate for domestic PayPal checkout.
FEE_PERCENT, FEE_FIXED = Decimal("3.49"), Decimal("0.49")

_ID_ALPHABET = string.ascii_uppercase + string.digits


def paypal_id() -> str:
    """17 upper-case letters and digits, like PayPal's order, capture and refund ids."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(17))


def paypal_time(moment: datetime | None = None) -> str:
    """Internet date and time, UTC, whole seconds: ``2026-11-24T05:40:00Z``."""
    return (moment or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@functools.cache  # one key per test process: RSA generation costs ~0.1 s
def _key_and_cert() -> tuple[rsa.RSAPrivateKey, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "PayPal, Inc."),
            x509.NameAttribute(NameOID.COMMON_NAME, "messageverificationcerts.sandbox.paypal.com"),
        ]
    )
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return key, cert.public_bytes(serialization.Encoding.PEM)


@dataclass
class Recorded:
    """One request as the fake received it."""

    method: str
    url: str
    path: str
    headers: httpx.Headers
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content) if self.content else None

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.content.decode())

    @property
    def bearer(self) -> str:
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        return token if scheme == "Bearer" else ""


def _link(href: str, rel: str, method: str = "GET") -> dict[str, str]:
    return {"href": href, "rel": rel, "method": method}


def _money(value: Decimal, currency: str) -> dict[str, str]:
    places = Decimal(1) if currency in NO_DECIMALS else Decimal("0.01")
    return {"currency_code": currency, "value": str(value.quantize(places, ROUND_HALF_UP))}


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status,
        content=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/json",
            "Paypal-Debug-Id": secrets.token_hex(7)[:13],
            **(headers or {}),
        },
    )


def _error(
    status: int, name: str, message: str, issue: str = "", description: str = "", **extra: Any
) -> httpx.Response:
    debug_id = secrets.token_hex(7)[:13]
    body: dict[str, Any] = {"name": name, "message": message, "debug_id": debug_id}
    errors = "https://developer.paypal.com/api/rest/reference/orders/v2/errors"
    links = [_link(f"{errors}/#{issue or name}", "information_link")]
    if issue:
        detail = {"issue": issue, "description": description}
        detail.update({k: v for k, v in extra.items() if k in ("field", "value", "location")})
        body["details"] = [detail]
    body["links"] = [*extra.get("links", []), *links]
    return _json(status, body)


def _unprocessable(issue: str, description: str, **extra: Any) -> httpx.Response:
    return _error(
        422,
        "UNPROCESSABLE_ENTITY",
        "The requested action could not be performed, semantically incorrect, or failed business "
        "validation.",
        issue,
        description,
        **extra,
    )


def _invalid_request(issue: str, description: str, **extra: Any) -> httpx.Response:
    return _error(
        400,
        "INVALID_REQUEST",
        "Request is not well-formed, syntactically incorrect, or violates schema.",
        issue,
        description,
        **extra,
    )


def _not_found(kind: str) -> httpx.Response:
    return _error(
        404,
        "RESOURCE_NOT_FOUND",
        "The specified resource does not exist.",
        "INVALID_RESOURCE_ID",
        f"Specified resource ID does not exist. Please check the resource ID and try again "
        f"({kind}).",
    )


class _Dropped(Exception):
    """The fake processed the request but its answer is lost on the way back."""


class FakePayPal:
    def __init__(self, *, client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.key, self.cert_pem = _key_and_cert()
        # URLs answering with the certificate: PayPal's, and any a test adds (a forger's host).
        self.cert_urls = {CERT_URL}
        self.requests: list[Recorded] = []
        self.tokens: set[str] = set()
        self.refuse_every_token = False
        self.orders: dict[str, dict[str, Any]] = {}
        self.captures: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        # (path, PayPal-Request-Id) → the id of what the first successful request made.
        self._idempotent: dict[tuple[str, str], str] = {}
        self._drop: set[tuple[str, str]] = set()
        self.client = httpx.Client(transport=httpx.MockTransport(self.handle))

    # --- what a test does: the buyer at paypal.com, the network, PayPal's ops --------------------

    def approve(self, order_id: str, *, instrument_declined: bool = False) -> dict[str, Any]:
        """The buyer logs in at the approval URL and approves the order, paying with a funding
        source that will (``instrument_declined``) or won't be declined at capture."""
        order = self.orders[order_id]
        order["status"] = "APPROVED"
        order["_instrument_declined"] = instrument_declined
        order["payer"] = {
            "name": {"given_name": "Amna", "surname": "Osman"},
            "email_address": "amna.osman@example.com",
            "payer_id": "QYR5Z8XDVJNXQ",
            "address": {"country_code": "US"},
        }
        order["payment_source"] = {
            "paypal": {
                "email_address": "amna.osman@example.com",
                "account_id": "QYR5Z8XDVJNXQ",
                "account_status": "VERIFIED",
                "name": {"given_name": "Amna", "surname": "Osman"},
                "address": {"country_code": "US"},
            }
        }
        order["update_time"] = paypal_time()
        return self.order_view(order_id)

    def revoke_tokens(self) -> None:
        """Every access token issued so far has expired."""
        self.tokens.clear()

    def drop_response(self, method: str, path: str) -> None:
        """The next ``method path`` is processed, but its answer never arrives (a read timeout)."""
        self._drop.add((method, path))

    def calls(self, method: str, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path == path]

    @property
    def token_requests(self) -> list[Recorded]:
        return self.calls("POST", "/v1/oauth2/token")

    @property
    def api_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.startswith("/v2/")]

    def order_view(self, order_id: str) -> dict[str, Any]:
        """The order as ``GET /v2/checkout/orders/{id}`` shows it, with its captures' and their
        refunds' current state."""
        order = self.orders[order_id]
        view = json.loads(json.dumps({k: v for k, v in order.items() if not k.startswith("_")}))
        captures = [self._public(c) for c in self.captures.values() if c["_order_id"] == order_id]
        if captures:
            payments: dict[str, Any] = {"captures": captures}
            refunds = [
                self._public(r)
                for r in self.refunds.values()
                if self.captures[r["_capture_id"]]["_order_id"] == order_id
            ]
            if refunds:
                payments["refunds"] = refunds
            view["purchase_units"][0]["payments"] = payments
        return view

    @staticmethod
    def _public(resource: dict[str, Any]) -> dict[str, Any]:
        return json.loads(json.dumps({k: v for k, v in resource.items() if not k.startswith("_")}))

    def only_capture(self, order_id: str) -> dict[str, Any]:
        captures = [c for c in self.captures.values() if c["_order_id"] == order_id]
        assert len(captures) == 1, f"{len(captures)} captures of order {order_id}"
        return captures[0]

    # --- webhooks -------------------------------------------------------------------------------

    def sign(
        self,
        body: bytes,
        *,
        webhook_id: str,
        transmission_id: str | None = None,
        transmission_time: str | None = None,
        cert_url: str = CERT_URL,
        key: rsa.RSAPrivateKey | None = None,
    ) -> dict[str, str]:
        """The headers PayPal sends with a delivery of ``body`` to the webhook ``webhook_id``."""
        transmission_id = transmission_id or str(uuid.uuid1())
        transmission_time = transmission_time or paypal_time()
        message = f"{transmission_id}|{transmission_time}|{webhook_id}|{zlib.crc32(body)}"
        signature = (key or self.key).sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())
        return {
            "PAYPAL-TRANSMISSION-ID": transmission_id,
            "PAYPAL-TRANSMISSION-TIME": transmission_time,
            "PAYPAL-TRANSMISSION-SIG": base64.b64encode(signature).decode(),
            "PAYPAL-CERT-URL": cert_url,
            "PAYPAL-AUTH-ALGO": "SHA256withRSA",
            "User-Agent": "PayPal/AUHD-214.0-58128470",
        }

    def _event(
        self, event_type: str, resource_type: str, summary: str, resource: dict[str, Any]
    ) -> dict[str, Any]:
        event_id = f"WH-{paypal_id()}-{paypal_id()}"
        events = f"{LINK_BASE}/v1/notifications/webhooks-events/{event_id}"
        return {
            "id": event_id,
            "event_version": "1.0",
            "create_time": paypal_time(),
            "resource_type": resource_type,
            "resource_version": "2.0",
            "event_type": event_type,
            "summary": summary,
            "resource": resource,
            "links": [_link(events, "self"), _link(f"{events}/resend", "resend", "POST")],
        }

    def order_approved_event(self, order_id: str) -> dict[str, Any]:
        """``CHECKOUT.ORDER.APPROVED``: the resource is the order."""
        return self._event(
            "CHECKOUT.ORDER.APPROVED",
            "checkout-order",
            "An order has been approved by buyer",
            self.order_view(order_id),
        )

    def capture_event(
        self, order_id: str, event_type: str = "PAYMENT.CAPTURE.COMPLETED"
    ) -> dict[str, Any]:
        """``PAYMENT.CAPTURE.*`` for the order's capture: the resource is the capture, with
        ``supplementary_data.related_ids.order_id``."""
        capture = self.only_capture(order_id)
        resource = self._public(capture)
        resource["supplementary_data"] = {"related_ids": {"order_id": order_id}}
        amount = capture["amount"]
        if event_type == "PAYMENT.CAPTURE.COMPLETED":
            summary = f"Payment completed for {amount['value']} {amount['currency_code']}"
        else:
            resource["status"] = "DECLINED"
            summary = f"Payment denied for {amount['value']} {amount['currency_code']}"
        return self._event(event_type, "capture", summary, resource)

    # --- the transport ----------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        path = request.url.path
        self.requests.append(Recorded(request.method, url, path, request.headers, request.read()))
        if url in self.cert_urls and request.method == "GET":
            return httpx.Response(
                200, content=self.cert_pem, headers={"Content-Type": "application/x-pem-file"}
            )
        if request.url.scheme != "https" or request.url.host not in API_HOSTS:
            raise httpx.ConnectError(f"no route to {request.url.host}", request=request)
        try:
            response = self._route(request, path)
        except _Dropped:
            raise httpx.ReadTimeout("the answer was lost", request=request) from None
        return response

    def _route(self, request: httpx.Request, path: str) -> httpx.Response:
        method = request.method
        if path == "/v1/oauth2/token" and method == "POST":
            return self._token(request)
        if not self._authorized(request):
            token = request.headers.get("Authorization", "")
            if not token.startswith("Bearer "):
                return _json(
                    401,
                    {
                        "name": "AUTHENTICATION_FAILURE",
                        "message": "Authentication failed due to invalid authentication "
                        "credentials or a missing Authorization header.",
                        "links": [_link(f"{DOCS}/api/overview/#error", "information_link")],
                    },
                )
            return _json(
                401,
                {"error": "invalid_token", "error_description": "Access Token not found in cache"},
            )
        parts = path.strip("/").split("/")
        if parts[:3] == ["v2", "checkout", "orders"]:
            if len(parts) == 3 and method == "POST":
                return self._idempotently(request, path, self._create_order)
            if len(parts) == 4 and method == "GET":
                if parts[3] not in self.orders:
                    return _not_found("order")
                return _json(200, self.order_view(parts[3]))
            if len(parts) == 5 and parts[4] == "capture" and method == "POST":
                return self._idempotently(
                    request, path, lambda r: self._capture(r, order_id=parts[3])
                )
        if (
            parts[:3] == ["v2", "payments", "captures"]
            and parts[4:] == ["refund"]
            and (method == "POST")
        ):
            return self._idempotently(request, path, lambda r: self._refund(r, capture_id=parts[3]))
        return _not_found(path)

    def _authorized(self, request: httpx.Request) -> bool:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return scheme == "Bearer" and token in self.tokens and not self.refuse_every_token

    def _token(self, request: httpx.Request) -> httpx.Response:
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        try:
            client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            client_id = secret = ""
        if scheme != "Basic" or (client_id, secret) != (self.client_id, self.client_secret):
            return _json(
                401,
                {"error": "invalid_client", "error_description": "Client Authentication failed"},
            )
        form = parse_qs(request.content.decode())
        if form.get("grant_type") != ["client_credentials"]:
            return _json(
                400, {"error": "unsupported_grant_type", "error_description": "Grant Type is NULL"}
            )
        token = f"A21AA{secrets.token_urlsafe(60)}"
        self.tokens.add(token)
        return _json(
            200,
            {
                "scope": SCOPE,
                "access_token": token,
                "token_type": "Bearer",
                "app_id": APP_ID,
                "expires_in": 32400,
                "nonce": f"{paypal_time()}{secrets.token_urlsafe(32)}",
            },
        )

    def _idempotently(self, request: httpx.Request, path: str, handler: Any) -> httpx.Response:
        request_id = request.headers.get("PayPal-Request-Id", "")
        resource_id = self._idempotent.get((path, request_id)) if request_id else None
        if resource_id is not None:
            # PayPal answers a repeat with the latest state of what the first request made.
            return _json(200, self._current(request, path, resource_id))
        response: httpx.Response = handler(request)
        if request_id and response.status_code in (200, 201):
            self._idempotent[(path, request_id)] = response.json()["id"]
        if (request.method, path) in self._drop:
            self._drop.discard((request.method, path))
            raise _Dropped
        return response

    def _current(self, request: httpx.Request, path: str, resource_id: str) -> dict[str, Any]:
        if path.endswith("/refund"):
            representation = "return=representation" in request.headers.get("Prefer", "")
            return self._refund_view(resource_id, representation=representation)
        return self.order_view(resource_id)

    # --- orders -------------------------------------------------------------------------------

    def _amount_problem(self, amount: Any, field: str) -> httpx.Response | None:
        if not isinstance(amount, dict) or not amount.get("currency_code") or "value" not in amount:
            return _invalid_request(
                "MISSING_REQUIRED_PARAMETER",
                "A required field / parameter is missing.",
                field=field,
                location="body",
            )
        currency, value = str(amount["currency_code"]), str(amount["value"])
        if currency not in CURRENCIES:
            return _unprocessable(
                "CURRENCY_NOT_SUPPORTED",
                "Currency code is not currently supported. Please refer "
                "https://developer.paypal.com/api/rest/reference/currency-codes/ for list of "
                "supported currency codes.",
                field=f"{field}/currency_code",
                value=currency,
                location="body",
            )
        try:
            number = Decimal(value)
        except InvalidOperation:
            return _invalid_request(
                "INVALID_PARAMETER_SYNTAX",
                "The value of a field does not conform to the expected format.",
                field=f"{field}/value",
                value=value,
                location="body",
            )
        if currency in NO_DECIMALS and "." in value:
            return _unprocessable(
                "DECIMALS_NOT_SUPPORTED",
                "Currency code does not support decimals.",
                field=f"{field}/value",
                value=value,
                location="body",
            )
        exponent = number.as_tuple().exponent
        if not isinstance(exponent, int):  # NaN, Infinity
            return _invalid_request(
                "INVALID_PARAMETER_SYNTAX",
                "The value of a field does not conform to the expected format.",
                field=f"{field}/value",
                value=value,
                location="body",
            )
        if exponent < -2:
            return _unprocessable(
                "DECIMAL_PRECISION",
                "If the currency supports decimals, only two decimal place precision is supported.",
                field=f"{field}/value",
                value=value,
                location="body",
            )
        if number <= 0:
            return _unprocessable(
                "CANNOT_BE_ZERO_OR_NEGATIVE",
                "Must be greater than zero. If the currency supports decimals, only two decimal "
                "place precision is supported.",
                field=f"{field}/value",
                value=value,
                location="body",
            )
        return None

    def _create_order(self, request: httpx.Request) -> httpx.Response:
        try:
            body = json.loads(request.content)
        except ValueError:
            return _invalid_request(
                "MALFORMED_REQUEST_JSON", "The request JSON is not well formed."
            )
        if body.get("intent") not in ("CAPTURE", "AUTHORIZE"):
            return _invalid_request(
                "MISSING_REQUIRED_PARAMETER",
                "A required field / parameter is missing.",
                field="/intent",
                location="body",
            )
        units = body.get("purchase_units")
        if not isinstance(units, list) or not units:
            return _invalid_request(
                "MISSING_REQUIRED_PARAMETER",
                "A required field / parameter is missing.",
                field="/purchase_units",
                location="body",
            )
        for unit in units:
            ref = unit.get("reference_id", "default")
            problem = self._amount_problem(
                unit.get("amount"), f"/purchase_units/@reference_id=='{ref}'/amount"
            )
            if problem is not None:
                return problem
        order_id = paypal_id()
        now = paypal_time()
        has_paypal_source = "paypal" in (body.get("payment_source") or {})
        # With payment_source.paypal (the current integration) the buyer goes to the
        # payer-action link; without it, to the legacy approve link.
        status, rel = ("PAYER_ACTION_REQUIRED", "payer-action") if has_paypal_source else (
            "CREATED", "approve")  # fmt: skip
        self.orders[order_id] = {
            "id": order_id,
            "intent": body["intent"],
            "status": status,
            "payment_source": {"paypal": {}} if has_paypal_source else {},
            "purchase_units": [
                {
                    "reference_id": unit.get("reference_id", "default"),
                    **{k: unit[k] for k in ("custom_id", "invoice_id") if k in unit},
                    "amount": unit["amount"],
                    "payee": {
                        "email_address": "sb-merchant@business.example.com",
                        "merchant_id": MERCHANT_ID,
                    },
                }
                for unit in units
            ],
            "create_time": now,
            "links": [
                _link(f"{LINK_BASE}/v2/checkout/orders/{order_id}", "self"),
                _link(f"{CHECKOUT_BASE}?token={order_id}", rel),
            ],
            "_request": body,
        }
        if not has_paypal_source:
            self.orders[order_id].pop("payment_source")
        if "return=representation" in request.headers.get("Prefer", ""):
            return _json(201, self.order_view(order_id))
        view = self.order_view(order_id)
        return _json(201, {k: view[k] for k in ("id", "status", "payment_source", "links")
                           if k in view})  # fmt: skip

    def _capture(self, request: httpx.Request, *, order_id: str) -> httpx.Response:
        order = self.orders.get(order_id)
        if order is None:
            return _not_found("order")
        if order["status"] == "COMPLETED":
            return _unprocessable(
                "ORDER_ALREADY_CAPTURED",
                "Order already captured. If 'intent=CAPTURE' only one capture per order is "
                "allowed.",
            )
        if order["status"] != "APPROVED":
            return _unprocessable(
                "ORDER_NOT_APPROVED",
                "Payer has not yet approved the Order for payment. Please redirect the payer to "
                "the 'rel':'approve' url returned as part of the HATEOAS links within the Create "
                "Order call or provide a valid payment_source in the request.",
            )
        if order.get("_instrument_declined"):
            return _unprocessable(
                "INSTRUMENT_DECLINED",
                "The instrument presented  was either declined by the processor or bank, or it "
                "can't be used for this payment.",
                links=[_link(f"{CHECKOUT_BASE}?token={order_id}", "redirect")],
            )
        unit = order["purchase_units"][0]
        currency = unit["amount"]["currency_code"]
        gross = Decimal(unit["amount"]["value"])
        fee = min(gross, gross * FEE_PERCENT / 100 + FEE_FIXED)
        capture_id = paypal_id()
        now = paypal_time()
        capture: dict[str, Any] = {
            "id": capture_id,
            "status": "COMPLETED",
            "amount": _money(gross, currency),
            "final_capture": True,
            "seller_protection": {
                "status": "ELIGIBLE",
                "dispute_categories": ["ITEM_NOT_RECEIVED", "UNAUTHORIZED_TRANSACTION"],
            },
            "seller_receivable_breakdown": {
                "gross_amount": _money(gross, currency),
                "paypal_fee": _money(fee, currency),
                "net_amount": _money(gross - fee, currency),
            },
            **{k: unit[k] for k in ("custom_id", "invoice_id") if k in unit},
            "links": [
                _link(f"{LINK_BASE}/v2/payments/captures/{capture_id}", "self"),
                _link(f"{LINK_BASE}/v2/payments/captures/{capture_id}/refund", "refund", "POST"),
                _link(f"{LINK_BASE}/v2/checkout/orders/{order_id}", "up"),
            ],
            "create_time": now,
            "update_time": now,
            "_order_id": order_id,
            "_refunded": Decimal(0),
        }
        self.captures[capture_id] = capture
        order["status"] = "COMPLETED"
        order["update_time"] = now
        return _json(201, self.order_view(order_id))

    # --- refunds ------------------------------------------------------------------------------

    def _refund(self, request: httpx.Request, *, capture_id: str) -> httpx.Response:
        capture = self.captures.get(capture_id)
        if capture is None:
            return _not_found("capture")
        body = json.loads(request.content) if request.content else {}
        gross = Decimal(capture["amount"]["value"])
        currency = capture["amount"]["currency_code"]
        left = gross - capture["_refunded"]
        if left <= 0:
            return _unprocessable(
                "CAPTURE_FULLY_REFUNDED", "The capture has already been fully refunded."
            )
        amount = body.get("amount")
        if amount is None:
            value = left
        else:
            problem = self._amount_problem(amount, "/amount")
            if problem is not None:
                return problem
            if amount["currency_code"] != currency:
                return _unprocessable(
                    "CURRENCY_MISMATCH",
                    "Currency of capture must be the same as currency of refund.",
                )
            value = Decimal(amount["value"])
        if value > left:
            return _unprocessable(
                "REFUND_AMOUNT_EXCEEDED",
                "The refund amount must be less than or equal to the capture amount that has not "
                "yet been refunded.",
            )
        capture["_refunded"] += value
        capture["status"] = "REFUNDED" if capture["_refunded"] >= gross else "PARTIALLY_REFUNDED"
        refund_id = paypal_id()
        now = paypal_time()
        self.refunds[refund_id] = {
            "id": refund_id,
            "amount": _money(value, currency),
            **{k: body[k] for k in ("invoice_id", "note_to_payer") if k in body},
            "seller_payable_breakdown": {
                "gross_amount": _money(value, currency),
                "paypal_fee": _money(Decimal(0), currency),
                "net_amount": _money(value, currency),
                "total_refunded_amount": _money(capture["_refunded"], currency),
            },
            "status": "COMPLETED",
            "create_time": now,
            "update_time": now,
            "links": [
                _link(f"{LINK_BASE}/v2/payments/refunds/{refund_id}", "self"),
                _link(f"{LINK_BASE}/v2/payments/captures/{capture_id}", "up"),
            ],
            "_capture_id": capture_id,
        }
        representation = "return=representation" in request.headers.get("Prefer", "")
        return _json(201, self._refund_view(refund_id, representation=representation))

    def _refund_view(self, refund_id: str, *, representation: bool) -> dict[str, Any]:
        refund = {k: v for k, v in self.refunds[refund_id].items() if not k.startswith("_")}
        if representation:
            return refund
        return {k: refund[k] for k in ("id", "status", "links")}
