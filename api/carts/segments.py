"""The segment field carts owns (notifications.segments): ``cart_state``.

* ``empty`` — no cart, or a cart with no items;
* ``active`` — items, and one was added or changed within the last ABANDONED_AFTER (24 h);
* ``abandoned`` — items, none added or changed for ABANDONED_AFTER.

A change is an item's ``updated_at``, so this is as fresh as the cart services keep that column.
"""

from datetime import timedelta

from django.db.models import Case, CharField, Max, OuterRef, Subquery, Value, When
from django.db.models.expressions import BaseExpression
from django.db.models.lookups import GreaterThanOrEqual, IsNull
from django.utils import timezone

from carts.models import CartItem
from notifications.segments import register_field

ABANDONED_AFTER = timedelta(hours=24)
CART_STATES = ("empty", "active", "abandoned")


def cart_state() -> BaseExpression:
    last_change = Subquery(
        CartItem.objects.filter(cart__user=OuterRef("pk"))
        .order_by()
        .values("cart")
        .annotate(last=Max("updated_at"))
        .values("last")[:1]
    )
    since = timezone.now() - ABANDONED_AFTER
    return Case(
        When(IsNull(last_change, True), then=Value("empty")),
        When(GreaterThanOrEqual(last_change, since), then=Value("active")),
        default=Value("abandoned"),
        output_field=CharField(),
    )


register_field(
    "cart_state",
    type="choice",
    choices=CART_STATES,
    expression=cart_state,
    groupable=True,
    description="empty, active (changed within 24 h) or abandoned (items untouched for 24 h).",
)
