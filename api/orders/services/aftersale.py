"""After the sale: putting sold units back on sale and marking orders refunded.

Payments never touch stock or order rows themselves (DESIGN.md): a refund with restock calls
``restock_order``, a full refund calls ``mark_order_refunded``. Both expect the caller to hold
the checkout's lock (``orders.services.locks``).

A cancelled paid order needs its money back, which is the payments app's business, and the
orders app may not import it. Payments registers a handler here instead
(``register_paid_order_cancelled``), the single registration point; the transitions service
calls it inside the cancelling transaction, so a cancellation and its refund request commit
together. A system check (``orders.checks``) refuses to start without a handler.
"""

import logging
from collections.abc import Callable, Mapping

from django.db import transaction

from accounts.models import User
from core.exceptions import ApplicationError, Conflict
from notifications.events import push_to_user
from orders.models import Order, OrderEvent, OrderLine
from orders.services import locks
from orders.services.notify import email_order_status
from products.models import Size, StockMovement
from products.services import stock

logger = logging.getLogger(__name__)

PaidOrderCancelledHandler = Callable[[Order, User | None], None]
_paid_order_cancelled: list[PaidOrderCancelledHandler] = []


def register_paid_order_cancelled(handler: PaidOrderCancelledHandler) -> None:
    """Called with (order, actor) inside the transaction that cancelled a paid order."""
    if handler not in _paid_order_cancelled:
        _paid_order_cancelled.append(handler)


def paid_order_cancelled_handlers() -> list[PaidOrderCancelledHandler]:
    """What is registered: ``orders.checks`` refuses to start without a handler."""
    return list(_paid_order_cancelled)


def paid_order_cancelled(order: Order, actor: User | None) -> None:
    if not _paid_order_cancelled:  # pragma: no cover - orders.E001 stops such a start first
        raise ApplicationError("Paid orders can't be cancelled: nothing would refund them.")
    for handler in _paid_order_cancelled:
        handler(order, actor)


class RestockTooMuch(Conflict):
    code = "restock_exceeds_sold"
    default_message = "More units than were sold and not yet returned."


class OrderNotSold(Conflict):
    code = "order_not_sold"
    default_message = "This order was never paid: nothing of it was sold."


def was_sold(order: Order) -> bool:
    """Whether the order's stock was ever sold (it reached ``paid``; cash on delivery too)."""
    return OrderEvent.objects.filter(order=order, to_status=Order.Status.PAID).exists()


def restock_order(
    *,
    order: Order,
    actor: User | None,
    quantities: Mapping[int, int] | None = None,
    note: str = "",
) -> dict[int, int]:
    """Return sold units to stock (a ``return`` movement per line), at most what each line sold
    and has not yet returned. ``quantities`` maps line id → units; None returns everything left.
    Returns line id → units returned. Raises RestockTooMuch (nothing changes) for a line over
    its limit or not of this order."""
    if not was_sold(order):
        raise OrderNotSold(details={"order_id": order.pk, "status": order.status})
    with transaction.atomic():
        lines = locks.lock_owned(OrderLine.objects.filter(order=order))
        by_id = {line.pk: line for line in lines}
        wanted = (
            {line.pk: line.quantity - line.restocked_quantity for line in lines}
            if quantities is None
            else dict(quantities)
        )
        over = [
            {
                "line_id": line_id,
                "requested": units,
                "returnable": (
                    by_id[line_id].quantity - by_id[line_id].restocked_quantity
                    if line_id in by_id
                    else 0
                ),
            }
            for line_id, units in sorted(wanted.items())
            if line_id not in by_id
            or units < 0
            or units > by_id[line_id].quantity - by_id[line_id].restocked_quantity
        ]
        if over:
            raise RestockTooMuch(details={"lines": over})
        wanted = {line_id: units for line_id, units in wanted.items() if units}
        locks.lock_sizes(by_id[line_id].size_id for line_id in wanted)
        for line_id in sorted(wanted, key=lambda pk: (by_id[pk].size_id, pk)):
            line = by_id[line_id]
            stock.adjust_stock(
                size=Size(pk=line.size_id),
                delta=wanted[line_id],
                actor=actor,
                reason=StockMovement.Reason.RETURN,
                reference=order.stock_reference,
                note=note[:255],
            )
            line.restocked_quantity += wanted[line_id]
            line.save(update_fields=["restocked_quantity"])
    if wanted:
        logger.info("order restocked", extra={"order_id": order.pk, "units": sum(wanted.values())})
    return wanted


def mark_order_refunded(*, order: Order, actor: User | None, note: str = "") -> bool:
    """Every paid unit of the order was refunded: move it to ``refunded`` if it is still on its
    way (paid to delivered). Any other order keeps its status — a cancelled one stays cancelled
    (its refund is the cancellation's). Returns whether it moved; never refuses, because the
    money has already gone back when this is called."""
    with transaction.atomic():
        (order,) = locks.lock_owned(Order.objects.filter(pk=order.pk))
        if not order.can_move_to(Order.Status.REFUNDED):
            return False
        from_status = order.move_to(Order.Status.REFUNDED)
        OrderEvent.objects.create(
            order=order,
            from_status=from_status,
            to_status=Order.Status.REFUNDED,
            actor=actor,
            note=note[:255],
        )
        order.save(update_fields=["status", "updated_at"])
        push_to_user(
            order.buyer_id,
            "order.status_changed",
            {"id": order.pk, "number": order.number, "from": from_status, "to": order.status},
        )
        email_order_status(order=order, note=note)
    logger.info("order refunded", extra={"order_id": order.pk})
    return True
