from django.conf import settings
from django.db import models
from django.db.models import Q

from core.models import TimeStampedModel


class Category(models.Model):
    """A node of the category tree. ``path`` (``/1/4/9/``) lists the ids from the root, so a
    category's subtree is one indexed prefix lookup."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=120, unique=True, allow_unicode=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=255, db_index=True, editable=False)

    class Meta:
        ordering = ["path"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)
    slug = models.SlugField(max_length=60, unique=True, allow_unicode=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Product(TimeStampedModel):
    """What a store sells. Stock lives on its sizes; a product without sizes has one default
    size. The offer is a time window ``[offer_starts_at, offer_ends_at)`` at ``offer_price``."""

    store = models.ForeignKey("stores.Store", on_delete=models.PROTECT, related_name="products")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default=settings.DEFAULT_CURRENCY)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="products"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="products")
    offer_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    offer_starts_at = models.DateTimeField(null=True, blank=True)
    offer_ends_at = models.DateTimeField(null=True, blank=True)
    # What lists sort and filter "price" by: the offer's price while it runs, else the price.
    # Written with the product (``catalog``) and flipped at each offer's start and end
    # (``services/offers.py``), so ?ordering=price walks an index instead of working the
    # price out for every row. What a buyer pays is always worked out afresh.
    listed_price = models.DecimalField(max_digits=12, decimal_places=2)
    # A drop's cap: units one buyer may buy in all (unpaid, paid, delivered); None: no cap.
    max_per_buyer = models.PositiveIntegerField(null=True, blank=True)
    version = models.PositiveIntegerField(default=0, editable=False)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["store", "deleted_at"], name="product_store_live"),
            models.Index(fields=["deleted_at", "listed_price", "id"], name="product_live_listed"),
            models.Index(fields=["offer_starts_at"], name="product_offer_starts"),
            models.Index(fields=["offer_ends_at"], name="product_offer_ends"),
            # The default listing: live products, newest first, read in index order.
            models.Index(fields=["deleted_at", "created_at", "id"], name="product_live_recent"),
            models.Index(fields=["deleted_at", "name", "id"], name="product_live_name"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0), name="product_price_positive"),
            models.CheckConstraint(
                condition=Q(offer_price__isnull=True)
                | Q(
                    offer_price__gt=0,
                    offer_price__lt=models.F("price"),
                    offer_starts_at__isnull=False,
                    offer_ends_at__isnull=False,
                    offer_starts_at__lt=models.F("offer_ends_at"),
                ),
                name="product_offer_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ProductImage(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(upload_to="products/%Y/%m/")
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"image {self.pk} of product {self.product_id}"


class Size(models.Model):
    """One sellable unit of a product and the only place its stock lives.

    ``on_hand`` counts units in the store; ``reserved`` those held by checkouts awaiting payment.
    The CHECK constraints are the backstop: a bug must fail loudly, never oversell.
    """

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="sizes")
    name = models.CharField(max_length=50, blank=True, help_text="Empty for the default size.")
    position = models.PositiveSmallIntegerField(default=0)
    on_hand = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="size_on_hand_not_negative"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="size_reserved_not_negative"),
            models.CheckConstraint(
                condition=Q(reserved__lte=models.F("on_hand")), name="size_reserved_within_on_hand"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}/{self.name or 'default'}"


class Reservation(models.Model):
    """Units of a size held for a checkout until ``expires_at`` (the payment deadline)."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        RELEASED = "released", "Released"
        COMMITTED = "committed", "Committed (sold)"

    size = models.ForeignKey(Size, on_delete=models.PROTECT, related_name="reservations")
    quantity = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    expires_at = models.DateTimeField()
    reference = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "expires_at"], name="reservation_due"),
            models.Index(fields=["size", "status"], name="reservation_size_status"),
            # Settling an order's holds reads them by reference, under lock: with this index the
            # locking read touches only that order's rows, not every active hold.
            models.Index(fields=["reference", "status"], name="reservation_reference"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="reservation_quantity_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.quantity} of size {self.size_id} ({self.status})"


class StockMovement(models.Model):
    """The append-only stock ledger: every change to a size's counters, why and by whom.

    For each size, the sums of ``on_hand_delta`` and ``reserved_delta`` equal its counters.
    """

    class Reason(models.TextChoices):
        INITIAL = "initial", "Initial stock"
        ADJUSTMENT = "adjustment", "Adjustment"
        RESERVATION = "reservation", "Reserved for a checkout"
        RELEASE = "release", "Reservation released"
        SALE = "sale", "Sold"
        RETURN = "return", "Returned"

    size = models.ForeignKey(Size, on_delete=models.PROTECT, related_name="movements")
    reason = models.CharField(max_length=12, choices=Reason.choices)
    on_hand_delta = models.IntegerField(default=0)
    reserved_delta = models.IntegerField(default=0)
    reference = models.CharField(max_length=64, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["size", "created_at"], name="movement_size_time")]

    def __str__(self) -> str:
        return f"{self.reason} size {self.size_id}: {self.on_hand_delta:+}/{self.reserved_delta:+}"


class ProductVersion(models.Model):
    """An immutable record of what buyers saw: the full snapshot and what changed from the
    version before. Order lines point at the version they were bought at."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    snapshot = models.JSONField()
    changes = models.JSONField(default=list)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["product", "number"], name="product_version_unique")
        ]

    def __str__(self) -> str:
        return f"product {self.product_id} v{self.number}"


class Favorite(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favorites"
    )
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="favorited_by")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "product"], name="favorite_unique")]

    def __str__(self) -> str:
        return f"user {self.user_id} likes product {self.product_id}"


class ProductCard(models.Model):
    """The catalogue's read model: a product's public representation as the API shows it,
    precomputed, less what changes without the product row changing (stock, the offer's being
    active now, the store's and category's names, favourites), which each read adds.

    A card is served only while its ``version`` and ``updated_at`` are the product's: any
    change a buyer can see bumps one of them in the change's own transaction, so a stale card
    is a miss, never an answer. See ``products/cards.py``."""

    product = models.OneToOneField(
        Product, primary_key=True, on_delete=models.CASCADE, related_name="card"
    )
    version = models.PositiveIntegerField()
    updated_at = models.DateTimeField()
    payload = models.TextField()
    built_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"card of product {self.product_id} v{self.version}"
