"""Reads of the catalogue, shaped for their serializers: a product list costs the same handful
of queries whatever the page size (products, sizes, tags, images, plus the count)."""

import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from products import cards
from products.models import Category, Favorite, Product, ProductVersion, Reservation, Size, Tag
from search import services as search_services
from search.query import Filters, SearchRequest
from stores.models import Store

LOW_STOCK_THRESHOLD = 5

ORDERINGS = {
    "price": ("listed_price", "id"),
    "-price": ("-listed_price", "-id"),
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
    "name": ("name", "id"),
}


def available_expression(size_field: str = "") -> Any:
    """Units a buyer can take: on hand, less what live reservations hold. Reservations past
    their deadline are added back even before a sweep has released them. ``size_field`` is the
    path to the size when annotating another model (``"size"`` on a cart item)."""
    prefix = f"{size_field}__" if size_field else ""
    expired_held = (
        Reservation.objects.filter(
            size=OuterRef(f"{size_field}_id" if size_field else "pk"),
            status=Reservation.Status.ACTIVE,
            expires_at__lte=timezone.now(),
        )
        .order_by()
        .values("size")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    return (
        F(f"{prefix}on_hand")
        - F(f"{prefix}reserved")
        + Coalesce(Subquery(expired_held, output_field=IntegerField()), Value(0))
    )


def live_sizes() -> QuerySet[Size]:
    return (
        Size.objects.filter(deleted_at__isnull=True)
        .annotate(available=available_expression())
        .order_by("position", "id")
    )


# --- The catalogue's rules, each written once: what is on sale, its price, the default size ---


def on_sale(path: str = "") -> Q:
    """A product buyers can see and buy: not deleted, its store open. ``path`` leads to the
    product from another model (``"product__"`` from a cart item)."""
    return Q(
        **{
            f"{path}deleted_at__isnull": True,
            f"{path}store__is_active": True,
            f"{path}store__deleted_at__isnull": True,
        }
    )


def size_on_sale(path: str = "") -> Q:
    """A size buyers can buy: not deleted, of a product on sale. ``path`` leads to the size."""
    return Q(**{f"{path}deleted_at__isnull": True}) & on_sale(f"{path}product__")


def offer_active_condition(now: datetime, path: str = "") -> Q:
    """The offer's window ``[starts_at, ends_at)`` holds ``now``."""
    return Q(
        **{
            f"{path}offer_price__isnull": False,
            f"{path}offer_starts_at__lte": now,
            f"{path}offer_ends_at__gt": now,
        }
    )


def offer_is_active(product: Product, now: datetime) -> bool:
    """``offer_active_condition`` for a product already in memory."""
    return (
        product.offer_price is not None
        and product.offer_starts_at is not None
        and product.offer_ends_at is not None
        and product.offer_starts_at <= now < product.offer_ends_at
    )


def current_price_expression(now: datetime, path: str = "") -> Case:
    """The active offer's price, else the price: the one price carts, orders and payments use."""
    return Case(
        When(offer_active_condition(now, path), then=F(f"{path}offer_price")),
        default=F(f"{path}price"),
    )


def default_size(sizes: Sequence[Size]) -> Size | None:
    """The size a line without a size means: only a product without sizes has one (its single
    unnamed size); for any other product the buyer must choose."""
    return sizes[0] if len(sizes) == 1 and not sizes[0].name else None


def _products(*, user: User | None, include_deleted: bool = False) -> QuerySet[Product]:
    now = timezone.now()
    products = Product.objects.all()
    if not include_deleted:
        products = products.filter(on_sale())
    favorite: Any = Value(False, output_field=BooleanField())
    if user is not None and user.is_authenticated:
        favorite = Exists(Favorite.objects.filter(user=user, product=OuterRef("pk")))
    return (
        products.select_related("store", "category")
        .annotate(current_price=current_price_expression(now), is_favorite=favorite)
        .prefetch_related(
            Prefetch("sizes", queryset=live_sizes(), to_attr="live_sizes"),
            "tags",
            "images",
        )
    )


def list_products(
    *, user: User | None, filters: dict[str, Any] | None = None, store_id: int | None = None
) -> QuerySet[Product]:
    """The catalogue as one queryset, each product loaded for its serializer (favourites,
    checkout's lookups). A page of the public list comes from ``catalogue_page`` instead."""
    return _filtered(_products(user=user), filters or {}, store_id)


def _filtered(
    products: QuerySet[Product], filters: Mapping[str, Any], store_id: int | None
) -> QuerySet[Product]:
    if store_id is not None:
        products = products.filter(store_id=store_id)
    if filters.get("store"):
        products = products.filter(store_id=filters["store"])
    if filters.get("category"):
        category = Category.objects.filter(slug=filters["category"]).first()
        if category is None:
            return products.none()
        # The category and those under it, as ids: no join for the planner to start from.
        subtree = Category.objects.filter(path__startswith=category.path).values_list("pk")
        products = products.filter(category_id__in=[pk for (pk,) in subtree])
    if filters.get("tag"):
        products = products.filter(tags__slug=filters["tag"])
    if filters.get("min_price") is not None:
        products = products.filter(listed_price__gte=filters["min_price"])
    if filters.get("max_price") is not None:
        products = products.filter(listed_price__lte=filters["max_price"])
    if filters.get("has_offer") is not None:
        active = offer_active_condition(timezone.now())
        products = products.filter(active) if filters["has_offer"] else products.exclude(active)
    if filters.get("in_stock") is not None:
        # on_hand > reserved settles most sizes without the expired-reservations subquery.
        stocked = Exists(
            live_sizes().filter(
                Q(on_hand__gt=F("reserved")) | Q(**{"available__gt": 0}), product=OuterRef("pk")
            )
        )
        products = products.filter(stocked) if filters["in_stock"] else products.exclude(stocked)
    if filters.get("size"):
        products = products.filter(
            Exists(
                Size.objects.filter(
                    product=OuterRef("pk"), deleted_at__isnull=True, name__iexact=filters["size"]
                )
            )
        )
    return products.order_by(*ORDERINGS[filters.get("ordering") or "-created_at"])


_open_stores: tuple[float, list[int]] = (0.0, [])


def _open_store_ids(query: QuerySet) -> list[int]:
    """The open stores' ids, kept by this process for CATALOGUE_CACHE_SECONDS (the lag lists
    already have): a store closing leaves the lists within a second, and its products' pages
    at once (they join the store)."""
    global _open_stores
    seconds = settings.CATALOGUE_CACHE_SECONDS
    expires, ids = _open_stores
    if seconds and expires > time.monotonic():
        return ids
    ids = [row["pk"] for row in query]
    if seconds:
        _open_stores = (time.monotonic() + seconds, ids)
    return ids


def forget_open_stores() -> None:
    """Forget what this process keeps for the catalogue's second (the open stores, counts)."""
    global _open_stores
    _open_stores = (0.0, [])
    _counts.clear()


def _catalogue_ids(
    filters: Mapping[str, Any], store_id: int | None, *, for_count: bool = False
) -> QuerySet[Product]:
    """The products on sale matching ``filters``, in their order, from the products table
    alone: the open stores are a short id list, not a join. Joined, MariaDB read the stores
    first and sorted the whole live catalogue through a temporary table for every page (126 to 209
    ms at 100,000 products); alone, it walks the ordering's index and stops at the page (about
    1 ms), whatever the catalogue's size. Counting is the other way round: with the open stores
    as a subquery MariaDB counts each store's range of ``product_store_live`` from the index
    alone (16 ms at 100,000), where the id list made it look up every row (110 ms)."""
    open_stores: Any = Store.objects.filter(is_active=True, deleted_at__isnull=True).values("pk")
    if not for_count:
        open_stores = _open_store_ids(open_stores)
    products = Product.objects.filter(deleted_at__isnull=True, store_id__in=open_stores)
    return _filtered(products, filters, store_id)


def _catalogue_count(filters: Mapping[str, Any], store_id: int | None) -> int:
    """How many products match, shared for CATALOGUE_CACHE_SECONDS (the lag the catalogue's
    shared answers already have): every page of one listing, signed-in readers' included,
    costs one count a second, not one each."""
    seconds = settings.CATALOGUE_CACHE_SECONDS
    wanted = {k: str(v) for k, v in sorted(filters.items()) if k not in ("ordering", "search")}
    key = "catalogue-count:" + hashlib.sha256(json.dumps([store_id, wanted]).encode()).hexdigest()
    if seconds:
        local = _counts.get(key)
        if local is not None and local[0] > time.monotonic():
            return local[1]
        cached = cache.get(key)
        if cached is not None:
            _keep_count(key, int(cached), seconds)
            return int(cached)
    count = _catalogue_ids(filters, store_id, for_count=True).order_by().count()
    if seconds:
        cache.set(key, count, seconds)
        _keep_count(key, count, seconds)
    return count


# This process's copy of the shared counts, until their second is up (as http_cache does).
_counts: dict[str, tuple[float, int]] = {}


def _keep_count(key: str, count: int, seconds: int) -> None:
    if len(_counts) >= 2000:
        _counts.clear()
    _counts[key] = (time.monotonic() + seconds, count)


def catalogue_page(
    *,
    user: User | None,
    filters: Mapping[str, Any],
    offset: int,
    limit: int,
    store_id: int | None = None,
    absolute: cards.Absolute | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """One page of the public catalogue, as the API shows it, and the total: the page's ids
    first (one products-only query, see ``_catalogue_ids``), then their cards (``cards``).
    ``limit`` 0 asks only for the total."""
    count = _catalogue_count(filters, store_id)
    if not limit or offset >= count:
        return [], count
    ids_query = _catalogue_ids(filters, store_id)
    ids = list(ids_query.values_list("pk", flat=True)[offset : offset + limit])
    return cards.products(ids, user=user, absolute=absolute), count


@dataclass
class SearchPage:
    products: list[dict[str, Any]]
    count: int
    facets: dict[str, Any] | None
    backend: str
    query_id: Any


def search_products(
    *,
    user: User | None,
    text: str,
    filters: Mapping[str, Any],
    offset: int,
    limit: int,
    store_id: int | None = None,
    facets: bool = True,
    log: bool = True,
    absolute: cards.Absolute | None = None,
) -> SearchPage:
    """A page of products matching ``text`` (in relevance order unless ``filters["ordering"]``
    says otherwise) from the search engine, with facet counts; each product as the API shows
    it. A product the index still holds after it left sale is skipped."""
    request = SearchRequest(
        text=text,
        filters=Filters(
            category=filters.get("category"),
            tag=filters.get("tag"),
            store=store_id or filters.get("store"),
            size=filters.get("size"),
            min_price=filters.get("min_price"),
            max_price=filters.get("max_price"),
            in_stock=filters.get("in_stock"),
            has_offer=filters.get("has_offer"),
        ),
        ordering=filters.get("ordering"),
        offset=offset,
        limit=limit,
        facets=facets,
    )
    outcome = search_services.search_products(request=request, log=log)
    return SearchPage(
        products=cards.products(outcome.result.ids, user=user, absolute=absolute),
        count=outcome.result.count,
        facets=outcome.result.facets,
        backend=outcome.result.backend,
        query_id=outcome.query_id,
    )


def products_for_purchase(*, product_ids: Any) -> QuerySet[Product]:
    """Products on sale with their current price, store and live sizes: what checkout needs."""
    return (
        Product.objects.filter(on_sale(), pk__in=product_ids)
        .select_related("store")
        .annotate(current_price=current_price_expression(timezone.now()))
        .prefetch_related(
            # Stock is checked by the reservation under lock, not here: no availability.
            Prefetch(
                "sizes",
                queryset=Size.objects.filter(deleted_at__isnull=True).order_by("position", "id"),
                to_attr="live_sizes",
            )
        )
    )


def get_product(*, product_id: int, user: User | None) -> Product:
    """A product on sale; 404 when missing, deleted or its store closed."""
    product = _products(user=user).filter(pk=product_id).first()
    if product is None:
        raise Http404
    return product


def product_page(
    *, product_id: int, user: User | None, absolute: cards.Absolute | None = None
) -> dict[str, Any]:
    """A product on sale as the API shows it, from its card; 404 when missing, deleted or its
    store closed."""
    found = cards.products([product_id], user=user, absolute=absolute)
    if not found:
        raise Http404
    return found[0]


def get_product_for_owner(*, product_id: int, user: User) -> Product:
    """A live product the user may change; 404 when it isn't on sale. Ownership itself is
    checked by the services (403)."""
    return get_product(product_id=product_id, user=user)


def list_product_history(*, product_id: int, user: User) -> QuerySet[ProductVersion]:
    """Versions of a product, newest first, for its store's owner and staff only (404 for
    anyone else, deleted products included)."""
    product = Product.objects.select_related("store").filter(pk=product_id).first()
    if product is None or not (user.is_staff or product.store.owner_id == user.pk):
        raise Http404
    return product.versions.select_related("actor").order_by("-number")


def favorite_ids(*, user: User, product_ids: Sequence[int]) -> set[int]:
    """Which of these products the user likes."""
    if not product_ids:
        return set()
    return set(
        Favorite.objects.filter(user=user, product_id__in=product_ids).values_list(
            "product_id", flat=True
        )
    )


def list_favorites(*, user: User) -> QuerySet[Product]:
    return (
        list_products(user=user)
        .filter(favorited_by__user=user)
        .order_by("-favorited_by__created_at", "-id")
    )


def list_categories() -> QuerySet[Category]:
    return Category.objects.select_related("parent").order_by("path")


def list_tags() -> QuerySet[Tag]:
    return Tag.objects.order_by("name")


def availability(product: Product) -> str:
    """``in_stock``, ``low_stock`` or ``out_of_stock`` from the prefetched live sizes."""
    total = sum(max(size.available, 0) for size in product.live_sizes)  # type: ignore[attr-defined]
    if total <= 0:
        return "out_of_stock"
    return "low_stock" if total <= LOW_STOCK_THRESHOLD else "in_stock"
