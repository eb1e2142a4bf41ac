"""The payment window: a checkout is paid before its deadline, or it expires.

The window is enforced three ways, so a stopped worker never strands stock: the task at the
deadline (``expire_checkout``, set by the warning five minutes before, ``warn_and_set_expiry``,
for checkouts still unpaid then), a beat sweep every minute (``expire_due_checkouts``), and
lazily — every reserve path releases expired reservations on the rows it locks, and
availability never counts them. ``mark_checkout_paid`` is what a payment's success calls; every
function here takes its locks in the order ``orders.services.locks`` writes down.

A placed checkout's one outbox message runs ``follow_up_checkout`` in the worker: it sets the
window's timer and tells the buyer the order is placed.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import notify_user
from core import outbox
from core.bulk import insert_rows
from core.exceptions import Conflict
from notifications.events import push_many, push_to_user
from notifications.services import send_claimed
from orders.models import Checkout, Order, OrderEvent, OrderLine
from orders.services import locks
from orders.services.notify import email_order_status, email_orders_status
from products.models import Reservation
from products.services import stock

logger = logging.getLogger(__name__)

WARN_BEFORE = timedelta(minutes=5)  # the buyer's ``checkout.expiring`` warning


def follow_up_checkout(*, checkout_id: int) -> bool:
    """A placed checkout's follow-up, in the worker once it has committed (its one outbox
    message): the warning timer five minutes before the deadline (``window.warn_and_set_expiry``
    sets the expiry task at the deadline), then the ``order_placed`` notification (in-app, and
    the email, sent here). Once per checkout: a
    repeat finds the notification's key used and does nothing. Returns whether it ran now."""
    from orders import tasks

    checkout = Checkout.objects.select_related("buyer").get(pk=checkout_id)
    orders = list(checkout.orders.select_related("store").prefetch_related("lines").order_by("pk"))
    deadline = checkout.payment_deadline
    with transaction.atomic():
        buyer = checkout.buyer
        dispatch = notify_user(
            buyer,
            "order_placed",
            key=f"order_placed:{checkout.pk}",
            context={
                "checkout_id": checkout.pk,
                "first_name": buyer.first_name,
                "minutes": settings.PAYMENT_WINDOW_MINUTES,
                "deadline": deadline.strftime("%Y-%m-%d %H:%M"),
                "total": str(checkout.total),
                "currency": checkout.currency,
                "orders": [
                    {
                        "number": order.number,
                        "store": order.store.name,
                        "lines": [
                            {
                                "name": line.name,
                                "size": line.size_name,
                                "quantity": line.quantity,
                                "line_total": str(line.line_total),
                            }
                            for line in order.lines.all()
                        ],
                    }
                    for order in orders
                ],
            },
            queue=False,  # sent below, by this task
        )
        if dispatch is None:  # a repeat: the first run set the timers and told the buyer
            return False
        # One timer: the warning, which sets the expiry task if the checkout is still unpaid
        # then (most are paid by then, and need no second message); the expiry itself when
        # the window is too short for a warning.
        warn_at = deadline - WARN_BEFORE
        if warn_at > timezone.now():
            outbox.enqueue(
                tasks.warn_checkout_expiring_task, {"checkout_id": checkout_id}, eta=warn_at
            )
        else:
            outbox.enqueue(tasks.expire_checkout_task, {"checkout_id": checkout_id}, eta=deadline)
    send_claimed(dispatch)
    logger.info("checkout followed up", extra={"checkout_id": checkout_id})
    return True


class LatePaymentOutOfStock(Conflict):
    """A payment arrived after the window and the stock is gone: the payment must be refunded."""

    code = "late_payment_out_of_stock"
    default_message = "The payment window closed and the stock was sold to someone else."


# The orders a checkout-wide move applies to: a cancelled order stays cancelled.
LIVE_FOR_PAYMENT = (Order.Status.PENDING_PAYMENT, Order.Status.EXPIRED)


def _move_orders(orders: list[Order], to_status: str, *, actor: User | None = None) -> list[Order]:
    """Caller holds the checkout's lock. Raises InvalidTransition before writing anything."""
    moves = [(order, order.move_to(to_status)) for order in orders]
    OrderEvent.objects.bulk_create(
        [
            OrderEvent(order=order, from_status=was, to_status=to_status, actor=actor)
            for order, was in moves
        ]
    )
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(
        status=to_status, updated_at=timezone.now()
    )
    for order, was in moves:
        push_to_user(
            order.buyer_id,
            "order.status_changed",
            {"id": order.pk, "number": order.number, "from": was, "to": to_status},
        )
    return orders


def expire_checkout(*, checkout_id: int) -> bool:
    """Close an unpaid checkout whose deadline has passed: release its stock, expire its orders.
    Returns whether it expired now. Safe to call any number of times, racing a payment: the
    checkout row is locked, so exactly one of them wins."""
    with transaction.atomic():
        checkout = locks.lock_checkout(checkout_id)
        if (
            checkout is None
            or not checkout.can_move_to(Checkout.Status.EXPIRED)
            or checkout.payment_deadline > timezone.now()
        ):
            return False
        # Read, not locked: the checkout's lock already keeps every other writer of its orders out.
        pending = list(checkout.orders.filter(status=Order.Status.PENDING_PAYMENT).order_by("pk"))
        for order in pending:
            stock.release_reservations(reference=order.stock_reference)
        _move_orders(pending, Order.Status.EXPIRED)
        checkout.move_to(Checkout.Status.EXPIRED)
        checkout.save(update_fields=["status", "updated_at"])
        push_to_user(checkout.buyer_id, "checkout.expired", {"id": checkout.pk})
        for order in Order.objects.filter(pk__in=[o.pk for o in pending]).select_related(
            "store", "buyer"
        ):
            email_order_status(order=order)
    logger.info("checkout expired", extra={"checkout_id": checkout_id})
    return True


