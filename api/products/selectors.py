"""Reads of the catalogue, shaped for their serializers: a product list costs the same handful
of queries whatever the page size (products, sizes, tags, images, plus the count)."""

import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
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
from core import rows
from products import cards
from products.models import Category, Favorite, Product, ProductVersion, Reservation, Size, Tag
from search import services as search_services
from search.query import Filters, SearchRequest
from stores.models import Store
from stores.selectors import store_open, store_open_sql

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
    return Q(**{f"{path}deleted_at__isnull": True}) & store_open(f"{path}store__")


def on_sale_sql(product: str, store: str) -> tuple[str, list[Any]]:
    """``on_sale`` for a hand-written statement that joins the product's store, and its
    parameters: ``product`` and ``store`` are the two tables' aliases there."""
    q = connection.ops.quote_name
    store_sql, params = store_open_sql(store)
    return f"{product}.{q('deleted_at')} IS NULL AND {store_sql}", params


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


def offer_runs(starts: Any, ends: Any, now: Any) -> bool:
    """``offer_active_condition``'s window in Python: ``[starts, ends)`` holds ``now`` (datetimes,
    or the timestamps a product card keeps)."""
    return starts is not None and ends is not None and starts <= now < ends


def offer_is_active(product: Product, now: datetime) -> bool:
    """``offer_active_condition`` for a product already in memory."""
    return product.offer_price is not None and offer_runs(
        product.offer_starts_at, product.offer_ends_at, now
    )


def price_with_offer(price: Any, offer_price: Any, running: bool) -> Any:
    """``current_price_expression`` in Python: the offer's price while it runs, else the price."""
    return offer_price if running and offer_price is not None else price


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


def _category_subtree(slug: str) -> list[int]:
    """The category and those under it, as ids (none for an unknown slug): no join for the
    planner to start from."""

    def subtree() -> list[int]:
        category = Category.objects.filter(slug=slug).first()
        if category is None:
            return []
        nodes = Category.objects.filter(path__startswith=category.path)
        return list(nodes.values_list("pk", flat=True))

    return list(_for_the_second(f"subtree:{slug}", subtree))


def _filtered(
    products: QuerySet[Product], filters: Mapping[str, Any], store_id: int | None
) -> QuerySet[Product]:
    if store_id is not None:
        products = products.filter(store_id=store_id)
    if filters.get("store"):
        products = products.filter(store_id=filters["store"])
    if filters.get("category"):
        subtree = _category_subtree(filters["category"])
        if not subtree:
            return products.none()
        products = products.filter(category_id__in=subtree)
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


# What this process keeps for the catalogue's second (CATALOGUE_CACHE_SECONDS, the lag lists
# already have): the open stores, categories' subtrees, the shared counts. A store closing or a
# category moving shows on lists within that second — and on a product's page at once (it joins
# its store).
_kept: dict[str, tuple[float, Any]] = {}


def _for_the_second(key: str, compute: Callable[[], Any]) -> Any:
    seconds = settings.CATALOGUE_CACHE_SECONDS
    if not seconds:
        return compute()
    now = time.monotonic()
    entry = _kept.get(key)
    if entry is not None and entry[0] > now:
        return entry[1]
    value = compute()
    if len(_kept) >= 4000:  # many distinct listings: start again
        _kept.clear()
    _kept[key] = (now + seconds, value)
    return value


def forget_local() -> None:
    """Forget what this process keeps for the catalogue's second."""
    _kept.clear()


def _open_stores_query() -> QuerySet:
    return Store.objects.filter(store_open()).values("pk")


def _open_store_ids() -> list[int]:
    return _for_the_second("open-stores", lambda: [row["pk"] for row in _open_stores_query()])


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
    open_stores: Any = _open_stores_query() if for_count else _open_store_ids()
    products = Product.objects.filter(deleted_at__isnull=True, store_id__in=open_stores)
    return _filtered(products, filters, store_id)


