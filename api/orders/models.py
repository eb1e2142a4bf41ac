from typing import ClassVar

from django.conf import settings
from django.db import models

from core.models import StateMachine, TimeStampedModel


class Checkout(StateMachine, TimeStampedModel):
    """One purchase: an order per store, paid together before ``payment_deadline``."""

    class Status(models.TextChoices):
        PENDING_PAYMENT = "pending_payment", "Pending payment"
        PAID = "paid", "Paid"
        EXPIRED = "expired", "Expired"
        CANCELLED = "cancelled", "Cancelled"

    # A late payment still pays an expired checkout whose stock is free (DESIGN.md).
    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        Status.PENDING_PAYMENT: {Status.PAID, Status.EXPIRED, Status.CANCELLED},
        Status.EXPIRED: {Status.PAID},
        Status.PAID: set(),
        Status.CANCELLED: set(),
    }

    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="checkouts"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING_PAYMENT)
    total = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    payment_deadline = models.DateTimeField(db_index=True)
    shipping_address = models.JSONField()
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "payment_deadline"], name="checkout_due")]

    def __str__(self) -> str:
        return f"checkout {self.pk}"


class Order(StateMachine, TimeStampedModel):
    class Status(models.TextChoices):
        PENDING_PAYMENT = "pending_payment", "Pending payment"
        PAID = "paid", "Paid"
        PROCESSING = "processing", "Processing"
        SHIPPED = "shipped", "Shipped"
        DELIVERED = "delivered", "Delivered"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired"
        REFUNDED = "refunded", "Refunded"

    # Allowed moves (DESIGN.md). Who may make each is the transitions service's business; a
    # late payment moves an expired order to paid (the window service's).
    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        Status.PENDING_PAYMENT: {Status.PAID, Status.CANCELLED, Status.EXPIRED},
        Status.PAID: {Status.PROCESSING, Status.CANCELLED, Status.REFUNDED},
        Status.PROCESSING: {Status.SHIPPED, Status.CANCELLED, Status.REFUNDED},
        Status.SHIPPED: {Status.DELIVERED, Status.REFUNDED},
        Status.DELIVERED: {Status.REFUNDED},
        Status.CANCELLED: set(),
        Status.EXPIRED: {Status.PAID},
        Status.REFUNDED: set(),
    }

    checkout = models.ForeignKey(Checkout, on_delete=models.PROTECT, related_name="orders")
    store = models.ForeignKey("stores.Store", on_delete=models.PROTECT, related_name="orders")
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders"
    )
    number = models.CharField(max_length=20, unique=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING_PAYMENT)
    total = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    payment_deadline = models.DateTimeField()
    shipping_address = models.JSONField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["buyer", "-created_at"], name="order_buyer_recent"),
            models.Index(fields=["store", "-created_at"], name="order_store_recent"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def stock_reference(self) -> str:
        """The reference of this order's stock reservations."""
        return f"order:{self.pk}"


class OrderLine(models.Model):
    """What was bought, frozen at checkout: the product's version, name, size and price."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("products.Product", on_delete=models.PROTECT, related_name="+")
    product_version = models.ForeignKey(
        "products.ProductVersion", on_delete=models.PROTECT, related_name="+"
    )
    size = models.ForeignKey("products.Size", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=200)
    size_name = models.CharField(max_length=50, blank=True)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    quantity = models.PositiveIntegerField()
    line_total = models.DecimalField(max_digits=14, decimal_places=2)
    # Units put back on sale after the sale (a cancellation or a refund with restock).
    restocked_quantity = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(restocked_quantity__lte=models.F("quantity")),
                name="orderline_restock_within_quantity",
            )
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.name}"


class OrderEvent(models.Model):
    """Every status move of an order: who, when, from, to, and why."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=30, default="status_changed")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.from_status or '-'} to {self.to_status}"
