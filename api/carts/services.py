"""Cart changes. Quantities are checked against what is available now (stock is only held at
checkout); every change is pushed to the user's other sessions as ``cart.updated``."""

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from carts import selectors
from carts.models import Cart, CartItem
from core.exceptions import Conflict
from core.money import MAX_TOTAL
from notifications.events import push_to_user
from products import selectors as product_selectors
from products.exceptions import OutOfStock
from products.models import Product, Size


def _changed(user: User) -> dict[str, Any]:
    """The cart after a change: pushed to the user's other sessions (after commit) and
    returned to this one, computed once."""
    summary = selectors.cart_summary(user=user)
    push_to_user(user.pk, "cart.updated", summary)
    return summary


def _available(size: Size) -> int:
    live: Any = product_selectors.live_sizes().filter(pk=size.pk).first()
    return max(live.available, 0) if live is not None else 0


def _check_available(*, size: Size, quantity: int) -> None:
    available = _available(size)
    if quantity > available:
        raise OutOfStock(
            f"Only {available} available.",
            details={
                "lines": [{"size_id": size.pk, "requested": quantity, "available": available}]
            },
        )


def _check_total(summary: dict[str, Any]) -> None:
    """Inside the change's transaction: a cart too large to ever be paid is refused (and the
    change rolled back) before its total can outgrow the order columns."""
    if summary["total"] > MAX_TOTAL:
        raise ValidationError(
            {"quantity": ["The cart's total would be too large to pay in one go."]}
        )


def _size_for(product: Product, size_id: int | None) -> Size:
    sizes = list(product.live_sizes)  # type: ignore[attr-defined]
    if size_id is None:
        if (size := product_selectors.default_size(sizes)) is not None:
            return size
        raise ValidationError({"size_id": ["Choose a size."]})
    for size in sizes:
        if size.pk == size_id:
            return size
    raise ValidationError({"size_id": ["Not a size of this product."]})


def add_item(*, user: User, product_id: int, size_id: int | None, quantity: int) -> dict[str, Any]:
    """Add to the cart, merging with the same product and size. Raises ValidationError for a
    product not on sale or a wrong size, OutOfStock above what is available."""
    try:
        product = product_selectors.get_product(product_id=product_id, user=user)
    except Http404 as exc:
        raise ValidationError({"product_id": ["This product is not on sale."]}) from exc
    size = _size_for(product, size_id)
    with transaction.atomic():
        cart, _ = Cart.objects.get_or_create(user=user)
        # Lock the cart row: two adds of one size from two tabs merge instead of colliding.
        Cart.objects.select_for_update().filter(pk=cart.pk).first()
        item = CartItem.objects.filter(cart=cart, size=size).first()
        total = quantity + (item.quantity if item else 0)
        _check_available(size=size, quantity=total)
        price = product.current_price  # type: ignore[attr-defined]
        if item is None:
            try:
                with transaction.atomic():
                    CartItem.objects.create(
                        cart=cart, product=product, size=size, quantity=quantity, unit_price=price
                    )
            except IntegrityError:
                CartItem.objects.filter(cart=cart, size=size).update(
                    quantity=F("quantity") + quantity, unit_price=price, updated_at=timezone.now()
                )
        else:
            CartItem.objects.filter(pk=item.pk).update(
                quantity=total, unit_price=price, updated_at=timezone.now()
            )
        summary = _changed(user)
        _check_total(summary)
    return summary


def update_item(*, user: User, item: CartItem, quantity: int) -> dict[str, Any]:
    """Set a line's quantity; the price the buyer agrees to becomes the current one."""
    try:
        product = product_selectors.get_product(product_id=item.product_id, user=user)
    except Http404 as exc:
        raise Conflict("This product is no longer on sale.", code="product_unavailable") from exc
    _check_available(size=item.size, quantity=quantity)
    with transaction.atomic():
        CartItem.objects.filter(pk=item.pk).update(
            quantity=quantity,
            unit_price=product.current_price,  # type: ignore[attr-defined]
            updated_at=timezone.now(),  # update() skips auto_now: "last changed" stays true
        )
        summary = _changed(user)
        _check_total(summary)
    return summary


def remove_item(*, user: User, item: CartItem) -> dict[str, Any]:
    with transaction.atomic():
        item.delete()
        summary = _changed(user)
    return summary


def remove_checked_out_items(*, user: User, item_ids: Sequence[int]) -> None:
    """The lines a checkout bought leave the cart, in the checkout's transaction (a rolled-back
    checkout keeps them). Only the user's own lines."""
    CartItem.objects.filter(pk__in=item_ids, cart__user=user).delete()