def warn_and_set_expiry(*, checkout_id: int) -> bool:
    """The timer ``WARN_BEFORE`` the deadline: an unpaid checkout's buyer is told the window
    is closing (``checkout.expiring``) and the expiry task is set at the deadline; a settled
    checkout needs neither. Returns whether it was still unpaid. An early delivery (eager
    mode, a clock ahead) sets the expiry but warns no one ahead of time."""
    from orders import tasks

    with transaction.atomic():
        checkout = Checkout.objects.filter(
            pk=checkout_id, status=Checkout.Status.PENDING_PAYMENT
        ).first()
        if checkout is None:
            return False
        deadline = checkout.payment_deadline
        if timezone.now() >= deadline - WARN_BEFORE - timedelta(seconds=5):
            push_to_user(
                checkout.buyer_id,
                "checkout.expiring",
                {"id": checkout.pk, "payment_deadline": deadline},
            )
        outbox.enqueue(tasks.expire_checkout_task, {"checkout_id": checkout.pk}, eta=deadline)
    return True


def expire_due_checkouts() -> int:
    """The beat sweep: every unpaid checkout past its deadline, in a few set-based statements
    whatever their number. Returns how many expired."""
    now = timezone.now()
    with transaction.atomic():
        due = list(
            locks.lock_due_checkouts(
                Checkout.objects.filter(
                    status__in=Checkout.statuses_that_can_move_to(Checkout.Status.EXPIRED),
                    payment_deadline__lte=now,
                )
            ).values_list("pk", "buyer_id")
        )
        if not due:
            return 0
        ids = [pk for pk, _ in due]
        orders = list(
            Order.objects.filter(
                checkout_id__in=ids, status=Order.Status.PENDING_PAYMENT
            ).values_list("pk", "status")
        )
        # Only these checkouts' holds: a checkout locked by a payment in progress is skipped
        # above, and its reservations stay its own.
        stock.release_expired_reservations(references=[f"order:{pk}" for pk, _ in orders])
        insert_rows(
            OrderEvent,
            ["order_id", "type", "from_status", "to_status", "note", "created_at"],
            [(pk, "status_changed", s, Order.Status.EXPIRED, "", now) for pk, s in orders],
        )
        Order.objects.filter(pk__in=[pk for pk, _ in orders]).update(
            status=Order.Status.EXPIRED, updated_at=now
        )
        Checkout.objects.filter(pk__in=ids).update(status=Checkout.Status.EXPIRED, updated_at=now)
        push_many(
            (buyer_id, "checkout.expired", {"id": checkout_id})
            for checkout_id, buyer_id in sorted(due, key=lambda row: (row[1], row[0]))
        )
        expired_ids = [pk for pk, _ in orders]
        email_orders_status(
            Order.objects.filter(pk__in=expired_ids).select_related("store", "buyer")
        )
    logger.info("expired due checkouts", extra={"count": len(due)})
    return len(due)


def mark_checkout_paid(*, checkout_id: int) -> Checkout:
    """The payment succeeded: held stock becomes sales and the orders move to ``paid``.

    Idempotent. After the deadline the late-payment rule applies: the stock is reserved again
    and sold if it is still free, else LatePaymentOutOfStock is raised so the payment can be
    refunded. Locks the checkout row, so it can't interleave with expiry.
    """
    with transaction.atomic():
        checkout = locks.lock_checkout(checkout_id)
        assert checkout is not None
        if checkout.status == Checkout.Status.PAID:
            return checkout
        if checkout.status == Checkout.Status.CANCELLED:
            raise LatePaymentOutOfStock("The checkout was cancelled.")
        orders = list(checkout.orders.filter(status__in=LIVE_FOR_PAYMENT).order_by("pk"))
        if not orders:
            raise LatePaymentOutOfStock("Every order of this checkout was cancelled.")
        # Lock the sizes, then the holds, before looking at the clock: from here no sweep or
        # lazy release can take them, so if they are all still here the payment is on time.
        locks.lock_sizes(
            OrderLine.objects.filter(order__in=orders).values_list("size_id", flat=True)
        )
        held = sum(
            Reservation.objects.select_for_update()
            .filter(
                reference__in=[o.stock_reference for o in orders],
                status=Reservation.Status.ACTIVE,
            )
            .values_list("quantity", flat=True)
        )
        needed = sum(OrderLine.objects.filter(order__in=orders).values_list("quantity", flat=True))
        late = (
            checkout.status == Checkout.Status.EXPIRED
            or checkout.payment_deadline <= timezone.now()
            or held != needed
        )
        if late:
            for order in orders:
                stock.release_reservations(reference=order.stock_reference)
            try:
                with transaction.atomic():
                    for order in orders:
                        stock.reserve_stock(
                            lines=[
                                stock.StockRequest(line.size_id, line.quantity)
                                for line in order.lines.all()
                            ],
                            until=timezone.now() + timedelta(minutes=1),
                            reference=order.stock_reference,
                        )
            except stock.OutOfStock as exc:
                raise LatePaymentOutOfStock(details=exc.details) from exc
        for order in orders:
            stock.commit_reservations(reference=order.stock_reference)
        _move_orders(orders, Order.Status.PAID)
        checkout.move_to(Checkout.Status.PAID)
        checkout.paid_at = timezone.now()
        checkout.save(update_fields=["status", "paid_at", "updated_at"])
    logger.info("checkout paid", extra={"checkout_id": checkout_id, "late": late})
    return checkout
