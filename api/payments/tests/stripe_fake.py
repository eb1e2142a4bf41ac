"""A local stand-in for Stripe's API at https://api.stripe.com, served through the gateway's
``http_client`` (an httpx.MockTransport), so the official SDK runs for real against it.

It speaks Stripe's wire format: form-encoded bodies with bracketed nested keys
(``metadata[payment_id]=7``), ``Authorization: Bearer <secret key>``, ``Idempotency-Key``
honoured on POSTs (the same key and parameters replay the first answer with
``Idempotent-Replayed: true``; different parameters are an ``idempotency_error``), JSON objects
shaped like Stripe's, and errors as ``{"error": {"type", "code", "decline_code", "message",
...}}`` with Stripe's status codes (402 card errors, 400 invalid requests, 401 bad key, 404
unknown object).

Test payment methods behave like Stripe's test tokens: ``pm_card_visa`` succeeds,
``pm_card_chargeDeclined`` is declined (``generic_decline``),
``pm_card_chargeDeclinedInsufficientFunds`` too (``insufficient_funds``) and
``pm_card_authenticationRequired`` needs 3-D Secure (``requires_action``). Like Stripe, an
intent that accepts the Dashboard's payment methods with redirects can't be confirmed
server-side without a ``return_url``.

Every request is recorded (``requests``, ``calls(...)``) with its decoded parameters, so tests
assert on what left the machine. ``drop_next``, ``lose_next_response`` and ``fail_next`` make
Stripe unreachable, lose an answer after the work was done, or answer 5xx.
``confirm_client_side`` and ``complete_action`` play the buyer's browser (Stripe.js), and
``event`` / ``sign`` build a webhook signed with Stripe's real ``Stripe-Signature`` scheme.
"""

import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx

BASE_URL = "https://api.stripe.com"
SECRET_KEY = "sk_test_51SudamallFakeKey0000000000000000"
WEBHOOK_SECRET = "whsec_sudamall_fake_webhook_secret"
API_VERSION = "2026-10-28.endive"

