"""Order status changes by people: one service per move, each re-reading the row under lock,
refusing illegal moves with InvalidTransition and writing an event."""

import logging
from decimal import Decimal

from django.db import transaction

from accounts.models import User
from core.exceptions import InvalidTransition
from notifications.events import push_to_user
from orders.models import Checkout, Order, OrderEvent
from orders.services import aftersale, locks
from orders.services.notify import email_order_status
from products.services import stock

logger = logging.getLogger(__name__)

# Who may make which move through the API. Payment moves (to paid, expired, refunded) are the
# system's. Cancelling a paid order before it ships refunds the buyer and restocks.
PAID_CANCELS = {
    (Order.Status.PAID, Order.Status.CANCELLED),
    (Order.Status.PROCESSING, Order.Status.CANCELLED),
}
OWNER_MOVES = {
    (Order.Status.PAID, Order.Status.PROCESSING),
    (Order.Status.PROCESSING, Order.Status.SHIPPED),
    (Order.Status.SHIPPED, Order.Status.DELIVERED),
    *PAID_CANCELS,
}
BUYER_MOVES = {(Order.Status.PENDING_PAYMENT, Order.Status.CANCELLED), *PAID_CANCELS}
EMAILED = {Order.Status.SHIPPED, Order.Status.DELIVERED, Order.Status.CANCELLED}


def change_order_status(*, order: Order, actor: User, to_status: str, note: str = "") -> Order:
    """Raises InvalidTransition for a move the actor may not make from the current status."""
    with transaction.atomic():
        checkout, order = locks.lock_checkout_of(Order, order.pk)
        move = (order.status, to_status)
        is_owner = order.store.owner_id == actor.pk
        is_buyer = order.buyer_id == actor.pk
        allowed = order.can_move_to(to_status) and (
            (move in OWNER_MOVES and (is_owner or actor.is_staff))
            or (move in BUYER_MOVES and (is_buyer or actor.is_staff))
        )
        if not allowed:
            raise InvalidTransition(
                f"An order that is {order.status} can't be moved to {to_status} by you.",
                details={"from": order.status, "to": to_status},
            )
        if move == (Order.Status.PENDING_PAYMENT, Order.Status.CANCELLED):
            stock.release_reservations(reference=order.stock_reference)
        elif move in PAID_CANCELS:
            aftersale.restock_order(order=order, actor=actor, note=note or "order cancelled")
            aftersale.paid_order_cancelled(order, actor)
        OrderEvent.objects.create(
            order=order,
            from_status=order.move_to(to_status),
            to_status=to_status,
            actor=actor,
            note=note,
        )
        order.save(update_fields=["status", "updated_at"])
        if (
            to_status == Order.Status.CANCELLED
            and checkout.status == Checkout.Status.PENDING_PAYMENT
        ):
            # The checkout now pays for what is left of it; nothing left cancels it. (A paid
            # checkout keeps the total it was paid; the refund records what went back.)
            remaining = checkout.orders.exclude(status=Order.Status.CANCELLED)
            checkout.total = sum(remaining.values_list("total", flat=True), Decimal("0.00"))
            if not remaining.exists():
                checkout.move_to(Checkout.Status.CANCELLED)
            checkout.save(update_fields=["total", "status", "updated_at"])
        push_to_user(
            order.buyer_id,
            "order.status_changed",
            {"id": order.pk, "number": order.number, "from": move[0], "to": to_status},
        )
        if to_status in EMAILED:
            email_order_status(order=order, note=note)
    logger.info(
        "order status changed",
        extra={"order_id": order.pk, "from": move[0], "to": to_status, "user_id": actor.pk},
    )
    return order
