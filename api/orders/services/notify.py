from notifications.services import Email, send_emails_after_commit
from orders.models import Order


def email_order_status(*, order: Order, note: str = "") -> None:
    """The buyer's email about an order's new status, sent after commit."""
    send_emails_after_commit([order_status_email(order=order, note=note)])


def order_status_email(*, order: Order, note: str = "") -> Email:
    return Email(
        to=order.buyer.email,
        template="order_status",
        context={
            "first_name": order.buyer.first_name,
            "number": order.number,
            "store": order.store.name,
            "status": order.status,
            "note": note,
        },
    )
