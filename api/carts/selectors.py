from decimal import Decimal
from typing import Any

from django.db.models import Case, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from carts.models import Cart, CartItem
from products import selectors as product_selectors


def cart_items(*, user: User) -> QuerySet[CartItem]:
    """The user's items with what the cart view needs, in one query: the product's current
    price, the size's availability and whether it is still on sale."""
    on_sale = Q(size__deleted_at__isnull=True) & product_selectors.on_sale("product__")
    return (
        CartItem.objects.filter(cart__user=user)
        .select_related("product", "size")
        .annotate(
            current_price=product_selectors.current_price_expression(timezone.now(), "product__"),
            available=product_selectors.available_expression(size_field="size"),
            on_sale=Case(When(on_sale, then=Value(True)), default=Value(False)),
        )
        .order_by("created_at", "id")
    )


def cart_lines(*, user: User) -> list[tuple[int, int, int, int]]:
    """``(item_id, product_id, size_id, quantity)`` of each of the user's items, in cart order:
    what a checkout of the cart needs (it reads the products itself), without the cart view's
    prices and availability."""
    return list(
        CartItem.objects.filter(cart__user=user)
        .order_by("created_at", "id")
        .values_list("pk", "product_id", "size_id", "quantity")
    )


def get_cart_item(*, user: User, item_id: int) -> CartItem:
    """One of the user's own items; someone else's is a 404."""
    item = CartItem.objects.filter(pk=item_id, cart__user=user).select_related("size").first()
    if item is None:
        raise Http404
    return item


def item_changes(item: Any) -> list[str]:
    """What moved since the item was added, for the buyer to see before checkout."""
    if not item.on_sale:
        return ["product_unavailable"]
    changes = []
    if item.current_price != item.unit_price:
        changes.append("price_changed")
    available = max(item.available, 0)
    if available == 0:
        changes.append("out_of_stock")
    elif available < item.quantity:
        changes.append("insufficient_stock")
    return changes


def cart_summary(*, user: User) -> dict[str, Any]:
    items: list[Any] = list(cart_items(user=user))
    lines = [
        {
            "id": item.pk,
            "product_id": item.product_id,
            "product_name": item.product.name,
            "size_id": item.size_id,
            "size_name": item.size.name,
            "quantity": item.quantity,
            "unit_price": item.current_price,
            "line_total": item.current_price * item.quantity,
            "available": max(item.available, 0) if item.on_sale else 0,
            "changes": item_changes(item),
        }
        for item in items
    ]
    currency = items[0].product.currency if items else None
    return {
        "items": lines,
        "total": sum((line["line_total"] for line in lines), Decimal("0.00")),
        "currency": currency,
        "item_count": sum(line["quantity"] for line in lines),
    }


def get_cart(*, user: User) -> Cart | None:
    return Cart.objects.filter(user=user).first()