def _catalogue_count(filters: Mapping[str, Any], store_id: int | None) -> int:
    """How many products match, shared for CATALOGUE_CACHE_SECONDS (the lag the catalogue's
    shared answers already have): every page of one listing, signed-in readers' included,
    costs one count a second, not one each."""
    wanted = {k: str(v) for k, v in sorted(filters.items()) if k not in ("ordering", "search")}
    key = "catalogue-count:" + hashlib.sha256(json.dumps([store_id, wanted]).encode()).hexdigest()

    def shared() -> int:
        cached = cache.get(key)
        if cached is not None:
            return int(cached)
        count = _catalogue_ids(filters, store_id, for_count=True).order_by().count()
        cache.set(key, count, settings.CATALOGUE_CACHE_SECONDS)
        return count

    if not settings.CATALOGUE_CACHE_SECONDS:
        return _catalogue_ids(filters, store_id, for_count=True).order_by().count()
    return int(_for_the_second(key, shared))


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
    ids = _page_ids(filters, store_id, offset=offset, limit=limit)
    return cards.products(ids, user=user, absolute=absolute), count


# The listings one hand-written statement reads (the others go through ``_catalogue_ids``).
_PLAIN_FILTERS = {"ordering", "store", "category", "min_price", "max_price", "in_stock"}


