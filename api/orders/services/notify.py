from collections.abc import Iterable

from accounts.services import notify_user
from notifications.services import Notice, notify_many
from orders.models import Order


def _context(order: Order, note: str) -> dict:
    return {
        "first_name": order.buyer.first_name,
        "order_id": order.pk,
        "number": order.number,
        "store": order.store.name,
        "status": order.status,
        "note": note,
    }


def email_order_status(*, order: Order, note: str = "") -> None:
    """Tell the buyer about an order's new status (email and in-app), after commit, once per
    order and status."""
    notify_user(
        order.buyer,
        "order_status",
        key=f"order_status:{order.pk}:{order.status}",
        context=_context(order, note),
    )


def email_orders_status(orders: Iterable[Order]) -> None:
    """``email_order_status`` for many orders (a sweep's), in a fixed number of statements."""
    notify_many(
        [
            Notice(
                "order_status",
                key=f"order_status:{order.pk}:{order.status}",
                context=_context(order, ""),
                user_id=order.buyer_id,
                address=order.buyer.email,
                language=order.buyer.language,
            )
            for order in orders
        ]
    )
