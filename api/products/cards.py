"""The catalogue's read model: product cards.

A list page or a product's page used to load model instances with five prefetches and run
them through ``ProductSerializer``: about 23 ms of CPU for a page of 20, whatever the cache
said. A card is that serializer's output, stored as JSON text (``ProductCard``), less what may
change without the product row changing:

- stock: each read takes the live sizes with their available units (one query, no lag);
- the offer being active and so ``current_price``: worked out from the offer's window at read
  time, so an offer starts and ends on the second;
- the store's and category's names: joined from their rows when the cards are read;
- ``is_favorite``: the reader's favourites among the page (one query, signed in only).

Everything else a buyer sees (name, description, price, offer, tags, images, caps…) changes
only with a new product ``version`` or ``updated_at``, written in the change's own transaction
(``history.record_version``, ``Product.save``). A read serves a card only while both are the
product's: a stale card is a miss, never an answer. A miss is built from the models (the old
path), served, and stored; the index feed's drain rebuilds the cards of every product it
handles, so the first read after a change normally finds its card ready. A tag renamed in the
admin (the one change that reaches cards without a new version) drops its products' cards.

``manage.py rebuild_product_cards`` rebuilds every card from scratch. Cards of products no
longer on sale are never served (reads join the product and its store) and are deleted by the
rebuild.
"""

import functools
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import OperationalError, connection, transaction
from django.db.models import BooleanField, Value
from django.utils import timezone

from products.models import Category, Favorite, Product, ProductCard, Reservation, Size
from stores.models import Store

logger = logging.getLogger(__name__)


@functools.cache
def _fields() -> tuple[str, ...]:
    """The keys of a product as the API shows it, in ``ProductSerializer``'s order (imported
    when first asked: the serializers import the selectors, which import this module)."""
    from products.serializers import ProductSerializer

    return tuple(ProductSerializer.Meta.fields)


# What a card holds: the rest is added by each read.
STORED = ("id", "name", "description", "price", "currency", "tags", "offer", "max_per_buyer",
          "images", "version", "created_at", "updated_at")  # fmt: skip

Absolute = Callable[[str], str]


def _payload(product: Product) -> dict[str, Any]:
    """A card from a product loaded by ``selectors._products`` (anonymous)."""
    from products.serializers import ProductSerializer

    data = ProductSerializer(product).data  # no request: image URLs stay as storage gives them
    card = {key: data[key] for key in STORED}
    offer = card["offer"]
    if offer is not None:
        card["offer"] = {key: offer[key] for key in ("price", "starts_at", "ends_at")}
        starts, ends = product.offer_starts_at, product.offer_ends_at
        assert starts is not None  # the offer's CHECK constraint
        assert ends is not None
        card["_window"] = [starts.timestamp(), ends.timestamp()]
    return card


def build(ids: Iterable[int]) -> tuple[list[Product], dict[int, dict[str, Any]]]:
    """Cards of the products among ``ids`` that are on sale, from the models, stored; with
    the products they were built from."""
    from products.selectors import current_price_expression, on_sale

    products: list[Product] = list(
        Product.objects.filter(on_sale(), pk__in=list(ids))
        .select_related("store", "category")
        .annotate(
            current_price=current_price_expression(timezone.now()),
            is_favorite=Value(False, output_field=BooleanField()),
        )
        .prefetch_related("tags", "images")
    )
    for product in products:
        product.live_sizes = []  # type: ignore[attr-defined]  # stock is read live
    cards = {product.pk: _payload(product) for product in products}
    _store(products, cards)
    return products, cards


