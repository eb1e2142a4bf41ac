from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.http import Http404

from accounts.models import User
from orders.models import Order, OrderEvent
from payments.models import Gateway, Payment, PaymentAttempt, Refund

ZERO = Decimal("0.00")


def _payments(payments: QuerySet[Payment] | None = None) -> QuerySet[Payment]:
    return (Payment.objects.all() if payments is None else payments).prefetch_related(
        Prefetch("attempts", queryset=PaymentAttempt.objects.order_by("id")),
        Prefetch("refunds", queryset=Refund.objects.select_related("order__store").order_by("id")),
    )


def list_payer_payments(*, user: User) -> QuerySet[Payment]:
    return _payments().filter(payer=user).order_by("-created_at", "-id")


def visible_payments(*, user: User) -> QuerySet[Payment]:
    """The payer's own, those paying an order of a store the user owns, all for staff."""
    payments = Payment.objects.all()
    if not user.is_staff:
        owned = Order.objects.filter(store__owner=user).values("checkout_id")
        payments = payments.filter(Q(payer=user) | Q(checkout_id__in=owned))
    return payments


@dataclass(frozen=True)
class StoreShare:
    """What of a payment belongs to the viewing store owner's orders."""

    amount: Decimal
    refunded: Decimal


def store_share(*, payment: Payment, user: User) -> StoreShare | None:
    """None for the payer and staff, who see the whole payment. A store's owner sees only their
    own orders' part of it: a checkout's other stores are their competitors."""
    if user.is_staff or payment.payer_id == user.pk:
        return None
    amount = Order.objects.filter(checkout_id=payment.checkout_id, store__owner=user).aggregate(
        amount=Sum("total")
    )["amount"]
    refunded = sum(
        (
            r.amount
            for r in payment.refunds.all()
            if r.order is not None
            and r.order.store.owner_id == user.pk
            and r.status == Refund.Status.SUCCEEDED
        ),
        ZERO,
    )
    return StoreShare(amount=amount or ZERO, refunded=refunded)


def get_payment_for_user(*, payment_id: int, user: User) -> Payment:
    """Anyone else gets a 404: a payment's existence is not theirs to learn."""
    found = _payments(visible_payments(user=user)).filter(pk=payment_id).first()
    if found is None:
        raise Http404
    return found


# --- analytics ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnalyticsScope:
    user: User
    date_from: date
    date_to: date  # inclusive
    store_id: int | None = None


def _day_range(scope: AnalyticsScope) -> tuple[Any, Any]:
    from datetime import datetime, time

    from django.utils import timezone

    start = datetime.combine(scope.date_from, time.min, tzinfo=timezone.get_current_timezone())
    end = datetime.combine(
        scope.date_to + timedelta(days=1), time.min, tzinfo=timezone.get_current_timezone()
    )
    return start, end


