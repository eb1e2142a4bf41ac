"""Checkout and the payment window.

``place_checkout`` runs in one durable transaction: validate lines → lock every size row in
primary-key order → reserve → one order per store under one checkout, each line pointing at
the product's current history version → deadline = now + PAYMENT_WINDOW_MINUTES → clear the
bought cart lines. After commit it schedules the expiry task at the deadline and pushes
``checkout.created``.

The window is enforced three ways, so a stopped worker never strands stock: the task at the
deadline (``expire_checkout``), a beat sweep every minute (``expire_due_checkouts``), and
lazily — every reserve path releases expired reservations on the rows it locks, and
availability never counts them.
"""

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from carts.models import CartItem
from core.bulk import insert_rows
from core.exceptions import Conflict
from core.realtime import push_to_user
from notifications.services import send_email_after_commit
from orders.models import Checkout, Order, OrderEvent, OrderLine
from orders.services.notify import email_order_status
from products import selectors as product_selectors
from products.models import ProductVersion, Reservation, Size
from products.services import stock

logger = logging.getLogger(__name__)


class LatePaymentOutOfStock(Conflict):
    """A payment arrived after the window and the stock is gone: the payment must be refunded."""

    code = "late_payment_out_of_stock"
    default_message = "The payment window closed and the stock was sold to someone else."


@dataclass(frozen=True)
class LineRequest:
    product_id: int
    size_id: int | None
    quantity: int


def _order_number(order_id: int) -> str:
    return f"SM-{order_id:08d}"


def _resolve(lines: Sequence[LineRequest], buyer: User) -> list[tuple[Any, Size, int]]:
    """(product with current_price, size, quantity) per line. Raises ValidationError naming
    the lines that can't be bought at all."""
    product_ids = {line.product_id for line in lines}
    products = {
        p.pk: p for p in product_selectors.list_products(user=None).filter(pk__in=product_ids)
    }
    resolved, errors = [], []
    for index, line in enumerate(lines):
        product = products.get(line.product_id)
        if product is None:
            errors.append(f"Line {index + 1}: product {line.product_id} is not on sale.")
            continue
        sizes = product.live_sizes  # type: ignore[attr-defined]
        if line.size_id is None:
            size = sizes[0] if len(sizes) == 1 and not sizes[0].name else None
        else:
            size = next((s for s in sizes if s.pk == line.size_id), None)
        if size is None:
            errors.append(f"Line {index + 1}: choose a size of product {line.product_id}.")
            continue
        if product.store.owner_id == buyer.pk:
            errors.append(f"Line {index + 1}: product {line.product_id} is your own store's.")
            continue
        resolved.append((product, size, line.quantity))
    if errors:
        raise ValidationError({"items": errors})
    return resolved


def place_checkout(
    *,
    buyer: User,
    lines: Sequence[LineRequest],
    shipping_address: Mapping[str, Any],
    cart_item_ids: Sequence[int] = (),
) -> Checkout:
    """Reserve stock and create the checkout's orders, all or nothing. Raises ValidationError
    for lines that can't be bought, OutOfStock naming every short line."""
    if not lines:
        raise ValidationError({"items": ["Nothing to check out."]})
    resolved = _resolve(lines, buyer)
    now = timezone.now()
    deadline = now + timedelta(minutes=settings.PAYMENT_WINDOW_MINUTES)
    by_store: dict[int, list[tuple[Any, Size, int]]] = defaultdict(list)
    for product, size, quantity in resolved:
        by_store[product.store_id].append((product, size, quantity))
    limit = Decimal("1000000000000")  # the total columns hold 12 digits before the point
    if sum((p.current_price * q for p, _, q in resolved), Decimal(0)) >= limit:
        raise ValidationError({"items": ["This checkout is too large to pay in one go."]})
    currencies = {product.currency for product, _, _ in resolved}
    if len(currencies) != 1:
        raise ValidationError({"items": ["One checkout pays in one currency."]})

    with transaction.atomic(durable=True):
        versions = {
            (v.product_id, v.number): v
            for v in ProductVersion.objects.filter(
                _version_lookup([(p.pk, p.version) for p, _, _ in resolved])
            )
        }
        checkout = Checkout.objects.create(
            buyer=buyer,
            total=sum(
                (product.current_price * quantity for product, _, quantity in resolved),
                Decimal("0.00"),
            ),
            currency=currencies.pop(),
            payment_deadline=deadline,
            shipping_address=dict(shipping_address),
        )
        store_ids = sorted(by_store)
        orders = Order.objects.bulk_create(
            [
                Order(
                    checkout=checkout,
                    store_id=store_id,
                    buyer=buyer,
                    number=f"tmp-{checkout.pk}-{store_id}",  # replaced below, once ids exist
                    total=Decimal("0.00"),
                    currency=checkout.currency,
                    payment_deadline=deadline,
                    shipping_address=checkout.shipping_address,
                )
                for store_id in store_ids
            ]
        )
        # One reservation call for the whole checkout, each line held under its order: it
        # locks every size in primary-key order, so concurrent checkouts queue, not deadlock.
        stock.reserve_stock(
            lines=[
                stock.StockRequest(size.pk, quantity, reference=order.stock_reference)
                for order in orders
                for _, size, quantity in by_store[order.store_id]
            ],
            until=deadline,
        )
        all_lines = []
        for order in orders:
            order.number = _order_number(order.pk)
            order_lines = [
                OrderLine(
                    order=order,
                    product=product,
                    product_version=versions[(product.pk, product.version)],
                    size=size,
                    name=product.name,
                    size_name=size.name,
                    unit_price=product.current_price,
                    quantity=quantity,
                    line_total=product.current_price * quantity,
                )
                for product, size, quantity in by_store[order.store_id]
            ]
            order.total = sum((line.line_total for line in order_lines), Decimal("0.00"))
            order.placed_lines = order_lines  # type: ignore[attr-defined]
            all_lines += order_lines
        OrderLine.objects.bulk_create(all_lines)
        Order.objects.bulk_update(orders, ["number", "total"])
        OrderEvent.objects.bulk_create(
            [
                OrderEvent(
                    order=order, type="created", to_status=Order.Status.PENDING_PAYMENT, actor=buyer
                )
                for order in orders
            ]
        )
        if cart_item_ids:
            CartItem.objects.filter(pk__in=cart_item_ids, cart__user=buyer).delete()
        store_names = {product.store_id: product.store.name for product, _, _ in resolved}
        _after_placed(checkout, orders, store_names)
    logger.info(
        "checkout placed",
        extra={"checkout_id": checkout.pk, "orders": len(orders), "user_id": buyer.pk},
    )
    return checkout


