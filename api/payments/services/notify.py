"""What the payer hears about a payment: an email and a WebSocket event, both after commit."""

from decimal import Decimal

from notifications.events import push_to_user
from notifications.services import send_email_after_commit
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
    send_email_after_commit(
        to=payment.payer.email,
        template="payment_succeeded",
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
        send_email_after_commit(
            to=payment.payer.email,
            template="payment_failed",
            context={
                "first_name": payment.payer.first_name,
                "amount": str(payment.amount),
                "currency": payment.currency,
                "reason": reason.replace("_", " "),
                "deadline": payment.expires_at.strftime("%Y-%m-%d %H:%M"),
            },
        )


def payment_refunded(payment: Payment, *, amount: Decimal, reason: str, kind: str) -> None:
    send_email_after_commit(
        to=payment.payer.email,
        template="payment_refunded",
        context={
            "first_name": payment.payer.first_name,
            "amount": str(amount),
            "currency": payment.currency,
            "reason": reason,
            "late_payment": kind == "late_payment",
            "fully_refunded": payment.status == Payment.Status.REFUNDED,
        },
    )
