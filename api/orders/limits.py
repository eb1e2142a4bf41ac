"""Limits against inventory hoarding: how much one buyer may hold unpaid, and how much of a
capped product (a drop) one buyer may buy in all.

Checked inside the checkout's transaction with the buyer's row locked (``locks.lock_buyer``),
so a buyer's concurrent checkouts count each other's holds instead of each passing alone.
Settings in ``api.settings.limits``; docs/operations.md lists them.
"""

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.utils import timezone

from accounts.models import User
from core.exceptions import Conflict
from orders.models import Order, OrderLine


class HoldLimitReached(Conflict):
    code = "hold_limit_reached"
    default_message = "You are holding as many unpaid units as one buyer may; pay or cancel first."


class TooManyOpenCheckouts(Conflict):
    code = "too_many_open_checkouts"
    default_message = "You have as many unpaid checkouts as one buyer may; pay or cancel one first."


class PurchaseLimitReached(Conflict):
    code = "purchase_limit_reached"
    default_message = "This product is limited per buyer."


# Orders that count toward a product's cap: everything not given back.
COUNTED_STATUSES = (
    Order.Status.PENDING_PAYMENT,
    Order.Status.PAID,
    Order.Status.PROCESSING,
    Order.Status.SHIPPED,
    Order.Status.DELIVERED,
)


def _unpaid(buyer: User) -> Q:
    return Q(
        order__checkout__buyer=buyer,
        order__status=Order.Status.PENDING_PAYMENT,
        order__checkout__payment_deadline__gt=timezone.now(),
    )


def check_holds(*, buyer: User, units: int) -> None:
    """A new checkout of ``units`` would keep the buyer within both hold limits (one query:
    every checkout has lines, so its unpaid lines count both)."""
    holding = OrderLine.objects.filter(_unpaid(buyer)).aggregate(
        units=Sum("quantity"), checkouts=Count("order__checkout", distinct=True)
    )
    open_checkouts, held = holding["checkouts"], holding["units"] or 0
    if open_checkouts >= settings.HOLD_MAX_OPEN_CHECKOUTS:
        raise TooManyOpenCheckouts(
            details={"open_checkouts": open_checkouts, "limit": settings.HOLD_MAX_OPEN_CHECKOUTS}
        )
    if held + units > settings.HOLD_MAX_UNITS:
        raise HoldLimitReached(
            details={"held": held, "requested": units, "limit": settings.HOLD_MAX_UNITS}
        )


def bought_of(*, buyer: User, product_ids: Iterable[int]) -> dict[int, int]:
    """Units of each product the buyer has bought or holds (orders not given back)."""
    rows = (
        OrderLine.objects.filter(
            order__checkout__buyer=buyer,
            product_id__in=list(product_ids),
            order__status__in=COUNTED_STATUSES,
        )
        .exclude(
            order__status=Order.Status.PENDING_PAYMENT,
            order__checkout__payment_deadline__lte=timezone.now(),
        )
        .values("product_id")
        .annotate(units=Sum("quantity"))
    )
    return {row["product_id"]: row["units"] for row in rows}


def check_caps(*, buyer: User, lines: Iterable[tuple[Any, int]]) -> None:
    """``lines``: (product, quantity). Raises PurchaseLimitReached naming every capped product
    the buyer would go past."""
    wanted: dict[int, int] = defaultdict(int)
    caps: dict[int, int] = {}
    for product, quantity in lines:
        if product.max_per_buyer is not None:
            wanted[product.pk] += quantity
            caps[product.pk] = product.max_per_buyer
    if not caps:
        return
    bought = bought_of(buyer=buyer, product_ids=caps)
    over = [
        {"product_id": pk, "limit": caps[pk], "bought": bought.get(pk, 0), "requested": units}
        for pk, units in wanted.items()
        if bought.get(pk, 0) + units > caps[pk]
    ]
    if over:
        raise PurchaseLimitReached(details={"products": over})