def _version_lookup(pairs: Sequence[tuple[int, int]]) -> Q:
    condition = Q(pk__in=[])
    for product_id, number in set(pairs):
        condition |= Q(product_id=product_id, number=number)
    return condition


def _after_placed(checkout: Checkout, orders: list[Order], store_names: dict[int, str]) -> None:
    from orders import tasks

    checkout_id, deadline = checkout.pk, checkout.payment_deadline
    transaction.on_commit(
        lambda: tasks.expire_checkout_task.apply_async(
            kwargs={"checkout_id": checkout_id}, eta=deadline
        )
    )
    warn_at = deadline - timedelta(minutes=5)
    if warn_at > timezone.now():
        transaction.on_commit(
            lambda: tasks.warn_checkout_expiring_task.apply_async(
                kwargs={"checkout_id": checkout_id}, eta=warn_at
            )
        )
    push_to_user(
        checkout.buyer_id,
        "checkout.created",
        {"id": checkout.pk, "total": checkout.total, "payment_deadline": deadline},
    )
    buyer = checkout.buyer
    send_email_after_commit(
        to=buyer.email,
        template="order_placed",
        context={
            "first_name": buyer.first_name,
            "minutes": settings.PAYMENT_WINDOW_MINUTES,
            "deadline": deadline.strftime("%Y-%m-%d %H:%M"),
            "total": str(checkout.total),
            "currency": checkout.currency,
            "orders": [
                {
                    "number": order.number,
                    "store": store_names[order.store_id],
                    "lines": [
                        {
                            "name": line.name,
                            "size": line.size_name,
                            "quantity": line.quantity,
                            "line_total": str(line.line_total),
                        }
                        for line in order.placed_lines  # type: ignore[attr-defined]
                    ],
                }
                for order in orders
            ],
        },
    )


# --- the payment window ---------------------------------------------------------------------------


# The orders a checkout-wide move applies to: a cancelled order stays cancelled.
LIVE_FOR_PAYMENT = (Order.Status.PENDING_PAYMENT, Order.Status.EXPIRED)


def _live_orders(checkout: Checkout) -> list[Order]:
    return list(checkout.orders.filter(status__in=LIVE_FOR_PAYMENT).order_by("pk"))


def _move_orders(orders: list[Order], to_status: str, *, actor: User | None = None) -> list[Order]:
    OrderEvent.objects.bulk_create(
        [
            OrderEvent(order=o, from_status=o.status, to_status=to_status, actor=actor)
            for o in orders
            if o.status != to_status
        ]
    )
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(
        status=to_status, updated_at=timezone.now()
    )
    for order in orders:
        push_to_user(
            order.buyer_id,
            "order.status_changed",
            {"id": order.pk, "number": order.number, "from": order.status, "to": to_status},
        )
        order.status = to_status
    return orders


