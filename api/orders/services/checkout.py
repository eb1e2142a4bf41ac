"""Placing a checkout (the payment window that follows is ``orders.services.window``).

``place_checkout`` runs in one durable transaction: validate lines → lock every size row in
primary-key order → reserve → one order per store under one checkout, each line pointing at
the product's current history version → deadline = now + PAYMENT_WINDOW_MINUTES → clear the
bought cart lines (through the carts app) → store the buyer's ``checkout.created`` event (pushed
after commit) and one outbox message. That message is all the rest, done by the worker once the
checkout has committed (``window.follow_up_checkout``): the window's timer and the
``order_placed`` notification, in-app and by email.

The checkout it returns is shaped for its output (orders, their store, lines and events) from
what it wrote, so the API answers without reading it back.
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
from django.db.models import Model, OuterRef, Subquery
from django.utils import timezone

from accounts.models import User
from carts import selectors as cart_selectors
from carts import services as cart_services
from core import outbox
from core.bulk import insert_rows, update_by_pk
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
    # The id of the history version each line will point at, read with the product it
    # snapshots (versions never change once written).
    version_id = ProductVersion.objects.filter(
        product=OuterRef("pk"), number=OuterRef("version")
    ).values("pk")[:1]
    products = {
        p.pk: p
        for p in product_selectors.products_for_purchase(product_ids=product_ids).annotate(
            version_id=Subquery(version_id)
        )
    }
    now = timezone.now()
    for on_sale in products.values():
        on_sale.current_price = product_selectors.current_price(on_sale, now)  # type: ignore[attr-defined]
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
        orders = Order.objects.bulk_create(
            [
                Order(
                    checkout=checkout,
                    store=by_store[store_id][0][0].store,
                    buyer=buyer,
                    number=f"tmp-{checkout.pk}-{store_id}",  # replaced below, once ids exist
                    total=sum(
                        (product.current_price * q for product, _, q in by_store[store_id]),
                        Decimal("0.00"),
                    ),
                    currency=checkout.currency,
                    payment_deadline=deadline,
                    shipping_address=checkout.shipping_address,
                )
                for store_id in sorted(by_store)
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
        order_lines = {
            order.pk: [
                OrderLine(
                    order=order,
                    product=product,
                    # The version row as far as the answer shows it (its number), not re-read.
                    product_version=ProductVersion(
                        pk=product.version_id, product_id=product.pk, number=product.version
                    ),
                    size=size,
                    name=product.name,
                    size_name=size.name,
                    unit_price=product.current_price,
                    quantity=quantity,
                    line_total=product.current_price * quantity,
                )
                for product, size, quantity in by_store[order.store_id]
            ]
            for order in orders
        }
        insert_rows(
            OrderLine,
            ["order_id", "product_id", "product_version_id", "size_id", "name", "size_name",
             "unit_price", "quantity", "line_total", "restocked_quantity"],
            [
                (order.pk, line.product_id, line.product_version_id, line.size_id, line.name,
                 line.size_name, line.unit_price, line.quantity, line.line_total, 0)
                for order in orders
                for line in order_lines[order.pk]
            ],
        )  # fmt: skip
        for order in orders:
            order.number = _order_number(order.pk)
        update_by_pk(Order, "number", {order.pk: order.number for order in orders})
        created_at = timezone.now()
        events = [
            OrderEvent(
                order=order,
                type="created",
                to_status=Order.Status.PENDING_PAYMENT,
                actor=buyer,
                created_at=created_at,
            )
            for order in orders
        ]
        insert_rows(
            OrderEvent,
            ["order_id", "type", "from_status", "to_status", "actor_id", "note", "created_at"],
            [(e.order_id, e.type, "", e.to_status, buyer.pk, "", created_at) for e in events],
        )
        if cart_item_ids:
            cart_services.remove_checked_out_items(user=buyer, item_ids=cart_item_ids)
        push_to_user(
            buyer.pk,
            "checkout.created",
            {"id": checkout.pk, "total": checkout.total, "payment_deadline": deadline},
        )
        _follow_up_after_commit(checkout)
    logger.info(
        "checkout placed",
        extra={"checkout_id": checkout.pk, "orders": len(orders), "user_id": buyer.pk},
    )
    # What the selector would load for the answer (get_checkout_for_user), from what was written.
    _prefetched(checkout, "orders", orders)
    for order, event in zip(orders, events, strict=True):
        _prefetched(order, "lines", order_lines[order.pk])
        _prefetched(order, "events", [event])
    return checkout


def place_checkout_from_cart(*, buyer: User, shipping_address: Mapping[str, Any]) -> Checkout:
    """Check out everything in the buyer's cart; the bought lines leave the cart."""
    items = cart_selectors.cart_lines(user=buyer)
    return place_checkout(
        buyer=buyer,
        lines=[
            LineRequest(product_id, size_id, quantity) for _, product_id, size_id, quantity in items
        ],
        shipping_address=shipping_address,
        cart_item_ids=[item_id for item_id, _, _, _ in items],
    )


def _prefetched(instance: Model, name: str, rows: Sequence[Model]) -> None:
    """Give ``instance``'s reverse relation ``name`` these rows, as ``prefetch_related`` does
    (``instance.name.all()`` then answers them without a query)."""
    related = getattr(instance, name).all()
    related._result_cache = list(rows)
    related._prefetch_done = True
    cache = instance.__dict__.setdefault("_prefetched_objects_cache", {})
    cache[name] = related


def _follow_up_after_commit(checkout: Checkout) -> None:
    from orders import tasks

    outbox.enqueue(tasks.follow_up_checkout_task, {"checkout_id": checkout.pk})
