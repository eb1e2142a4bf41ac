"""The segment fields orders owns (notifications.segments): where a buyer lives and what they
bought. A purchase is an order that was paid and not undone: paid, processing, shipped or
delivered (not pending payment, cancelled, expired or refunded)."""

from decimal import Decimal

from django.db.models import CharField, DecimalField, OuterRef, Subquery, Sum, Value
from django.db.models.expressions import BaseExpression
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce

from notifications.segments import register_field
from orders.models import Order

PURCHASED = (
    Order.Status.PAID,
    Order.Status.PROCESSING,
    Order.Status.SHIPPED,
    Order.Status.DELIVERED,
)
MONEY = DecimalField(max_digits=14, decimal_places=2)


def city() -> BaseExpression:
    """The city of the shipping address of the buyer's latest order (whatever became of it: an
    address typed is where they live); none without orders."""
    latest = (
        Order.objects.filter(buyer=OuterRef("pk"))
        .order_by("-created_at", "-id")
        .annotate(segment_city=KT("shipping_address__city"))
        .values("segment_city")[:1]
    )
    return Subquery(latest, output_field=CharField())


def last_purchase_at() -> BaseExpression:
    """When the buyer's latest purchase was placed; none without one."""
    latest = (
        Order.objects.filter(buyer=OuterRef("pk"), status__in=PURCHASED)
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    return Subquery(latest)


def total_spent() -> BaseExpression:
    """The sum of the buyer's purchases' totals (0 without any). One currency is assumed."""
    spent = (
        Order.objects.filter(buyer=OuterRef("pk"), status__in=PURCHASED)
        .order_by()
        .values("buyer")
        .annotate(spent=Sum("total"))
        .values("spent")[:1]
    )
    return Coalesce(Subquery(spent, output_field=MONEY), Value(Decimal("0")), output_field=MONEY)


register_field(
    "city",
    type="choice",
    expression=city,
    groupable=True,
    description="The city of the latest order's shipping address (null: no orders).",
)
register_field(
    "last_purchase_at",
    type="date",
    expression=last_purchase_at,
    description="When the latest paid (processing, shipped, delivered) order was placed.",
)
register_field(
    "total_spent",
    type="decimal",
    expression=total_spent,
    description="The sum of paid (processing, shipped, delivered) orders' totals.",
)