def expire_checkout(*, checkout_id: int) -> bool:
    """Close an unpaid checkout whose deadline has passed: release its stock, expire its orders.
    Returns whether it expired now. Safe to call any number of times, racing a payment: the
    checkout row is locked, so exactly one of them wins."""
    with transaction.atomic():
        checkout = Checkout.objects.select_for_update().filter(pk=checkout_id).first()
        if (
            checkout is None
            or checkout.status != Checkout.Status.PENDING_PAYMENT
            or checkout.payment_deadline > timezone.now()
        ):
            return False
        pending = list(checkout.orders.filter(status=Order.Status.PENDING_PAYMENT).order_by("pk"))
        for order in pending:
            stock.release_reservations(reference=order.stock_reference)
        _move_orders(pending, Order.Status.EXPIRED)
        checkout.status = Checkout.Status.EXPIRED
        checkout.save(update_fields=["status", "updated_at"])
        push_to_user(checkout.buyer_id, "checkout.expired", {"id": checkout.pk})
        for order in Order.objects.filter(pk__in=[o.pk for o in pending]).select_related(
            "store", "buyer"
        ):
            email_order_status(order=order)
    logger.info("checkout expired", extra={"checkout_id": checkout_id})
    return True


def expire_due_checkouts() -> int:
    """The beat sweep: every unpaid checkout past its deadline, in a few set-based statements
    whatever their number. Returns how many expired."""
    now = timezone.now()
    with transaction.atomic():
        due = list(
            Checkout.objects.select_for_update(skip_locked=True)
            .filter(status=Checkout.Status.PENDING_PAYMENT, payment_deadline__lte=now)
            .values_list("pk", "buyer_id")
        )
        if not due:
            return 0
        ids = [pk for pk, _ in due]
        orders = list(
            Order.objects.filter(
                checkout_id__in=ids, status=Order.Status.PENDING_PAYMENT
            ).values_list("pk", "status")
        )
        # Only these checkouts' holds: a checkout locked by a payment in progress is skipped
        # above, and its reservations stay its own.
        stock.release_expired_reservations(references=[f"order:{pk}" for pk, _ in orders])
        insert_rows(
            OrderEvent,
            ["order_id", "type", "from_status", "to_status", "note", "created_at"],
            [(pk, "status_changed", s, Order.Status.EXPIRED, "", now) for pk, s in orders],
        )
        Order.objects.filter(pk__in=[pk for pk, _ in orders]).update(
            status=Order.Status.EXPIRED, updated_at=now
        )
        Checkout.objects.filter(pk__in=ids).update(status=Checkout.Status.EXPIRED, updated_at=now)
        for checkout_id, buyer_id in due:
            push_to_user(buyer_id, "checkout.expired", {"id": checkout_id})
        expired_ids = [pk for pk, _ in orders]
        for order in Order.objects.filter(pk__in=expired_ids).select_related("store", "buyer"):
            email_order_status(order=order)
    logger.info("expired due checkouts", extra={"count": len(due)})
    return len(due)


def mark_checkout_paid(*, checkout_id: int) -> Checkout:
    """The payment succeeded: held stock becomes sales and the orders move to ``paid``.

    Idempotent. After the deadline the late-payment rule applies: the stock is reserved again
    and sold if it is still free, else LatePaymentOutOfStock is raised so the payment can be
    refunded. Locks the checkout row, so it can't interleave with expiry.
    """
    with transaction.atomic():
        checkout = Checkout.objects.select_for_update().get(pk=checkout_id)
        if checkout.status == Checkout.Status.PAID:
            return checkout
        if checkout.status == Checkout.Status.CANCELLED:
            raise LatePaymentOutOfStock("The checkout was cancelled.")
        orders = _live_orders(checkout)
        if not orders:
            raise LatePaymentOutOfStock("Every order of this checkout was cancelled.")
        # Lock the sizes, then the holds, before looking at the clock: from here no sweep or
        # lazy release can take them, so if they are all still here the payment is on time.
        stock.lock_sizes(
            OrderLine.objects.filter(order__in=orders).values_list("size_id", flat=True)
        )
        held = sum(
            Reservation.objects.select_for_update()
            .filter(
                reference__in=[o.stock_reference for o in orders],
                status=Reservation.Status.ACTIVE,
            )
            .values_list("quantity", flat=True)
        )
        needed = sum(OrderLine.objects.filter(order__in=orders).values_list("quantity", flat=True))
        late = (
            checkout.status == Checkout.Status.EXPIRED
            or checkout.payment_deadline <= timezone.now()
            or held != needed
        )
        if late:
            for order in orders:
                stock.release_reservations(reference=order.stock_reference)
            try:
                with transaction.atomic():
                    for order in orders:
                        stock.reserve_stock(
                            lines=[
                                stock.StockRequest(line.size_id, line.quantity)
                                for line in order.lines.all()
                            ],
                            until=timezone.now() + timedelta(minutes=1),
                            reference=order.stock_reference,
                        )
            except stock.OutOfStock as exc:
                raise LatePaymentOutOfStock(details=exc.details) from exc
        for order in orders:
            stock.commit_reservations(reference=order.stock_reference)
        _move_orders(orders, Order.Status.PAID)
        checkout.status = Checkout.Status.PAID
        checkout.paid_at = timezone.now()
        checkout.save(update_fields=["status", "paid_at", "updated_at"])
    logger.info("checkout paid", extra={"checkout_id": checkout_id, "late": late})
    return checkout
