"""Refunds: full or partial, capped at what is left, optionally restocking the returned units.

A refund is written ``pending`` in the transaction that decides it (a staff or owner request, a
cancelled paid order, a late or duplicate payment), which counts it against what is refundable
at once, so two refunds can't both take the last of it. The provider is called after commit
(``process_refund``) with the refund's own idempotency key, so a retry after a timeout can't pay
twice; until the provider says yes it stays pending and is retried with backoff.
"""

import logging
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.models import User
from core import outbox
from orders.models import Order
from orders.services import aftersale, locks
from payments.exceptions import (
    GatewayUnavailable,
    PaymentGatewayError,
    PaymentNotRefundable,
    RefundExceedsRefundable,
)
from payments.gateways import get_gateway, sanitize
from payments.models import Gateway, Payment, Refund
from payments.services import notify

logger = logging.getLogger(__name__)

ZERO = Decimal("0.00")
REFUNDABLE = (Payment.Status.SUCCEEDED, Payment.Status.PARTIALLY_REFUNDED)
COUNTED = (Refund.Status.PENDING, Refund.Status.SUCCEEDED)


def _sum(refunds: "object") -> Decimal:
    return refunds.aggregate(total=Sum("amount"))["total"] or ZERO  # type: ignore[attr-defined]


def payment_refundable(payment: Payment) -> Decimal:
    """What is left to refund: the amount less refunds done or under way."""
    if payment.status not in REFUNDABLE:
        return ZERO
    return payment.amount - _sum(payment.refunds.filter(status__in=COUNTED))


def order_refundable(payment: Payment, order: Order) -> Decimal:
    """What is left to refund of one order: nothing if it was never sold (cancelled or expired
    before payment) or if this payment isn't the one that paid for it (a duplicate), else its
    total less its refunds, within what the payment has left."""
    if not payment.settled_checkout or not aftersale.was_sold(order):
        return ZERO
    return min(
        payment_refundable(payment),
        order.total - _sum(Refund.objects.filter(order=order, status__in=COUNTED)),
    )


class NothingSold(PaymentNotRefundable):
    code = "order_not_sold"
    default_message = "None of your orders in this payment was sold: there is nothing to refund."


def _pick_order(payment: Payment, actor: User, order_id: int | None) -> Order | None:
    """The order a refund is for. Staff refunding a payment that sold nothing (a late payment
    whose automatic refund failed, say) refund the payment itself: None."""
    orders = Order.objects.filter(checkout_id=payment.checkout_id).select_related("store")
    if not actor.is_staff:
        orders = orders.filter(store__owner=actor)
        if not orders.exists():  # the payer, say: refunds are the seller's or staff's call
            raise PermissionDenied
    if payment.status not in REFUNDABLE:  # checked again under the lock
        raise PaymentNotRefundable(details={"status": payment.status})
    if order_id is not None:
        order = orders.filter(pk=order_id).first()
        if order is None:
            raise ValidationError(
                {"order_id": ["Not an order of this payment that you can refund."]}
            )
        if not payment.settled_checkout or not aftersale.was_sold(order):
            raise NothingSold(details={"order_id": order.pk, "status": order.status})
        return order
    sold = (
        [order for order in orders.order_by("pk") if aftersale.was_sold(order)]
        if payment.settled_checkout
        else []  # a duplicate or late payment paid for no order: it goes back whole
    )
    if len(sold) > 1:
        raise ValidationError(
            {"order_id": ["This payment paid several stores' orders: name the order to refund."]}
        )
    if sold:
        return sold[0]
    if actor.is_staff:
        return None
    raise NothingSold()


def _new_refund(**fields: Any) -> Refund:
    """A pending refund with its provider key fixed for good (see Refund.idempotency_key)."""
    refund = Refund.objects.create(**fields)
    refund.idempotency_key = f"{settings.PAYMENT_KEY_PREFIX}-refund-{refund.pk}"
    refund.save(update_fields=["idempotency_key"])
    return refund


def create_refund(
    *,
    payment: Payment,
    actor: User,
    amount: Decimal,
    reason: str = "",
    restock: bool = False,
    order_id: int | None = None,
    restock_items: Mapping[int, int] | None = None,
) -> Refund:
    """Staff or the owner of the refunded order's store gives money back, at most what the
    payment and the order have left (RefundExceedsRefundable, 409, otherwise). With ``restock``
    the order's units (all those not yet returned, or ``restock_items``: line id → units) go
    back on sale in the same transaction. The provider is then asked (``process_refund``)."""
    payment.refresh_from_db(fields=["status", "settled_checkout"])
    order = _pick_order(payment, actor, order_id)
    with transaction.atomic():
        _, payment = locks.lock_checkout_of(Payment, payment.pk)
        if payment.status not in REFUNDABLE:
            raise PaymentNotRefundable(details={"status": payment.status})
        left = payment_refundable(payment) if order is None else order_refundable(payment, order)
        if amount > left:
            raise RefundExceedsRefundable(
                details={
                    "refundable": str(left),
                    "requested": str(amount),
                    "order_id": None if order is None else order.pk,
                }
            )
        refund = _new_refund(
            payment=payment,
            order=order,
            kind=Refund.Kind.MANUAL,
            amount=amount,
            currency=payment.currency,
            reason=reason[:255],
            restock=restock and order is not None,
            requested_by=actor,
        )
        if restock and order is not None:
            aftersale.restock_order(
                order=order,
                actor=actor,
                quantities=restock_items,
                note=f"refund {refund.pk}: {reason}"[:255],
            )
    logger.info(
        "refund requested",
        extra={"refund_id": refund.pk, "payment_id": payment.pk, "user_id": actor.pk},
    )
    return _try_now(refund)


