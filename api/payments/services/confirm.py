"""Taking the money: a confirm call (test card, Stripe payment method, PayPal capture) or the
provider's verdict on one, one at a time per payment under a lease."""

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from orders.models import Checkout
from orders.services import locks
from payments.exceptions import (
    NotCashOnDelivery,
    PaymentClosed,
    PaymentDeclined,
    PaymentGatewayError,
    PaymentInProgress,
)
from payments.gateways import GatewayResult, get_gateway
from payments.models import Gateway, Payment, PaymentAttempt
from payments.services.attempts import record_attempt
from payments.services.create import check_payable
from payments.services.settle import record_cancelled, record_failure, record_success

CONFIRM_LEASE = timedelta(seconds=60)


def confirm_payment(*, payer: User, payment_id: int, data: Mapping[str, Any]) -> Payment:
    """Charge (test card, Stripe payment method, PayPal capture) or look up the provider's
    verdict. Succeeded → the checkout is paid. Declined → PaymentDeclined (402); the attempt is
    recorded and the payment stays open for another try until the deadline."""
    payment = Payment.objects.filter(pk=payment_id, payer=payer).first()
    if payment is None:
        raise Http404
    if payment.status in Payment.CAPTURED:
        return payment
    if payment.status not in Payment.OPEN:
        raise PaymentClosed(details={"status": payment.status})
    if payment.gateway == Gateway.CASH_ON_DELIVERY:
        raise NotCashOnDelivery(
            "Cash on delivery is confirmed by the store when the cash is collected.",
            code="confirm_not_supported",
        )
    fetch_only = payment.gateway == Gateway.STRIPE and not data.get("payment_method")
    if not fetch_only:  # asking Stripe what Stripe.js did charges nothing: always allowed
        check_payable(Checkout.objects.get(pk=payment.checkout_id))
    return charge(payment=payment, data=data)


def charge(*, payment: Payment, data: Mapping[str, Any]) -> Payment:
    """Ask the provider to take the money (or for its verdict) under a lease: one confirm at a
    time per payment, so a double click, or a buyer racing PayPal's approval webhook, can't
    charge twice. Raises PaymentInProgress (409) while another holds it."""
    provider = get_gateway(payment.gateway)
    now = timezone.now()
    lease = now + CONFIRM_LEASE
    leased = Payment.objects.filter(
        Q(confirming_until__isnull=True) | Q(confirming_until__lt=now),
        pk=payment.pk,
        status__in=Payment.OPEN,
    ).update(confirming_until=lease)
    if not leased:
        payment.refresh_from_db()
        if payment.status in Payment.CAPTURED:
            return payment
        if payment.status not in Payment.OPEN:
            raise PaymentClosed(details={"status": payment.status})
        raise PaymentInProgress()
    try:
        try:
            result = provider.confirm(payment, data)
        except PaymentGatewayError as exc:
            record_attempt(payment, PaymentAttempt.Action.CONFIRM, outcome="error",
                           error_code=exc.code, message=exc.message)  # fmt: skip
            raise
        return apply_result(
            payment_id=payment.pk, result=result, action=PaymentAttempt.Action.CONFIRM
        )
    finally:
        # Released only once the outcome is recorded: a click arriving in between finds the
        # payment succeeded, not open again.
        # Only our own lease: after CONFIRM_LEASE another caller may hold a newer one.
        Payment.objects.filter(pk=payment.pk, confirming_until=lease).update(confirming_until=None)


def apply_result(*, payment_id: int, result: GatewayResult, action: str) -> Payment:
    """What the provider said about a confirm or a capture, applied. Raises PaymentDeclined."""
    if result.status == Payment.Status.SUCCEEDED:
        return record_success(
            payment_id=payment_id,
            capture_reference=result.capture_reference,
            result=result,
            action=action,
        )
    if result.status == Payment.Status.FAILED:
        payment = record_failure(
            payment_id=payment_id,
            error_code=result.error_code or "declined",
            message=result.message,
            result=result,
            action=action,
            terminal=False,
        )
        raise PaymentDeclined(
            result.message or None,
            details={"payment_id": payment_id, "reason": result.error_code or "declined"},
        )
    if result.status == Payment.Status.CANCELLED:
        record_cancelled(payment_id=payment_id, action=action, result=result)
        raise PaymentClosed(details={"status": Payment.Status.CANCELLED})
    with transaction.atomic():
        _, payment = locks.lock_checkout_of(Payment, payment_id)
        record_attempt(payment, action, result)
        if payment.status in Payment.OPEN and result.status in Payment.OPEN:
            if result.status != payment.status:
                payment.move_to(result.status)
            if result.client_secret:
                payment.client_secret = result.client_secret
            if result.approval_url:
                payment.approval_url = result.approval_url
            payment.save()
    return payment
