"""Writes to the catalogue: categories, tags, products, sizes, offers, images, favourites.

Every product change ends with ``history.record_version`` in the same transaction.
"""

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from core.images import process_image
from products import cards, indexing
from products.exceptions import NotProductOwner, SizeInUse
from products.models import Category, Favorite, Product, ProductImage, Size, Tag
from products.selectors import default_size
from products.services import history, offers, stock
from stores.models import Store
from stores.services import check_store_owner

logger = logging.getLogger(__name__)

MAX_IMAGES = 10


# --- categories and tags -------------------------------------------------------------------------


def create_category(*, name: str, slug: str = "", parent: Category | None = None) -> Category:
    with transaction.atomic():
        category = Category.objects.create(
            name=name, slug=slug or slugify(name, allow_unicode=True), parent=parent, path=""
        )
        category.path = f"{parent.path if parent else '/'}{category.pk}/"
        category.save(update_fields=["path"])
    return category


def move_category(*, category: Category, parent: Category | None) -> Category:
    """Re-parent a category and rewrite the paths of its whole subtree."""
    if parent is not None and parent.path.startswith(category.path):
        raise ValidationError({"parent": ["A category can't move under itself."]})
    old_prefix = category.path
    new_prefix = f"{parent.path if parent else '/'}{category.pk}/"
    with transaction.atomic():
        category.parent = parent
        category.save(update_fields=["parent"])
        subtree = list(Category.objects.select_for_update().filter(path__startswith=old_prefix))
        for node in subtree:
            node.path = new_prefix + node.path[len(old_prefix) :]
        Category.objects.bulk_update(subtree, ["path"])
        indexing.category_changed(category.pk)
    category.path = new_prefix
    return category


def update_category(*, category: Category, parent: Category | None) -> Category:
    """Save a category's name and slug as edited (in the admin), then move it under ``parent``
    if that changed. Its products are re-indexed."""
    with transaction.atomic():
        category.save(update_fields=["name", "slug"])
        indexing.category_changed(category.pk)
        if parent != category.parent:
            move_category(category=category, parent=parent)
    return category


def update_tag(*, tag: Tag) -> Tag:
    """Save a tag's name and slug as edited (in the admin); its products are re-indexed."""
    with transaction.atomic():
        tag.save()
        ids = list(tag.products.values_list("pk", flat=True))
        cards.forget(ids)  # tag names are in the cards, and a rename is no new product version
        indexing.product_changed(ids)
    return tag


def _tags(names: Sequence[str]) -> list[Tag]:
    tags: list[Tag] = []
    for raw in names:
        name = " ".join(raw.split())[:50]
        slug = slugify(name, allow_unicode=True)[:60]
        if not slug:
            raise ValidationError({"tags": [f"'{raw}' is not a usable tag."]})
        tag = Tag.objects.filter(name__iexact=name).first() or Tag.objects.filter(slug=slug).first()
        if tag is None:
            try:
                with transaction.atomic():
                    tag = Tag.objects.create(name=name, slug=slug)
            except IntegrityError:  # created concurrently
                tag = (
                    Tag.objects.filter(name__iexact=name).first()
                    or Tag.objects.filter(slug=slug).first()
                )
                if tag is None:
                    raise ValidationError({"tags": [f"'{raw}' clashes with a tag."]}) from None
        if tag not in tags:
            tags.append(tag)
    return tags


def _category(slug: str | None) -> Category | None:
    if not slug:
        return None
    category = Category.objects.filter(slug=slug).first()
    if category is None:
        raise ValidationError({"category": [f"No category '{slug}'."]})
    return category


# --- products ------------------------------------------------------------------------------------


def _check_owner(*, product: Product, user: User) -> None:
    if product.store.owner_id != user.pk and not user.is_staff:
        raise NotProductOwner()


def _validate_offer(*, price: Any, offer: Mapping[str, Any] | None) -> None:
    if not offer:
        return
    errors = []
    if offer["price"] >= price:
        errors.append("The offer price must be below the price.")
    if offer["starts_at"] >= offer["ends_at"]:
        errors.append("The offer must end after it starts.")
    if errors:
        raise ValidationError({"offer": errors})