def _page_ids(
    filters: Mapping[str, Any], store_id: int | None, *, offset: int, limit: int
) -> list[int]:
    """A page's product ids, in order. For the common listings — an ordering, a store, a
    category, a price range — the statement ``_catalogue_ids`` would make, written out here:
    built by the ORM (the open stores' ids go in as a list) it cost as much as it took to run,
    about 1.5 ms a page."""
    given = {key for key, value in filters.items() if value not in (None, "")}
    if not given <= _PLAIN_FILTERS:
        ids = _catalogue_ids(filters, store_id).values_list("pk", flat=True)
        return list(ids[offset : offset + limit])
    stores = _open_store_ids()
    if not stores:
        return []
    q = connection.ops.quote_name
    # On sale (``on_sale``), with the open stores as ``store_open``'s id list.
    where = [f"{q('deleted_at')} IS NULL", f"{q('store_id')} IN ({_marks(stores)})"]
    params: list[Any] = [*stores]
    for wanted in (store_id, filters.get("store")):
        if wanted:
            where.append(f"{q('store_id')} = %s")
            params.append(wanted)
    if filters.get("category"):
        subtree = _category_subtree(filters["category"])
        if not subtree:
            return []
        where.append(f"{q('category_id')} IN ({_marks(subtree)})")
        params += subtree
    for key, operator in (("min_price", ">="), ("max_price", "<=")):
        if filters.get(key) is not None:
            where.append(f"{q('listed_price')} {operator} %s")
            params.append(connection.ops.adapt_decimalfield_value(filters[key], 12, 2))
    if filters.get("in_stock") is not None:
        # A live size with units a buyer can take (as ``_filtered``'s: on hand above reserved
        # settles most sizes without summing the expired holds).
        where.append(("EXISTS" if filters["in_stock"] else "NOT EXISTS") + _in_stock_sql())
        params += [
            Reservation.Status.ACTIVE,
            connection.ops.adapt_datetimefield_value(timezone.now()),
        ]
    order = ", ".join(
        f"{q(column.lstrip('-'))} {'DESC' if column.startswith('-') else 'ASC'}"
        for column in ORDERINGS[filters.get("ordering") or "-created_at"]
    )
    sql = (
        f"SELECT {q('id')} FROM {q(Product._meta.db_table)} WHERE {' AND '.join(where)} "  # noqa: S608 - names from model meta
        f"ORDER BY {order} LIMIT %s OFFSET %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit, offset])
        return [pk for (pk,) in cursor.fetchall()]


def _in_stock_sql() -> str:
    q = connection.ops.quote_name
    size, product = q(Size._meta.db_table), q(Product._meta.db_table)
    reservation = q(Reservation._meta.db_table)
    return (
        f" (SELECT 1 FROM {size} z WHERE z.{q('product_id')} = {product}.{q('id')}"  # noqa: S608 - names from model meta
        f" AND z.{q('deleted_at')} IS NULL AND (z.{q('on_hand')} > z.{q('reserved')}"
        f" OR z.{q('on_hand')} - z.{q('reserved')} + COALESCE((SELECT SUM(r.{q('quantity')})"
        f" FROM {reservation} r WHERE r.{q('size_id')} = z.{q('id')} AND r.{q('status')} = %s"
        f" AND r.{q('expires_at')} <= %s), 0) > 0))"
    )


def _marks(values: Sequence[Any]) -> str:
    return ", ".join(["%s"] * len(values))


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


def current_price(product: Product, now: datetime) -> Decimal:
    """``current_price_expression`` for a product already in memory."""
    return price_with_offer(product.price, product.offer_price, offer_is_active(product, now))


def products_for_purchase(*, product_ids: Any) -> QuerySet[Product]:
    """Products on sale with their store and live sizes: what checkout needs (only the columns
    it reads; ``current_price`` gives the price it charges)."""
    return (
        Product.objects.filter(on_sale(), pk__in=product_ids)
        .select_related("store")
        .only(
            "name",
            "version",
            "currency",
            "price",
            "offer_price",
            "offer_starts_at",
            "offer_ends_at",
            "max_per_buyer",
            "store__name",
            "store__owner_id",
        )
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
    """Which of these products the user likes. Written out: it runs on every signed-in
    catalogue read, and the ORM took longer to build it than the database to answer."""
    if not product_ids:
        return set()
    ids = sorted(set(product_ids))
    table = connection.ops.quote_name(Favorite._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT product_id FROM {table} WHERE user_id = %s "  # noqa: S608 - the model's table
            f"AND product_id IN ({', '.join(['%s'] * len(ids))})",
            [user.pk, *ids],
        )
        return {product_id for (product_id,) in cursor.fetchall()}


def list_favorites(*, user: User) -> QuerySet[Product]:
    return (
        list_products(user=user)
        .filter(favorited_by__user=user)
        .order_by("-favorited_by__created_at", "-id")
    )


def category_page(*, offset: int, limit: int) -> tuple[list[tuple[int, str, str, str | None]], int]:
    """A page of the category tree, flattened in tree order (by ``path``), as rows of (id,
    name, slug, the parent's slug or None), and how many categories there are: one written-out
    statement (``core.rows``)."""
    q = connection.ops.quote_name
    table = q(Category._meta.db_table)
    return rows.page(
        columns=f"c.{q('id')}, c.{q('name')}, c.{q('slug')}, p.{q('slug')}",
        source=f"{table} c LEFT JOIN {table} p ON p.{q('id')} = c.{q('parent_id')}",
        order=f"c.{q('path')}",
        params=[],
        offset=offset,
        limit=limit,
    )


def tag_page(*, offset: int, limit: int) -> tuple[list[tuple[int, str, str]], int]:
    """A page of the tags by name as rows of (id, name, slug), and how many there are: one
    written-out statement (``core.rows``)."""
    q = connection.ops.quote_name
    return rows.page(
        columns=f"{q('id')}, {q('name')}, {q('slug')}",
        source=q(Tag._meta.db_table),
        order=q("name"),
        params=[],
        offset=offset,
        limit=limit,
    )


def availability(product: Product) -> str:
    """``in_stock``, ``low_stock`` or ``out_of_stock`` from the prefetched live sizes."""
    total = sum(max(size.available, 0) for size in product.live_sizes)  # type: ignore[attr-defined]
    if total <= 0:
        return "out_of_stock"
    return "low_stock" if total <= LOW_STOCK_THRESHOLD else "in_stock"
