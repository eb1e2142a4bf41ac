import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils.module_loading import import_string

from payments.exceptions import GatewayUnavailable

if TYPE_CHECKING:
    from payments.models import Payment, Refund

CENT = Decimal("0.01")


@dataclass
class GatewayResult:
    """What the provider said. ``status`` is a Payment.Status value (or, for a refund,
    ``succeeded``/``pending``/``failed``)."""

    status: str
    reference: str = ""
    capture_reference: str = ""
    client_secret: str = ""
    approval_url: str = ""
    error_code: str = ""
    message: str = ""
    response: dict[str, Any] = field(default_factory=dict)


@dataclass
class VerifiedEvent:
    """A webhook whose signature checked out: what the inbox stores."""

    event_id: str
    type: str
    payload: dict[str, Any]


@dataclass
class EventOutcome:
    """What a stored event says about which payment. ``outcome`` is ``succeeded``,
    ``failed``, ``cancelled``, ``requires_action``, ``approved`` (PayPal: ready to capture)
    or empty for an event that changes nothing."""

    outcome: str = ""
    payment_id: int | None = None
    provider_reference: str = ""
    capture_reference: str = ""
    error_code: str = ""
    message: str = ""
    # For ``failed``: the payment is over (True), or only this try failed and it stays open.
    terminal: bool = True


class PaymentGateway(ABC):
    name: str

    def is_enabled(self) -> bool:
        return True

    def supports_currency(self, currency: str) -> bool:
        return True

    @abstractmethod
    def create(self, payment: "Payment") -> GatewayResult: ...

    @abstractmethod
    def confirm(self, payment: "Payment", data: Mapping[str, Any]) -> GatewayResult: ...

    @abstractmethod
    def cancel(self, payment: "Payment") -> GatewayResult: ...

    @abstractmethod
    def refund(self, payment: "Payment", refund: "Refund") -> GatewayResult: ...

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> VerifiedEvent:
        raise GatewayUnavailable(f"The {self.name} gateway takes no webhooks.")

    def interpret_event(self, event_type: str, payload: Mapping[str, Any]) -> EventOutcome:
        return EventOutcome()


def get_gateway(name: str) -> PaymentGateway:
    """The gateway called ``name``; GatewayUnavailable if it is unknown or switched off."""
    path = settings.PAYMENT_GATEWAYS.get(name)
    if path is None:
        raise GatewayUnavailable(details={"gateway": name})
    gateway: PaymentGateway = import_string(path)()
    if not gateway.is_enabled():
        raise GatewayUnavailable(
            f"The {name} gateway is not configured here.", details={"gateway": name}
        )
    return gateway


def enabled_gateways() -> list[str]:
    names = []
    for name in settings.PAYMENT_GATEWAYS:
        try:
            get_gateway(name)
        except GatewayUnavailable:
            continue
        names.append(name)
    return names


def refund_key(refund: "Refund") -> str:
    """The key every try of this refund is sent with. Written on the row with the refund; the
    fallback is the key a refund written before that field existed was first sent with."""
    return refund.idempotency_key or f"{settings.PAYMENT_KEY_PREFIX}-refund-{refund.pk}"


def compute_fee(gateway: str, amount: Decimal) -> Decimal:
    """The gateway's fixed plus percentage fee on ``amount``, to the cent, never above it."""
    fixed, percent = settings.PAYMENT_GATEWAY_FEES.get(gateway, ("0", "0"))
    fee = (Decimal(fixed) + amount * Decimal(percent) / 100).quantize(CENT, ROUND_HALF_UP)
    return min(max(fee, Decimal("0.00")), amount)


# ISO 4217 currencies whose smallest unit is the whole unit, and those with three decimals.
ZERO_DECIMAL = frozenset(
    [
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    ]
)
THREE_DECIMAL = frozenset(["BHD", "JOD", "KWD", "OMR", "TND"])


def to_minor_units(amount: Decimal, currency: str) -> int:
    """``Decimal("12.50"), "USD"`` → 1250: what providers take as an amount."""
    currency = currency.upper()
    exponent = 0 if currency in ZERO_DECIMAL else 3 if currency in THREE_DECIMAL else 2
    return int((amount * (10**exponent)).quantize(Decimal(1), ROUND_HALF_UP))


_SECRET_KEYS = re.compile(
    r"(secret|token|password|authorization|card_number|^number$|cvc|cvv|iban|account_number)",
    re.IGNORECASE,
)


def sanitize(value: Any) -> Any:
    """A provider response fit to store and show to staff: secrets, tokens and card numbers
    are replaced by ``"[redacted]"``; everything else is kept as JSON."""
    if isinstance(value, Mapping):
        return {
            str(k): "[redacted]" if _SECRET_KEYS.search(str(k)) else sanitize(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [sanitize(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
