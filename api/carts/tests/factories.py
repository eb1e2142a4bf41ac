"""Carts filled through the cart service, as the add-to-cart endpoint does."""

from accounts.models import User
from carts import services
from carts.models import CartItem
from products.models import Product


def fill_cart(user: User, *products: Product, quantity: int = 1) -> list[CartItem]:
    """The product's only size (or default size) of each product, ``quantity`` each."""
    for product in products:
        size = product.sizes.filter(deleted_at__isnull=True).order_by("position", "pk").first()
        assert size is not None
        size_id = size.pk if size.name else None
        services.add_item(user=user, product_id=product.pk, size_id=size_id, quantity=quantity)
    return list(CartItem.objects.filter(cart__user=user).order_by("pk"))
