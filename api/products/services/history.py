"""Product history: an immutable version for every change a buyer can see.

Services call ``record_version`` after they change a product, in the same transaction. It
compares a fresh snapshot with the latest stored one and writes a version with the field-level
diff only when something visible changed, so a no-op save records nothing.
"""

from decimal import Decimal
from typing import Any

from accounts.models import User
from core.serialization import json_safe
from products.models import Product, ProductVersion

VISIBLE_FIELDS = (
    "name",
    "description",
    "price",
    "currency",
    "category",
    "tags",
    "sizes",
    "images",
    "offer",
    "max_per_buyer",
    "deleted",
)


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def snapshot(product: Product) -> dict[str, Any]:
    """What buyers see of ``product`` now, as JSON. Reads sizes, tags and images fresh."""
    category = product.category
    offer = None
    if product.offer_price is not None:
        offer = {
            "price": _money(product.offer_price),
            "starts_at": product.offer_starts_at,
            "ends_at": product.offer_ends_at,
        }
    return json_safe(
        {
            "name": product.name,
            "description": product.description,
            "price": _money(product.price),
            "currency": product.currency,
            "category": None
            if category is None
            else {"slug": category.slug, "name": category.name},
            "tags": sorted(product.tags.values_list("name", flat=True)),
            "sizes": [
                {"id": size_id, "name": name}
                for size_id, name in product.sizes.filter(deleted_at__isnull=True)
                .order_by("position", "id")
                .values_list("id", "name")
            ],
            "images": list(
                product.images.order_by("position", "id").values_list("image", flat=True)
            ),
            "offer": offer,
            "max_per_buyer": product.max_per_buyer,
            "deleted": product.deleted_at is not None,
        }
    )


def diff(old: dict[str, Any] | None, new: dict[str, Any]) -> list[dict[str, Any]]:
    old = old or {}
    return [
        {"field": field, "old": old.get(field), "new": new[field]}
        for field in VISIBLE_FIELDS
        if old.get(field) != new[field]
    ]


def record_version(*, product: Product, actor: User | None) -> ProductVersion | None:
    """Write the next version if buyers would see a difference; ``None`` otherwise.

    Caller holds the product row (select_for_update) inside its transaction, so version numbers
    can't collide.
    """
    latest = product.versions.order_by("-number").first()
    current = snapshot(product)
    changes = diff(latest.snapshot if latest else None, current)
    if latest is not None and not changes:
        return None
    number = (latest.number if latest else 0) + 1
    version = ProductVersion.objects.create(
        product=product,
        number=number,
        snapshot=current,
        changes=changes if latest else [],
        actor=actor,
    )
    Product.objects.filter(pk=product.pk).update(version=number)
    product.version = number
    return version