# Stripe's test PaymentMethod tokens: what confirming with each one does.
SUCCEEDS = "succeeds"
REQUIRES_3DS = "requires_3ds"
DECLINES: dict[str, tuple[str, str]] = {
    "pm_card_chargeDeclined": ("generic_decline", "Your card was declined."),
    "pm_card_chargeDeclinedInsufficientFunds": (
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
}
TEST_METHODS: dict[str, tuple[str, str]] = {
    "pm_card_visa": (SUCCEEDS, "4242"),
    "pm_card_authenticationRequired": (REQUIRES_3DS, "3184"),
    "pm_card_chargeDeclined": ("declines", "0002"),
    "pm_card_chargeDeclinedInsufficientFunds": ("declines", "9995"),
}
CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
CANCELABLE = (
    "requires_payment_method",
    "requires_capture",
    "requires_confirmation",
    "requires_action",
    "processing",
)


def _id(prefix: str) -> str:
    return f"{prefix}_3{secrets.token_hex(12)}"


def decode_form(body: str) -> dict[str, Any]:
    """Stripe's form encoding back to nested data: ``a[b]=1&c[0]=x`` → ``{"a": {"b": "1"},
    "c": ["x"]}``. Values stay strings, as they travel."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        name, _, rest = key.partition("[")
        path = [name] + (re.findall(r"([^\[\]]*)\]", "[" + rest) if rest else [])
        node = root
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return _lists(root)


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    node = {k: _lists(v) for k, v in node.items()}
    if node and all(k.isdigit() for k in node):
        return [node[k] for k in sorted(node, key=int)]
    return node


def sign(payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """Stripe's ``Stripe-Signature`` header for ``payload``:
    ``t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<payload>")>``."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


class StripeAPIError(Exception):
    """An answer in Stripe's error shape. ``saved``: kept under the idempotency key (Stripe
    saves a result once the endpoint started executing, not for a failed validation)."""

    def __init__(self, status: int, error: dict[str, Any], *, saved: bool = True) -> None:
        super().__init__(error.get("message", ""))
        self.status = status
        self.error = error
        self.saved = saved


def _invalid(message: str, *, code: str | None = None, param: str | None = None,
             status: int = 400, saved: bool = True) -> StripeAPIError:  # fmt: skip
    error: dict[str, Any] = {"type": "invalid_request_error", "message": message}
    if code:
        error["code"] = code
        error["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
    if param:
        error["param"] = param
    return StripeAPIError(status, error, saved=saved)


@dataclass
class StripeRequest:
    """One request as Stripe received it."""

    method: str
    path: str
    params: dict[str, Any]
    headers: httpx.Headers
    status: int | None = None  # what was answered; None if the connection failed

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("Idempotency-Key")


@dataclass
class _Saved:
    method: str
    path: str
    params: dict[str, Any]
    status: int
    body: dict[str, Any]


@dataclass
class FakeStripe:
    secret_key: str = SECRET_KEY
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    charges: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    methods: dict[str, str] = field(default_factory=dict)  # PaymentMethod id → test token
    requests: list[StripeRequest] = field(default_factory=list)
    _saved: dict[str, _Saved] = field(default_factory=dict)
    _faults: list[Callable[[httpx.Request], httpx.Response]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.client = httpx.Client(transport=httpx.MockTransport(self.handle))

    # --- what tests look at -------------------------------------------------------------------

    def calls(self, method: str, path: str) -> list[StripeRequest]:
        """The requests to ``path`` (``{id}`` matches any object id)."""
        pattern = re.escape(path).replace(re.escape("{id}"), r"[A-Za-z0-9_]+")
        return [
            r
            for r in self.requests
            if r.method == method and re.fullmatch(pattern, r.path) is not None
        ]

    def intent(self, intent_id: str) -> dict[str, Any]:
        return self.intents[intent_id]

    # --- the network going wrong --------------------------------------------------------------

    def drop_next(self, times: int = 1) -> None:
        """The next requests never reach Stripe: the connection is refused."""
        for _ in range(times):
            self._faults.append(self._refuse)

    def lose_next_response(self) -> None:
        """Stripe does the next request's work, but the answer never comes back."""
        self._faults.append(self._lose)

    def fail_next(self, status: int = 500, times: int = 1) -> None:
        """The next requests are answered with a Stripe 5xx, before any work is done."""
        body = {"error": {"type": "api_error", "message": "An unknown error occurred."}}
        for _ in range(times):
            self._faults.append(lambda request: self._json(status, body))

    @staticmethod
    def _refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    def _lose(self, request: httpx.Request) -> httpx.Response:
        self._serve(request)
        raise httpx.ReadTimeout("The read operation timed out", request=request)

    # --- the HTTP side ------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = request.content.decode()
        params = decode_form(body if request.method == "POST" else request.url.query.decode())
        recorded = StripeRequest(request.method, request.url.path, params, request.headers)
        self.requests.append(recorded)
        response = self._faults.pop(0)(request) if self._faults else self._serve(request)
        recorded.status = response.status_code
        return response

    def _serve(self, request: httpx.Request) -> httpx.Response:
        if f"{request.url.scheme}://{request.url.host}" != BASE_URL:
            return httpx.Response(404)
        try:
            self._authenticate(request)
        except StripeAPIError as exc:
            return self._json(exc.status, {"error": exc.error})
        method, path = request.method, request.url.path
        body = request.content.decode()
        params = decode_form(body if method == "POST" else request.url.query.decode())
        key = request.headers.get("Idempotency-Key") if method == "POST" else None
        if key is not None and key in self._saved:
            saved = self._saved[key]
            if (saved.method, saved.path, saved.params) != (method, path, params):
                return self._json(400, {"error": {
                    "type": "idempotency_error",
                    "message": "Keys for idempotent requests can only be used with the same "
                    "parameters they were first used with. Try using a key other than "
                    f"'{key}' if you meant to execute a different request.",
                }}, key=key)  # fmt: skip
            return self._json(saved.status, saved.body, key=key, replayed=True)
        try:
            status, answer = 200, self._route(method, path, params)
        except StripeAPIError as exc:
            if key is not None and exc.saved:
                self._saved[key] = _Saved(method, path, params, exc.status, {"error": exc.error})
            return self._json(exc.status, {"error": exc.error}, key=key)
        if key is not None:
            self._saved[key] = _Saved(method, path, params, status, answer)
        return self._json(status, answer, key=key)

    def _authenticate(self, request: httpx.Request) -> None:
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        if not key:
            raise _invalid(
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY').",
                status=401,
            )
        if scheme != "Bearer" or not hmac.compare_digest(key, self.secret_key):
            raise _invalid(f"Invalid API Key provided: {key[:8]}****{key[-4:]}", status=401)

    def _route(self, method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        routes: list[tuple[str, str, Callable[..., dict[str, Any]]]] = [
            ("POST", r"/v1/payment_intents", self._create_intent),
            ("GET", r"/v1/payment_intents/(?P<intent_id>[^/]+)", self._retrieve_intent),
            ("POST", r"/v1/payment_intents/(?P<intent_id>[^/]+)/confirm", self._confirm_intent),
            ("POST", r"/v1/payment_intents/(?P<intent_id>[^/]+)/cancel", self._cancel_intent),
            ("POST", r"/v1/refunds", self._create_refund),
        ]
        for verb, pattern, view in routes:
            match = re.fullmatch(pattern, path)
            if verb == method and match is not None:
                return view(params, **match.groupdict())
        raise _invalid(
            f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs "
            "or we can help at https://support.stripe.com/.",
            status=404,
            saved=False,
        )

    @staticmethod
    def _json(status: int, body: dict[str, Any], *, key: str | None = None,
              replayed: bool = False) -> httpx.Response:  # fmt: skip
        headers = {
            "Content-Type": "application/json",
            "Request-Id": f"req_{secrets.token_hex(7)}",
            "Stripe-Version": API_VERSION,
        }
        if key is not None:
            headers["Idempotency-Key"] = key
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        return httpx.Response(status, content=json.dumps(body).encode(), headers=headers)

    # --- payment intents ----------------------------------------------------------------------

    def _create_intent(self, params: dict[str, Any]) -> dict[str, Any]:
        amount = params.get("amount")
        if amount is None:
            raise _invalid("Missing required param: amount.", code="parameter_missing",
                           param="amount", saved=False)  # fmt: skip
        if not str(amount).isdigit() or int(amount) < 1:
            raise _invalid("Invalid positive integer", code="parameter_invalid_integer",
                           param="amount", saved=False)  # fmt: skip
        currency = params.get("currency")
        if not currency or not re.fullmatch(r"[A-Za-z]{3}", currency):
            raise _invalid(f"Invalid currency: {currency}.", param="currency", saved=False)
        automatic = params.get("automatic_payment_methods") or {}
        intent_id = _id("pi")
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": int(amount),
            "amount_capturable": 0,
            "amount_received": 0,
            "application": None,
            "application_fee_amount": None,
            "automatic_payment_methods": {
                "enabled": automatic.get("enabled") == "true",
                "allow_redirects": automatic.get("allow_redirects", "always"),
            }
            if automatic
            else None,
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": params.get("capture_method", "automatic_async"),
            "client_secret": f"{intent_id}_secret_{secrets.token_urlsafe(18)}",
            "confirmation_method": "automatic",
            "created": int(time.time()),
            "currency": currency.lower(),
            "customer": None,
            "description": params.get("description"),
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": params.get("metadata") or {},
            "next_action": None,
            "on_behalf_of": None,
            "payment_method": None,
            "payment_method_types": ["card"],
            "processing": None,
            "receipt_email": None,
            "setup_future_usage": None,
            "shipping": None,
            "statement_descriptor": None,
            "status": "requires_payment_method",
            "transfer_data": None,
            "transfer_group": None,
        }
        self.intents[intent_id] = intent
        return dict(intent)

    def _find_intent(self, intent_id: str) -> dict[str, Any]:
        intent = self.intents.get(intent_id)
        if intent is None:
            raise _invalid(f"No such payment_intent: '{intent_id}'", code="resource_missing",
                           param="intent", status=404, saved=False)  # fmt: skip
        return intent

    def _retrieve_intent(self, params: dict[str, Any], *, intent_id: str) -> dict[str, Any]:
        return dict(self._find_intent(intent_id))

    def _confirm_intent(self, params: dict[str, Any], *, intent_id: str) -> dict[str, Any]:
        intent = self._find_intent(intent_id)
        return self._confirm(intent, params.get("payment_method"), params.get("return_url"))

    def _confirm(
        self, intent: dict[str, Any], token: str | None, return_url: str | None
    ) -> dict[str, Any]:
        status = intent["status"]
        if status not in CONFIRMABLE:
            state = (
                "has already succeeded after being previously confirmed"
                if status == "succeeded"
                else f"has a status of {status}"
            )
            raise _invalid(
                f"You cannot confirm this PaymentIntent because it {state}.",
                code="payment_intent_unexpected_state",
            )
        if token is not None and token not in TEST_METHODS:
            raise _invalid(f"No such PaymentMethod: '{token}'", code="resource_missing",
                           param="payment_method")  # fmt: skip
        if token is None:  # confirm again with the method already attached
            token = self.methods.get(intent["payment_method"] or "")
        if token is None:
            raise _invalid(
                "You cannot confirm this PaymentIntent because it's missing a payment method. "
                "You can either update the PaymentIntent with a payment method and then "
                "confirm it again, or confirm it again directly with a payment method.",
                code="payment_intent_unexpected_state",
            )
        automatic = intent["automatic_payment_methods"] or {}
        if (
            automatic.get("enabled")
            and automatic.get("allow_redirects") != "never"
            and (not return_url)
        ):
            raise _invalid(
                "A `return_url` must be specified because this Payment Intent is configured "
                "to automatically accept the payment methods enabled in the Dashboard, some of "
                "which may require a full page redirect to succeed. If you do not want to "
                "accept redirect-based payment methods, set `automatic_payment_methods[enabled]`"
                " to `true` and `automatic_payment_methods[allow_redirects]` to `never` when "
                "creating Setup Intents and Payment Intents."
            )
        behaviour, last4 = TEST_METHODS[token]
        method_id = _id("pm")
        self.methods[method_id] = token
        if behaviour == SUCCEEDS:
            return self._charge(intent, method_id)
        if behaviour == REQUIRES_3DS:
            if return_url:
                next_action: dict[str, Any] = {
                    "type": "redirect_to_url",
                    "redirect_to_url": {
                        "url": f"https://hooks.stripe.com/3d_secure_2/hosted/{intent['id']}",
                        "return_url": return_url,
                    },
                }
            else:
                next_action = {"type": "use_stripe_sdk", "use_stripe_sdk": {"type": "3ds2"}}
            intent.update(status="requires_action", payment_method=method_id,
                          last_payment_error=None, next_action=next_action)  # fmt: skip
            return dict(intent)
        decline_code, message = DECLINES[token]
        charge = self._new_charge(intent, method_id, paid=False)
        error = {
            "type": "card_error",
            "code": "card_declined",
            "decline_code": decline_code,
            "message": message,
            "charge": charge["id"],
            "doc_url": "https://stripe.com/docs/error-codes/card-declined",
            "payment_method": {"id": method_id, "object": "payment_method", "type": "card",
                               "card": {"brand": "visa", "last4": last4}},
        }  # fmt: skip
        intent.update(
            status="requires_payment_method",
            latest_charge=charge["id"],
            last_payment_error=error,
            payment_method=None,
            next_action=None,
        )
        raise StripeAPIError(402, {**error, "payment_intent": dict(intent)})

    def _charge(self, intent: dict[str, Any], method_id: str) -> dict[str, Any]:
        charge = self._new_charge(intent, method_id, paid=True)
        intent.update(
            status="succeeded",
            amount_received=intent["amount"],
            latest_charge=charge["id"],
            last_payment_error=None,
            next_action=None,
            payment_method=method_id,
        )
        return dict(intent)

    def _new_charge(self, intent: dict[str, Any], method_id: str, *, paid: bool) -> dict[str, Any]:
        charge = {
            "id": _id("ch"),
            "object": "charge",
            "amount": intent["amount"],
            "amount_refunded": 0,
            "currency": intent["currency"],
            "paid": paid,
            "status": "succeeded" if paid else "failed",
            "payment_intent": intent["id"],
            "payment_method": method_id,
            "refunded": False,
        }
        self.charges[charge["id"]] = charge
        return charge

    def _cancel_intent(self, params: dict[str, Any], *, intent_id: str) -> dict[str, Any]:
        intent = self._find_intent(intent_id)
        if intent["status"] not in CANCELABLE:
            raise _invalid(
                "You cannot cancel this PaymentIntent because it has a status of "
                f"{intent['status']}. Only a PaymentIntent with one of the following statuses "
                f"may be canceled: {', '.join(CANCELABLE)}.",
                code="payment_intent_unexpected_state",
            )
        intent.update(
            status="canceled",
            canceled_at=int(time.time()),
            cancellation_reason=params.get("cancellation_reason"),
            next_action=None,
        )
        return dict(intent)

    # --- refunds ------------------------------------------------------------------------------

    def _create_refund(self, params: dict[str, Any]) -> dict[str, Any]:
        intent_id = params.get("payment_intent")
        if not intent_id:
            raise _invalid("One of the following params should be provided for this request: "
                           "payment_intent or charge.", code="parameter_missing",
                           saved=False)  # fmt: skip
        intent = self._find_intent(intent_id)
        charge = self.charges.get(intent["latest_charge"] or "")
        if intent["status"] != "succeeded" or charge is None or not charge["paid"]:
            raise _invalid(
                f"This PaymentIntent ({intent_id}) does not have a successful charge to refund."
            )
        left = charge["amount"] - charge["amount_refunded"]
        if left <= 0:
            raise _invalid(f"Charge {charge['id']} has already been refunded.",
                           code="charge_already_refunded")  # fmt: skip
        amount = int(params.get("amount", left))
        if amount > left:
            raise _invalid(
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
                code="amount_too_large",
                param="amount",
            )
        return self._refund(charge, amount, params.get("metadata") or {})

    def _refund(self, charge: dict[str, Any], amount: int, metadata: dict[str, Any]) -> dict:
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
        refund = {
            "id": _id("re"),
            "object": "refund",
            "amount": amount,
            "balance_transaction": _id("txn"),
            "charge": charge["id"],
            "created": int(time.time()),
            "currency": charge["currency"],
            "metadata": metadata,
            "payment_intent": charge["payment_intent"],
            "reason": None,
            "receipt_number": None,
            "status": "succeeded",
        }
        self.refunds[refund["id"]] = refund
        return dict(refund)

    # --- what happens outside our server ------------------------------------------------------

    def confirm_client_side(self, intent_id: str, payment_method: str = "pm_card_visa") -> dict:
        """The buyer's browser confirms with Stripe.js and the client secret."""
        intent = self.intents[intent_id]
        try:
            return self._confirm(intent, payment_method, "https://sudamall.test/stripe.js")
        except StripeAPIError:
            return dict(intent)  # Stripe.js shows the decline; the intent records it

    def complete_action(self, intent_id: str) -> dict[str, Any]:
        """The buyer passes 3-D Secure: the intent's attached card is charged."""
        intent = self.intents[intent_id]
        assert intent["status"] == "requires_action", intent["status"]
        return self._charge(intent, intent["payment_method"])

    def refund_from_dashboard(self, intent_id: str, amount: int) -> dict[str, Any]:
        """Someone refunds part of the charge in Stripe's Dashboard, behind our back."""
        charge = self.charges[self.intents[intent_id]["latest_charge"]]
        return self._refund(charge, amount, {})

    def event(self, event_type: str, intent: dict[str, Any]) -> dict[str, Any]:
        """A webhook event carrying a snapshot of ``intent``, as Stripe sends it."""
        return {
            "id": f"evt_{secrets.token_hex(12)}",
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()),
            "data": {"object": json.loads(json.dumps(intent))},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
        }
