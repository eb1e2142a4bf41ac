from accounts.services import notify_user
from orders.models import Order


def email_order_status(*, order: Order, note: str = "") -> None:
    """Tell the buyer about an order's new status (email and in-app), after commit, once per
    order and status."""
    notify_user(
        order.buyer,
        "order_status",
        key=f"order_status:{order.pk}:{order.status}",
        context={
            "first_name": order.buyer.first_name,
            "order_id": order.pk,
            "number": order.number,
            "store": order.store.name,
            "status": order.status,
            "note": note,
        },
    )