def _store(products: Sequence[Product], cards: dict[int, dict[str, Any]]) -> None:
    rows = [
        ProductCard(
            product_id=product.pk,
            version=product.version,
            updated_at=product.updated_at,
            payload=json.dumps(cards[product.pk], ensure_ascii=False, separators=(",", ":")),
        )
        for product in products
    ]
    if not rows:
        return
    # MariaDB's upsert has no conflict target (any unique key); SQLite's needs one.
    target = ["product"] if connection.features.supports_update_conflicts_with_target else None
    try:
        with transaction.atomic():
            ProductCard.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=target,
                update_fields=["version", "updated_at", "payload", "built_at"],
            )
    except OperationalError:
        # Two readers filling the same card can deadlock on MariaDB: the answer is already
        # built, the next read (or the drain) stores it.
        logger.warning("could not store product cards", exc_info=True)


def refresh(ids: Iterable[int]) -> int:
    """Rebuild the cards of these products (the index feed's drain calls this for each batch);
    products no longer on sale lose theirs. Returns how many cards were written."""
    wanted = sorted(set(ids))
    if not wanted:
        return 0
    _, built = build(wanted)
    gone = [pk for pk in wanted if pk not in built]
    if gone:
        ProductCard.objects.filter(product_id__in=gone).delete()
    return len(built)


def forget(ids: Iterable[int]) -> None:
    """Drop these products' cards now and again after commit (a tag renamed in the admin): a
    read that built a card from the old name before the commit can't keep it."""
    wanted = sorted(set(ids))
    if not wanted:
        return
    ProductCard.objects.filter(product_id__in=wanted).delete()
    transaction.on_commit(lambda: ProductCard.objects.filter(product_id__in=wanted).delete())


def rebuild(*, batch: int = 500) -> dict[str, int]:
    """Every card from scratch: cards of products on sale rebuilt, the others deleted."""
    from products.selectors import on_sale

    ids = list(Product.objects.filter(on_sale()).order_by("pk").values_list("pk", flat=True))
    written = 0
    for start in range(0, len(ids), batch):
        written += len(build(ids[start : start + batch])[1])
    on_sale_ids = Product.objects.filter(on_sale()).values("pk")
    removed, _ = ProductCard.objects.exclude(product_id__in=on_sale_ids).delete()
    return {"written": written, "removed": removed}


# --- reads ---------------------------------------------------------------------------------------


@functools.cache
def _sql() -> dict[str, Any]:
    """The two statements every catalogue read runs, written out once: built by the ORM they
    cost more to compile than to run. ``{ids}`` takes the placeholders of the id list; the
    cards' statement takes ``on_sale``'s parameters after them."""
    from products.selectors import on_sale_sql

    q = connection.ops.quote_name
    on_sale, on_sale_params = on_sale_sql("p", "s")

    def table(model: Any) -> str:
        return q(model._meta.db_table)

    cards = f"""
        SELECT c.{q("product_id")}, c.{q("version")}, c.{q("updated_at")}, c.{q("payload")},
               p.{q("version")}, p.{q("updated_at")}, p.{q("store_id")}, s.{q("name")},
               k.{q("slug")}, k.{q("name")}
        FROM {table(ProductCard)} c
        JOIN {table(Product)} p ON p.{q("id")} = c.{q("product_id")}
        JOIN {table(Store)} s ON s.{q("id")} = p.{q("store_id")}
        LEFT JOIN {table(Category)} k ON k.{q("id")} = p.{q("category_id")}
        WHERE c.{q("product_id")} IN ({{ids}}) AND {on_sale}"""  # noqa: S608 - names from model meta
    # Available: on hand, less what live reservations hold; holds past their deadline count
    # as released even before the sweep releases them (``selectors.available_expression``).
    sizes = f"""
        SELECT z.{q("product_id")}, z.{q("id")}, z.{q("name")},
               z.{q("on_hand")} - z.{q("reserved")} + COALESCE((
                   SELECT SUM(r.{q("quantity")}) FROM {table(Reservation)} r
                   WHERE r.{q("size_id")} = z.{q("id")} AND r.{q("status")} = %s
                     AND r.{q("expires_at")} <= %s), 0)
        FROM {table(Size)} z
        WHERE z.{q("product_id")} IN ({{ids}}) AND z.{q("deleted_at")} IS NULL
        ORDER BY z.{q("position")}, z.{q("id")}"""  # noqa: S608 - names from model meta
    return {"cards": cards, "cards_params": on_sale_params, "sizes": sizes}


