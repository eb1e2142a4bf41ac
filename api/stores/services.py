import logging
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.text import slugify

from accounts.models import User
from search import feed
from stores.exceptions import NotABusinessOwner, NotStoreOwner
from stores.models import Store

logger = logging.getLogger(__name__)

EDITABLE_FIELDS = ("name", "description", "address", "latitude", "longitude", "contact_phone")


def _unique_slug(name: str) -> str:
    base = slugify(name)[:120] or "store"
    slug = base
    while Store.objects.filter(slug=slug).exists():
        slug = f"{base}-{get_random_string(5, 'abcdefghijklmnopqrstuvwxyz0123456789')}"
    return slug


def create_store(*, owner: User, data: Mapping[str, Any]) -> Store:
    """Raises NotABusinessOwner for buyer accounts."""
    if owner.account_type != User.AccountType.BUSINESS_OWNER:
        raise NotABusinessOwner()
    fields = {k: v for k, v in data.items() if k in EDITABLE_FIELDS}
    for _ in range(3):
        try:
            with transaction.atomic():
                store = Store.objects.create(
                    owner=owner, slug=_unique_slug(fields["name"]), **fields
                )
            break
        except IntegrityError:  # two stores of one name raced for the slug
            continue
    else:
        raise RuntimeError("could not allocate a store slug")
    logger.info("store created", extra={"store_id": store.pk, "user_id": owner.pk})
    return store


def check_store_owner(*, store: Store, user: User) -> None:
    """Raises NotStoreOwner unless the user owns the store (or is staff)."""
    if store.owner_id != user.pk and not user.is_staff:
        raise NotStoreOwner()


def update_store(*, store: Store, user: User, data: Mapping[str, Any]) -> Store:
    check_store_owner(store=store, user=user)
    changed = [f for f in EDITABLE_FIELDS if f in data and getattr(store, f) != data[f]]
    for field in changed:
        setattr(store, field, data[field])
    if (store.latitude is None) != (store.longitude is None):
        raise ValidationError("Give both latitude and longitude, or neither.")
    if changed:
        with transaction.atomic():
            store.save(update_fields=[*changed, "updated_at"])
            if "name" in changed:
                feed.changed("store", [store.pk])  # its products show its name
    return store


def save_store_as_staff(*, store: Store) -> Store:
    """Save a store as staff edited it in the admin (name, opening or closing it): its
    products are re-indexed."""
    with transaction.atomic():
        store.save()
        feed.changed("store", [store.pk])
    return store


def delete_store(*, store: Store, user: User) -> None:
    """Soft delete: the store leaves every listing; its orders keep pointing at it."""
    check_store_owner(store=store, user=user)
    store.is_active = False
    store.deleted_at = timezone.now()
    with transaction.atomic():
        store.save(update_fields=["is_active", "deleted_at", "updated_at"])
        feed.changed("store", [store.pk])  # its products leave search
    logger.info("store deleted", extra={"store_id": store.pk, "user_id": user.pk})