def payment_analytics(scope: AnalyticsScope) -> dict[str, Any]:
    """Sales, refunds and payment outcomes per day and currency, in four grouped queries
    whatever the range. Staff see everything (or one store); a store's owner only their stores.

    * revenue: the totals of orders sold that day (their checkout was paid, or committed for
      cash on delivery) — not orders cancelled before payment, nor cash-on-delivery orders
      cancelled before the cash changed hands; later refunds are counted on their own day;
    * refunded: refunds that went through that day; net = revenue - refunded;
    * payments: payments opened that day that succeeded (incl. later refunded) or failed or
      were cancelled unpaid; success rate = succeeded / (succeeded + failed + cancelled).
    """
    start, end = _day_range(scope)
    # Sold: the order reached `paid` (stock committed); not one cancelled before payment, and
    # not a cash-on-delivery order cancelled before the cash changed hands.
    sold = Exists(OrderEvent.objects.filter(order=OuterRef("pk"), to_status=Order.Status.PAID))
    uncollected_cancelled = Exists(
        Payment.objects.filter(
            checkout_id=OuterRef("checkout_id"),
            gateway=Gateway.CASH_ON_DELIVERY,
            status=Payment.Status.CANCELLED,
        )
    )
    orders = Order.objects.filter(
        sold, ~uncollected_cancelled, checkout__paid_at__gte=start, checkout__paid_at__lt=end
    )
    refunds = Refund.objects.filter(
        status=Refund.Status.SUCCEEDED, completed_at__gte=start, completed_at__lt=end
    )
    payments = Payment.objects.filter(created_at__gte=start, created_at__lt=end)
    if not scope.user.is_staff:
        orders = orders.filter(store__owner=scope.user)
        refunds = refunds.filter(order__store__owner=scope.user)
        payments = payments.filter(
            checkout_id__in=Order.objects.filter(store__owner=scope.user).values("checkout_id")
        )
    if scope.store_id is not None:
        orders = orders.filter(store_id=scope.store_id)
        refunds = refunds.filter(order__store_id=scope.store_id)
        payments = payments.filter(
            checkout_id__in=Order.objects.filter(store_id=scope.store_id).values("checkout_id")
        )

    rows: dict[tuple[date, str], dict[str, Any]] = {}

    def row(day: date, currency: str) -> dict[str, Any]:
        return rows.setdefault(
            (day, currency),
            {"date": day, "currency": currency, "revenue": ZERO, "orders": 0,
             "refunded": ZERO, "refunds": 0, "payments_succeeded": 0, "payments_failed": 0},
        )  # fmt: skip

    for r in (
        orders.annotate(day=TruncDate("checkout__paid_at"))
        .values("day", "currency")
        .annotate(revenue=Sum("total"), count=Count("id"))
        .order_by()
    ):
        target = row(r["day"], r["currency"])
        target["revenue"] += r["revenue"]
        target["orders"] += r["count"]
    for refund_row in (
        refunds.annotate(day=TruncDate("completed_at"))
        .values("day", "currency")
        .annotate(amount=Sum("amount"), count=Count("id"))
        .order_by()
    ):
        target = row(refund_row["day"], refund_row["currency"])
        target["refunded"] += refund_row["amount"]
        target["refunds"] += refund_row["count"]
    succeeded = Q(status__in=Payment.CAPTURED)
    failed = Q(status__in=(Payment.Status.FAILED, Payment.Status.CANCELLED))
    for payment_row in (
        payments.annotate(day=TruncDate("created_at"))
        .values("day", "currency")
        .annotate(ok=Count("id", filter=succeeded), ko=Count("id", filter=failed))
        .order_by()
    ):
        if payment_row["ok"] or payment_row["ko"]:
            target = row(payment_row["day"], payment_row["currency"])
            target["payments_succeeded"] += payment_row["ok"]
            target["payments_failed"] += payment_row["ko"]

    by_day = [_finish(rows[key]) for key in sorted(rows)]
    totals: dict[str, dict[str, Any]] = {}
    for day in by_day:
        total = totals.setdefault(
            day["currency"],
            {"currency": day["currency"], "revenue": ZERO, "orders": 0, "refunded": ZERO,
             "refunds": 0, "payments_succeeded": 0, "payments_failed": 0},
        )  # fmt: skip
        for key in ("revenue", "orders", "refunded", "refunds", "payments_succeeded",
                    "payments_failed"):  # fmt: skip
            total[key] += day[key]
    return {
        "from": scope.date_from,
        "to": scope.date_to,
        "store_id": scope.store_id,
        "totals": [_finish(totals[c]) for c in sorted(totals)],
        "by_day": by_day,
    }


def _finish(values: dict[str, Any]) -> dict[str, Any]:
    settled = values["payments_succeeded"] + values["payments_failed"]
    return {
        **values,
        "net": values["revenue"] - values["refunded"],
        "success_rate": round(values["payments_succeeded"] / settled, 4) if settled else None,
    }