def _availability(total: int) -> str:
    from products.selectors import LOW_STOCK_THRESHOLD

    if total <= 0:
        return "out_of_stock"
    return "low_stock" if total <= LOW_STOCK_THRESHOLD else "in_stock"


def products(
    ids: Sequence[int], *, user: Any = None, absolute: Absolute | None = None
) -> list[dict[str, Any]]:
    """The products among ``ids`` that are on sale, in ``ids``' order, as the API shows them
    (``ProductSerializer``'s shape): cards plus live stock, offer state, names and favourites.
    ``absolute`` turns a stored image URL into the one the client should fetch."""
    if not ids:
        return []
    with connection.cursor() as cursor:
        marks = ", ".join(["%s"] * len(ids))
        statements = _sql()
        cursor.execute(statements["cards"].format(ids=marks), [*ids, *statements["cards_params"]])
        rows = cursor.fetchall()
    cards: dict[int, dict[str, Any]] = {}
    names: dict[int, tuple[int, str, str | None, str | None]] = {}
    for pk, version, updated, payload, live_version, live_updated, *refs in rows:
        names[pk] = tuple(refs)
        if (version, updated) == (live_version, live_updated):
            cards[pk] = json.loads(payload)
    missing = [pk for pk in ids if pk not in cards]
    if missing:
        built, fresh = build(missing)
        cards.update(fresh)
        for product in built:
            node = product.category
            names[product.pk] = (
                product.store_id,
                product.store.name,
                None if node is None else node.slug,
                None if node is None else node.name,
            )
    if not cards:
        return []
    sizes: dict[int, list[dict[str, Any]]] = {pk: [] for pk in cards}
    with connection.cursor() as cursor:
        found = list(cards)
        expired = connection.ops.adapt_datetimefield_value(timezone.now())
        marks = ", ".join(["%s"] * len(found))
        cursor.execute(
            _sql()["sizes"].format(ids=marks), [Reservation.Status.ACTIVE, expired, *found]
        )
        for product_id, size_id, name, available in cursor.fetchall():
            sizes[product_id].append(
                {"id": size_id, "name": name, "available": max(int(available), 0)}
            )
    favorites: set[int] = set()
    if user is not None and user.is_authenticated:
        favorites = set(
            Favorite.objects.filter(user=user, product_id__in=list(cards)).values_list(
                "product_id", flat=True
            )
        )
    now = timezone.now().timestamp()
    return [
        _compose(cards[pk], names[pk], sizes[pk], pk in favorites, now, absolute)
        for pk in ids
        if pk in cards
    ]


def _total(sizes: list[dict[str, Any]]) -> int:
    total = 0
    for size in sizes:
        total += size["available"]
    return total


def _compose(
    card: dict[str, Any],
    names: tuple[int, str, str | None, str | None],
    sizes: list[dict[str, Any]],
    favorite: bool,
    now: float,
    absolute: Absolute | None,
) -> dict[str, Any]:
    store_id, store, slug, category = names
    from products.selectors import offer_runs, price_with_offer

    window = card.pop("_window", None)
    offer = card["offer"]
    active = window is not None and offer_runs(window[0], window[1], now)
    if offer is not None:
        offer = {**offer, "is_active": active}
    images = card["images"]
    if absolute is not None:
        images = [{**image, "image": absolute(image["image"])} if image["image"] else image
                  for image in images]  # fmt: skip
    values = {
        **card,
        "current_price": price_with_offer(card["price"], offer and offer["price"], active),
        "store": {"id": store_id, "name": store},
        "category": None if slug is None else {"slug": slug, "name": category},
        "sizes": sizes,
        "offer": offer,
        "images": images,
        "availability": _availability(_total(sizes)),
        "is_favorite": favorite,
    }
    return {key: values[key] for key in _fields()}
