from django.conf import settings
from django.db import models
from django.db.models import Q

from core.models import TimeStampedModel


class Cart(TimeStampedModel):
    """One per user, made on first use."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cart"
    )

    def __str__(self) -> str:
        return f"cart of user {self.user_id}"


class CartItem(TimeStampedModel):
    """A size of a product in a cart, with the price it was added at so the cart can tell the
    buyer what changed since."""

    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey("products.Product", on_delete=models.CASCADE, related_name="+")
    size = models.ForeignKey("products.Size", on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="current_price when added or last changed"
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "size"], name="cart_item_one_per_size"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="cart_item_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} of size {self.size_id} in cart {self.cart_id}"
