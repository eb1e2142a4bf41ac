"""The attempt log: every call to a gateway and every provider event about a payment."""

from typing import Any

from payments.gateways import GatewayResult, sanitize
from payments.models import Payment, PaymentAttempt


def record_attempt(
    payment: Payment, action: str, result: GatewayResult | None = None, **fields: Any
) -> PaymentAttempt:
    return PaymentAttempt.objects.create(
        payment=payment,
        action=action,
        outcome=fields.pop("outcome", result.status if result else ""),
        amount=payment.amount,
        error_code=fields.pop("error_code", result.error_code if result else "")[:64],
        message=fields.pop("message", result.message if result else "")[:255],
        response=sanitize(fields.pop("response", result.response if result else {})),
    )
