"""The provider's verdicts: a success, a decline, a cancellation.

A provider's success is the truth: money moved, whatever we thought of the payment. It always
ends in one of three ways — the checkout is paid (stock committed, orders ``paid``); the window
had closed and the stock is gone, so the money goes back (late payment); or another payment had
already paid the checkout, so this one goes back (duplicate). Each verdict locks the checkout,
then the payment (``orders.services.locks``).
"""

import logging

from django.db import transaction
from django.utils import timezone

from orders.models import Checkout
from orders.services import locks, window
from payments.gateways import GatewayResult
from payments.models import Payment, PaymentAttempt, Refund
from payments.services import notify, refunds
from payments.services.attempts import record_attempt

logger = logging.getLogger(__name__)


def record_success(
    *,
    payment_id: int,
    capture_reference: str = "",
    result: GatewayResult | None = None,
    action: str = PaymentAttempt.Action.CONFIRM,
) -> Payment:
    """Money moved. Idempotent: a second success changes nothing. Settles the checkout: paid, or
    refunded in full if the window closed and the stock is gone, or if another payment had
    already paid it."""
    with transaction.atomic():
        checkout, payment = locks.lock_checkout_of(Payment, payment_id)
        if result is not None:
            record_attempt(payment, action, result)
        if payment.status in Payment.CAPTURED:
            return payment
        was = payment.move_to(Payment.Status.SUCCEEDED)
        payment.succeeded_at = timezone.now()
        payment.failure_code = payment.failure_message = ""
        if capture_reference:
            payment.capture_reference = capture_reference
        payment.save()
        paid_it = False
        if checkout.status == Checkout.Status.PAID:
            refunds.refund_automatically(payment, kind=Refund.Kind.DUPLICATE,
                                         reason="The checkout was already paid.")  # fmt: skip
        elif checkout.status == Checkout.Status.CANCELLED:
            refunds.refund_automatically(
                payment,
                kind=Refund.Kind.CANCELLATION,
                reason="The order was cancelled before the payment arrived.",
            )
        else:
            try:
                window.mark_checkout_paid(checkout_id=checkout.pk)
            except window.LatePaymentOutOfStock as exc:
                refunds.refund_automatically(
                    payment, kind=Refund.Kind.LATE_PAYMENT, reason=exc.message
                )
            else:
                paid_it = True
                payment.settled_checkout = True
                payment.save(update_fields=["settled_checkout"])
                checkout.refresh_from_db(fields=["total", "status"])
                if payment.amount > checkout.total:
                    refunds.refund_automatically(
                        payment,
                        kind=Refund.Kind.OVERPAYMENT,
                        amount=payment.amount - checkout.total,
                        reason="Part of the checkout was cancelled before the payment.",
                    )
        if paid_it:  # a refunded late or duplicate payment is told by its refund email
            notify.payment_succeeded(payment)
    logger.info("payment succeeded", extra={"payment_id": payment_id, "was": was})
    if was in (Payment.Status.FAILED, Payment.Status.CANCELLED):
        logger.warning("success for a closed payment", extra={"payment_id": payment_id})
    return payment


def record_failure(
    *,
    payment_id: int,
    error_code: str,
    message: str = "",
    result: GatewayResult | None = None,
    action: str = PaymentAttempt.Action.CONFIRM,
    terminal: bool,
) -> Payment:
    """A decline. ``terminal`` (the provider says the payment failed for good) closes an open
    payment; otherwise it stays open for another try. Never moves a succeeded payment back."""
    with transaction.atomic():
        _, payment = locks.lock_checkout_of(Payment, payment_id)
        first = not payment.attempts.filter(outcome="failed").exists()
        record_attempt(payment, action, result, outcome="failed", error_code=error_code,
                       message=message)  # fmt: skip
        if payment.status not in Payment.OPEN:
            return payment
        payment.failure_code = error_code[:64]
        payment.failure_message = message[:255]
        if terminal:
            payment.move_to(Payment.Status.FAILED)
        payment.save()
        notify.payment_failed(payment, reason=error_code, email=first or terminal)
    logger.info("payment declined", extra={"payment_id": payment_id, "terminal": terminal})
    return payment


def record_cancelled(*, payment_id: int, action: str, result: GatewayResult | None = None) -> bool:
    """The provider cancelled the payment (or we did). Only an open payment moves."""
    with transaction.atomic():
        _, payment = locks.lock_checkout_of(Payment, payment_id)
        if result is not None:
            record_attempt(payment, action, result)
        if payment.status not in Payment.OPEN:
            return False
        payment.move_to(Payment.Status.CANCELLED)
        payment.save(update_fields=["status", "updated_at"])
    logger.info("payment cancelled", extra={"payment_id": payment_id})
    return True
