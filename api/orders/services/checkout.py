"""Placing a checkout (the payment window that follows is ``orders.services.window``).

``place_checkout`` runs in one durable transaction: validate lines → lock every size row in
primary-key order → reserve → one order per store under one checkout, each line pointing at
the product's current history version → deadline = now + PAYMENT_WINDOW_MINUTES → clear the
bought cart lines (through the carts app). After commit it schedules the expiry task at the
deadline and pushes ``checkout.created``.
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
from accounts.services import notify_user
from carts import selectors as cart_selectors
from carts import services as cart_services
from core import outbox
from core.money import MAX_TOTAL
from notifications.events import push_to_user
from orders import limits
from orders.models import Checkout, Order, OrderEvent, OrderLine
from orders.services import locks
from products import selectors as product_selectors
from products.models import ProductVersion, Size
from products.services import stock

logger = logging.getLogger(__name__)


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
            size = product_selectors.default_size(sizes)
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
    """Reserve stock and create the checkout's orders, all or nothing; ``cart_item_ids`` are
    the cart lines bought, removed in the same transaction. Raises ValidationError for lines
    that can't be bought, OutOfStock naming every short line."""
    if not lines:
        raise ValidationError({"items": ["Nothing to check out."]})
    resolved = _resolve(lines, buyer)
    now = timezone.now()
    deadline = now + timedelta(minutes=settings.PAYMENT_WINDOW_MINUTES)
    by_store: dict[int, list[tuple[Any, Size, int]]] = defaultdict(list)
    for product, size, quantity in resolved:
        by_store[product.store_id].append((product, size, quantity))
    if sum((p.current_price * q for p, _, q in resolved), Decimal(0)) > MAX_TOTAL:
        raise ValidationError({"items": ["This checkout is too large to pay in one go."]})
    currencies = {product.currency for product, _, _ in resolved}
    if len(currencies) != 1:
        raise ValidationError({"items": ["One checkout pays in one currency."]})

    with transaction.atomic(durable=True):
        locks.lock_buyer(buyer.pk)
        limits.check_holds(buyer=buyer, units=sum(quantity for _, _, quantity in resolved))
        limits.check_caps(buyer=buyer, lines=[(product, q) for product, _, q in resolved])
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
            cart_services.remove_checked_out_items(user=buyer, item_ids=cart_item_ids)
        store_names = {product.store_id: product.store.name for product, _, _ in resolved}
        _after_placed(checkout, orders, store_names)
    logger.info(
        "checkout placed",
        extra={"checkout_id": checkout.pk, "orders": len(orders), "user_id": buyer.pk},
    )
    return checkout


def place_checkout_from_cart(*, buyer: User, shipping_address: Mapping[str, Any]) -> Checkout:
    """Check out everything in the buyer's cart; the bought lines leave the cart."""
    items = list(cart_selectors.cart_items(user=buyer))
    return place_checkout(
        buyer=buyer,
        lines=[LineRequest(item.product_id, item.size_id, item.quantity) for item in items],
        shipping_address=shipping_address,
        cart_item_ids=[item.pk for item in items],
    )


def _version_lookup(pairs: Sequence[tuple[int, int]]) -> Q:
    condition = Q(pk__in=[])
    for product_id, number in set(pairs):
        condition |= Q(product_id=product_id, number=number)
    return condition


def _after_placed(checkout: Checkout, orders: list[Order], store_names: dict[int, str]) -> None:
    from orders import tasks

    checkout_id, deadline = checkout.pk, checkout.payment_deadline
    outbox.enqueue(tasks.expire_checkout_task, {"checkout_id": checkout_id}, eta=deadline)
    warn_at = deadline - timedelta(minutes=5)
    if warn_at > timezone.now():
        outbox.enqueue(tasks.warn_checkout_expiring_task, {"checkout_id": checkout_id}, eta=warn_at)
    push_to_user(
        checkout.buyer_id,
        "checkout.created",
        {"id": checkout.pk, "total": checkout.total, "payment_deadline": deadline},
    )
    buyer = checkout.buyer
    notify_user(
        buyer,
        "order_placed",
        key=f"order_placed:{checkout.pk}",
        context={
            "checkout_id": checkout.pk,
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
