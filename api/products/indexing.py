"""The catalogue as the search index sees it: products on sale as plain documents
(``search.sources``), and the one call every catalogue write makes to report its change.

Registered with the search port when the app starts (``ProductsConfig.ready``); search never
imports this app.
"""

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch

from products import cards
from products.models import Category, Product, Size
from products.selectors import live_sizes, on_sale
from search import feed


def product_changed(product_ids: Iterable[int]) -> None:
    """Report products changed, in the caller's transaction (a rollback reports nothing)."""
    feed.changed("product", product_ids)


def sizes_changed(size_ids: Iterable[int]) -> None:
    """Report the products of these sizes changed (their stock did)."""
    ids = sorted(set(size_ids))
    if ids:
        product_changed(Size.objects.filter(pk__in=ids).values_list("product_id", flat=True))


def store_changed(store_id: int) -> None:
    feed.changed("store", [store_id])


def category_changed(category_id: int) -> None:
    feed.changed("category", [category_id])


def _in_stock() -> Exists:
    return Exists(live_sizes().filter(product=OuterRef("pk"), **{"available__gt": 0}))


def _stamp(*parts: Any) -> str:
    return hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=16).hexdigest()


class ProductDocuments:
    """``search.sources.DocumentSource`` over the catalogue."""

    def documents(self, ids: Sequence[int]) -> list[dict[str, Any]]:
        products = list(
            Product.objects.filter(on_sale(), pk__in=ids)
            .select_related("store", "category")
            .annotate(in_stock=_in_stock())
            .prefetch_related(
                "tags",
                Prefetch(
                    "sizes",
                    queryset=Size.objects.filter(deleted_at__isnull=True).order_by("position"),
                    to_attr="indexed_sizes",
                ),
            )
        )
        ancestors: set[int] = set()
        for product in products:
            if product.category is not None:
                ancestors.update(int(pk) for pk in product.category.path.strip("/").split("/"))
        categories = {c.pk: c for c in Category.objects.filter(pk__in=ancestors)}
        documents = []
        for product in products:
            chain = []
            if product.category is not None:
                for pk in product.category.path.strip("/").split("/"):
                    node = categories.get(int(pk))
                    if node is not None:
                        chain.append((node.slug, node.name))
            documents.append(
                {
                    "id": product.pk,
                    "name": product.name,
                    "description": product.description,
                    "store_id": product.store_id,
                    "store_name": product.store.name,
                    "categories": chain,
                    "tags": [(tag.slug, tag.name) for tag in product.tags.all()],
                    "sizes": [size.name for size in product.indexed_sizes],
                    "price": product.price,
                    "offer_price": product.offer_price,
                    "offer_starts_at": product.offer_starts_at,
                    "offer_ends_at": product.offer_ends_at,
                    "in_stock": product.in_stock,
                    "created_at": product.created_at,
                    "stamp": _stamp(
                        product.version,
                        product.updated_at.isoformat(),
                        product.store.name,
                        product.category.path if product.category else "",
                        product.category.name if product.category else "",
                        product.in_stock,
                    ),
                }
            )
        return documents

    def follow(self, ids: Sequence[int]) -> None:
        cards.refresh(ids)

    def ids_of(self, kind: str, object_id: int) -> list[int]:
        products = Product.objects.filter(deleted_at__isnull=True)
        if kind == "store":
            return list(products.filter(store_id=object_id).values_list("pk", flat=True))
        category = Category.objects.filter(pk=object_id).first()
        if category is None:
            return []
        return list(
            products.filter(category__path__startswith=category.path).values_list("pk", flat=True)
        )

    def stamps(self) -> Iterator[tuple[int, str]]:
        rows = (
            Product.objects.filter(on_sale())
            .annotate(in_stock=_in_stock())
            .values_list(
                "pk",
                "version",
                "updated_at",
                "store__name",
                "category__path",
                "category__name",
                "in_stock",
            )
            .order_by("pk")
        )
        for pk, version, updated_at, store, path, category, in_stock in rows.iterator(2000):
            yield (
                pk,
                _stamp(
                    version, updated_at.isoformat(), store, path or "", category or "", in_stock
                ),
            )