def _try_now(refund: Refund) -> Refund:
    """Ask the provider at once; if it isn't answering, the task retries with backoff."""
    from payments import tasks

    try:
        return process_refund(refund_id=refund.pk)
    except (PaymentGatewayError, GatewayUnavailable):
        outbox.enqueue(
            tasks.process_refund_task,
            {"refund_id": refund.pk},
            eta=timezone.now() + timedelta(seconds=30),
        )
        refund.refresh_from_db()
        return refund


def refund_automatically(
    payment: Payment,
    *,
    kind: str,
    reason: str,
    amount: Decimal | None = None,
    order: Order | None = None,
    actor: User | None = None,
) -> Refund | None:
    """A refund the system decides (late or duplicate payment, overpayment, a cancelled paid
    order). The caller holds the checkout and payment locks; the provider is called after
    commit. Returns None when nothing is left to refund."""
    from payments import tasks

    left = payment_refundable(payment) if order is None else order_refundable(payment, order)
    amount = left if amount is None else min(amount, left)
    if amount <= 0:
        return None
    refund = _new_refund(
        payment=payment,
        order=order,
        kind=kind,
        amount=amount,
        currency=payment.currency,
        reason=reason[:255],
        requested_by=actor,
    )
    outbox.enqueue(tasks.process_refund_task, {"refund_id": refund.pk})
    logger.info("automatic refund", extra={"refund_id": refund.pk, "kind": kind})
    return refund


def refund_cancelled_order(order: Order, actor: User | None) -> None:
    """The orders app's hook: a paid order was cancelled (and restocked) in this transaction.
    Its money goes back in full; an uncollected cash-on-delivery payment whose every order is
    now cancelled is simply cancelled."""
    payments = locks.lock_owned(Payment.objects.filter(checkout_id=order.checkout_id))
    for payment in payments:
        if payment.status in REFUNDABLE and order_refundable(payment, order) > 0:
            refund_automatically(
                payment,
                kind=Refund.Kind.CANCELLATION,
                reason=f"Order {order.number} was cancelled.",
                order=order,
                actor=actor,
            )
            return
    others_live = (
        Order.objects.filter(checkout_id=order.checkout_id)
        .exclude(pk=order.pk)
        .exclude(status=Order.Status.CANCELLED)
        .exists()
    )
    if not others_live:
        # Cash on delivery moved no money: closed here. A card payment still open (a second
        # attempt) is closed by the sweep, which cancels it at the provider first.
        Payment.objects.filter(
            checkout_id=order.checkout_id,
            status__in=Payment.statuses_that_can_move_to(Payment.Status.CANCELLED),
            gateway=Gateway.CASH_ON_DELIVERY,
        ).update(status=Payment.Status.CANCELLED, updated_at=timezone.now())


def process_refund(*, refund_id: int) -> Refund:
    """Ask the provider to give the money back, then record it. Safe to repeat: a settled
    refund is left alone and the provider sees the same idempotency key. Raises
    PaymentGatewayError if the provider isn't answering (the refund stays pending)."""
    refund = Refund.objects.select_related("payment").get(pk=refund_id)
    if refund.status != Refund.Status.PENDING:
        return refund
    Refund.objects.filter(pk=refund.pk).update(attempts=refund.attempts + 1)
    try:
        result = get_gateway(refund.payment.gateway).refund(refund.payment, refund)
    except PaymentGatewayError as exc:
        Refund.objects.filter(pk=refund.pk).update(failure_message=exc.message[:255])
        logger.warning("refund not reached the provider", extra={"refund_id": refund.pk})
        raise
    with transaction.atomic():
        _, payment = locks.lock_checkout_of(Payment, refund.payment_id)
        (refund,) = locks.lock_owned(Refund.objects.filter(pk=refund_id))
        if refund.status != Refund.Status.PENDING:
            return refund
        refund.response = sanitize(result.response)
        refund.provider_reference = result.reference
        refund.completed_at = timezone.now()
        if result.status == "failed":
            refund.status = Refund.Status.FAILED
            refund.failure_message = (result.message or result.error_code)[:255]
            refund.save()
            logger.warning("refund refused by the provider", extra={"refund_id": refund.pk})
            return refund
        refund.status = Refund.Status.SUCCEEDED
        refund.failure_message = ""
        refund.save()
        payment.refunded_amount += refund.amount
        payment.move_to(
            Payment.Status.REFUNDED
            if payment.refunded_amount >= payment.amount
            else Payment.Status.PARTIALLY_REFUNDED
        )
        payment.save(update_fields=["refunded_amount", "status", "updated_at"])
        order = refund.order
        if order is not None:
            refunded = _sum(Refund.objects.filter(order=order, status=Refund.Status.SUCCEEDED))
            if refunded >= order.total:  # moves it only while it is still on its way
                aftersale.mark_order_refunded(
                    order=order, actor=refund.requested_by, note=refund.reason
                )
        notify.payment_refunded(payment, refund_id=refund.pk, amount=refund.amount,
                                reason=refund.reason, kind=refund.kind)  # fmt: skip
    logger.info("refund succeeded", extra={"refund_id": refund.pk, "payment_id": payment.pk})
    return refund


def stalled_refund_ids(*, older_than_minutes: int = 15, limit: int = 200) -> list[int]:
    """Pending refunds whose task never ran or gave up early (a broker outage): beat asks the
    provider again, until REFUND_MAX_ATTEMPTS; after that they wait for staff in the admin."""
    return list(
        Refund.objects.filter(
            status=Refund.Status.PENDING,
            created_at__lt=timezone.now() - timedelta(minutes=older_than_minutes),
            attempts__lt=settings.REFUND_MAX_ATTEMPTS,
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