def _apply_offer(product: Product, offer: Mapping[str, Any] | None) -> None:
    product.offer_price = offer["price"] if offer else None
    product.offer_starts_at = offer["starts_at"] if offer else None
    product.offer_ends_at = offer["ends_at"] if offer else None


def _size_name(raw: str) -> str:
    return " ".join(raw.split())


def _check_size_names(sizes: Sequence[Mapping[str, Any]]) -> None:
    names = [_size_name(s["name"]).lower() for s in sizes]
    if any(not n for n in names):
        raise ValidationError({"sizes": ["Every size needs a name."]})
    if len(set(names)) != len(names):
        raise ValidationError({"sizes": ["Size names must differ."]})


def create_product(*, user: User, store: Store, data: Mapping[str, Any]) -> Product:
    """Raises NotStoreOwner (403) for someone else's store, ValidationError for bad input."""
    check_store_owner(store=store, user=user)
    _validate_offer(price=data["price"], offer=data.get("offer"))
    sizes = data.get("sizes") or []
    if sizes and data.get("stock") is not None:
        raise ValidationError({"stock": ["Give stock per size when the product has sizes."]})
    if sizes:
        _check_size_names(sizes)
    category = _category(data.get("category"))
    with transaction.atomic():
        product = Product(
            store=store,
            name=data["name"],
            description=data.get("description", ""),
            price=data["price"],
            category=category,
            max_per_buyer=data.get("max_per_buyer"),
        )
        _apply_offer(product, data.get("offer"))
        now = timezone.now()
        product.listed_price = offers.listed_price(product, now)
        product.save()
        offers.schedule(offers.boundaries(product, now))
        product.tags.set(_tags(data.get("tags", [])))
        entries = sizes or [{"name": "", "stock": data.get("stock") or 0}]
        for position, entry in enumerate(entries):
            name = _size_name(entry["name"])
            size = Size.objects.create(product=product, name=name, position=position)
            stock.create_initial_stock(size=size, on_hand=entry.get("stock") or 0, actor=user)
        history.record_version(product=product, actor=user)
        indexing.product_changed([product.pk])
    logger.info("product created", extra={"product_id": product.pk, "store_id": store.pk})
    return product


def update_product(*, product: Product, user: User, data: Mapping[str, Any]) -> Product:
    """PUT or PATCH: only the fields present in ``data`` change. ``sizes``, when given, is the
    full list: entries with an ``id`` update that size, new names add sizes, sizes left out are
    soft-deleted. ``offer: null`` ends the offer. Raises NotProductOwner, ValidationError,
    StockBelowReserved."""
    _check_owner(product=product, user=user)
    with transaction.atomic():
        product = Product.objects.select_for_update().get(pk=product.pk)  # not its store row
        if product.deleted_at is not None:
            raise ValidationError({"product": ["This product was deleted."]})
        for field in ("name", "description", "price", "max_per_buyer"):
            if field in data:
                setattr(product, field, data[field])
        if "category" in data:
            product.category = _category(data["category"])
        if "offer" in data:
            _apply_offer(product, data["offer"])
        if product.offer_price is not None:
            _validate_offer(
                price=product.price,
                offer={
                    "price": product.offer_price,
                    "starts_at": product.offer_starts_at,
                    "ends_at": product.offer_ends_at,
                },
            )
        now = timezone.now()
        product.listed_price = offers.listed_price(product, now)
        product.save()
        offers.schedule(offers.boundaries(product, now))
        if "tags" in data:
            product.tags.set(_tags(data["tags"]))
        if "sizes" in data:
            _replace_sizes(product=product, sizes=data["sizes"], user=user)
        if data.get("stock") is not None:
            _set_default_stock(product=product, on_hand=data["stock"], user=user)
        history.record_version(product=product, actor=user)
        indexing.product_changed([product.pk])
    return product


def _live_sizes(product: Product) -> list[Size]:
    return list(product.sizes.filter(deleted_at__isnull=True).order_by("position", "id"))


