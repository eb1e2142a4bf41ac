from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from accounts.models import User
from orders.models import Checkout, Order, OrderEvent, OrderLine


def _orders() -> QuerySet[Order]:
    return Order.objects.select_related("store").prefetch_related(
        Prefetch(
            "lines", queryset=OrderLine.objects.select_related("product_version").order_by("id")
        ),
        Prefetch("events", queryset=OrderEvent.objects.select_related("actor").order_by("id")),
    )


def list_buyer_orders(*, user: User) -> QuerySet[Order]:
    return _orders().filter(buyer=user).order_by("-created_at", "-id")


def list_store_orders(*, store_id: int) -> QuerySet[Order]:
    return _orders().filter(store_id=store_id).order_by("-created_at", "-id")


def get_order_for_user(*, order_id: int, user: User) -> Order:
    """The buyer, the store's owner and staff see an order; anyone else gets a 404."""
    orders = _orders()
    if not user.is_staff:
        orders = orders.filter(Q(buyer=user) | Q(store__owner=user))
    order = orders.filter(pk=order_id).first()
    if order is None:
        raise Http404
    return order


def get_checkout_for_user(*, checkout_id: int, user: User) -> Checkout:
    checkout = (
        Checkout.objects.filter(pk=checkout_id, buyer=user)
        .prefetch_related(Prefetch("orders", queryset=_orders().order_by("pk")))
        .first()
    )
    if checkout is None:
        raise Http404
    return checkout
