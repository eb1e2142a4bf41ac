"""What the payer hears about a payment: a WebSocket event, and a notification (email and
in-app, once per payment outcome), all after commit."""

from decimal import Decimal

from accounts.services import notify_user
from notifications.events import push_to_user
from payments.models import Payment


def _event_data(payment: Payment) -> dict:
    return {
        "id": payment.pk,
        "checkout_id": payment.checkout_id,
        "status": payment.status,
        "amount": payment.amount,
        "currency": payment.currency,
        "gateway": payment.gateway,
    }


def payment_succeeded(payment: Payment) -> None:
    push_to_user(payment.payer_id, "payment.succeeded", _event_data(payment))
    notify_user(
        payment.payer,
        "payment_succeeded",
        key=f"payment_succeeded:{payment.pk}",
        context={
            "first_name": payment.payer.first_name,
            "amount": str(payment.amount),
            "currency": payment.currency,
            "checkout_id": payment.checkout_id,
            "gateway": payment.get_gateway_display(),
        },
    )


def payment_failed(payment: Payment, *, reason: str, email: bool) -> None:
    push_to_user(payment.payer_id, "payment.failed", {**_event_data(payment), "reason": reason})
    if email:
        final = payment.status == Payment.Status.FAILED
        notify_user(
            payment.payer,
            "payment_failed",
            key=f"payment_failed:{payment.pk}:{'final' if final else 'first'}",
            context={
                "first_name": payment.payer.first_name,
                "amount": str(payment.amount),
                "currency": payment.currency,
                "reason": reason.replace("_", " "),
                "deadline": payment.expires_at.strftime("%Y-%m-%d %H:%M"),
            },
        )


def payment_refunded(
    payment: Payment, *, refund_id: int, amount: Decimal, reason: str, kind: str
) -> None:
    notify_user(
        payment.payer,
        "payment_refunded",
        key=f"payment_refunded:{refund_id}",
        context={
            "first_name": payment.payer.first_name,
            "amount": str(amount),
            "currency": payment.currency,
            "reason": reason,
            "late_payment": kind == "late_payment",
            "fully_refunded": payment.status == Payment.Status.REFUNDED,
        },
    )