def _replace_sizes(*, product: Product, sizes: Sequence[Mapping[str, Any]], user: User) -> None:
    if not sizes:
        raise ValidationError({"sizes": ["A product keeps at least one size; send stock instead."]})
    _check_size_names(sizes)
    ids = [entry["id"] for entry in sizes if entry.get("id")]
    if len(ids) != len(set(ids)):
        raise ValidationError({"sizes": ["A size id appears twice."]})
    live = {size.pk: size for size in _live_sizes(product)}
    for size_id in ids:
        if size_id not in live:
            raise ValidationError({"sizes": [f"Size {size_id} is not one of this product's."]})
    # Sizes named by id are claimed first; only the rest can be matched by name.
    by_name = {
        _size_name(size.name).lower(): size
        for size in live.values()
        if size.name and size.pk not in ids
    }
    kept: set[int] = set()
    for position, entry in enumerate(sizes):
        name = _size_name(entry["name"])
        size = live[entry["id"]] if entry.get("id") else by_name.get(name.lower())
        if size is None:
            size = Size.objects.create(product=product, name=name, position=position)
            stock.create_initial_stock(size=size, on_hand=entry.get("stock") or 0, actor=user)
        else:
            if (size.name, size.position) != (name, position):
                size.name, size.position = name, position
                size.save(update_fields=["name", "position"])
            if entry.get("stock") is not None:
                stock.set_stock(size=size, on_hand=entry["stock"], actor=user)
        kept.add(size.pk)
    dropped = [pk for pk in live if pk not in kept]
    held = [pk for pk in dropped if stock.live_reserved(live[pk]) > 0]
    if held:
        raise SizeInUse(details={"size_ids": held})
    Size.objects.filter(pk__in=dropped).update(deleted_at=timezone.now())


def _set_default_stock(*, product: Product, on_hand: int, user: User) -> None:
    size = default_size(_live_sizes(product))
    if size is None:
        raise ValidationError({"stock": ["This product has sizes: set stock per size."]})
    stock.set_stock(size=size, on_hand=on_hand, actor=user)


def delete_product(*, product: Product, user: User) -> None:
    """Soft delete: gone from every list and detail, never purchasable, kept in history and in
    past orders."""
    _check_owner(product=product, user=user)
    with transaction.atomic():
        product = Product.objects.select_for_update().get(pk=product.pk)
        if product.deleted_at is not None:
            return
        product.deleted_at = timezone.now()
        product.save(update_fields=["deleted_at", "updated_at"])
        history.record_version(product=product, actor=user)
        indexing.product_changed([product.pk])
    logger.info("product deleted", extra={"product_id": product.pk})


def add_product_image(*, product: Product, user: User, upload: UploadedFile) -> ProductImage:
    _check_owner(product=product, user=user)
    content = process_image(upload, field="image", max_side=1600)
    with transaction.atomic():
        product = Product.objects.select_for_update().get(pk=product.pk)
        if product.images.count() >= MAX_IMAGES:
            raise ValidationError({"image": [f"A product has at most {MAX_IMAGES} images."]})
        last = product.images.aggregate(last=Max("position"))["last"]
        image = ProductImage.objects.create(
            product=product, image=content, position=0 if last is None else last + 1
        )
        history.record_version(product=product, actor=user)
    return image


def remove_product_image(*, image: ProductImage, user: User) -> None:
    _check_owner(product=image.product, user=user)
    with transaction.atomic():
        product = Product.objects.select_for_update().get(pk=image.product_id)
        name, storage = image.image.name or "", image.image.storage
        image.delete()
        history.record_version(product=product, actor=user)
        if name:
            transaction.on_commit(lambda: storage.delete(name))


# --- favourites ----------------------------------------------------------------------------------


def add_favorite(*, user: User, product: Product) -> bool:
    """Idempotent. Returns True when the favourite is new."""
    try:
        with transaction.atomic():
            _, created = Favorite.objects.get_or_create(user=user, product=product)
    except IntegrityError:  # a concurrent request added it
        return False
    return created


def remove_favorite(*, user: User, product: Product) -> None:
    Favorite.objects.filter(user=user, product=product).delete()
