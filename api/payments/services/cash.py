"""Cash on delivery: the store's owner (or staff) records the cash taken at the door."""

import logging

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from orders.models import Checkout, Order
from orders.services import locks
from payments.exceptions import NotCashOnDelivery, PaymentClosed
from payments.models import Gateway, Payment, PaymentAttempt
from payments.services import notify
from payments.services.attempts import record_attempt

logger = logging.getLogger(__name__)


def collect_cash(*, payment: Payment, actor: User) -> Payment:
    """The store's owner (or staff) got the cash at the door: the payment has succeeded."""
    if payment.gateway != Gateway.CASH_ON_DELIVERY:
        raise NotCashOnDelivery()
    with transaction.atomic():
        checkout, payment = locks.lock_checkout_of(Payment, payment.pk)
        if payment.status in Payment.CAPTURED:
            return payment
        if payment.status not in Payment.OPEN or checkout.status != Checkout.Status.PAID:
            raise PaymentClosed(details={"status": payment.status})
        if (
            not actor.is_staff
            and not Order.objects.filter(checkout=checkout, store__owner=actor).exists()
        ):
            raise Http404
        payment.move_to(Payment.Status.SUCCEEDED)
        payment.succeeded_at = payment.collected_at = timezone.now()
        payment.collected_by = actor
        payment.save()
        record_attempt(payment, PaymentAttempt.Action.COLLECT, outcome="succeeded",
                       response={"collected_by": actor.pk})  # fmt: skip
        notify.payment_succeeded(payment)
    logger.info("cash collected", extra={"payment_id": payment.pk, "user_id": actor.pk})
    return payment
