"""Payment gateways behind one interface: ``get_gateway(name)``.

A gateway talks to its provider and reports what happened as a ``GatewayResult``; it never
touches the database. The services decide what a result means for the payment, the checkout
and the stock. Webhooks: ``verify_webhook`` checks the raw body's signature with the provider's
own scheme and returns the event; ``interpret_event`` reads a stored event (so a dead letter
can be replayed from the inbox without the provider).
"""

from payments.gateways.base import (
    EventOutcome,
    GatewayResult,
    PaymentGateway,
    VerifiedEvent,
    compute_fee,
    enabled_gateways,
    get_gateway,
    refund_key,
    sanitize,
    to_minor_units,
)

__all__ = [
    "EventOutcome",
    "GatewayResult",
    "PaymentGateway",
    "VerifiedEvent",
    "compute_fee",
    "enabled_gateways",
    "get_gateway",
    "refund_key",
    "sanitize",
    "to_minor_units",
]
