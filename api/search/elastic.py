"""Elasticsearch: the product index, fed from the database index (``SearchDocument`` and its
``DocumentFacet`` rows, never the catalogue), kept in step by ``sync`` and rebuilt by
``rebuild`` behind an alias, with a circuit breaker every process shares.

The alias ``<prefix>-products`` points at one concrete index ``<prefix>-products-v<time>``.
A rebuild creates the next one carrying the alias ``<prefix>-products-building`` (the durable
"being built" marker: it is created with the index, in one call), loads every document into
it, and swaps the live alias over in one ``_aliases`` call. ``sync`` writes through the aliases
(``require_alias``: a vanished alias fails the item instead of auto-creating an index), to the
live one and, while it exists, the building one, so a write made during a rebuild reaches the
new index whichever side of the swap it lands on.

Each document is written with ``version_type=external_gte`` and its ``indexed_at`` (in
microseconds) as version: two syncs racing, or a sync and a rebuild, can't put an older state
over a newer one (Elasticsearch answers 409, which counts as done).

A pending row (``ElasticsearchPending``) is deleted only when every write of its document was
acknowledged and the document was not rewritten meanwhile (checked under the index writer's
lock, which the feed holds while it writes). Anything else — Elasticsearch away, a 429, a
failed item — leaves it for the next sync.
"""

import functools
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string
from django_elasticsearch_dsl import Document, fields
from django_elasticsearch_dsl.registries import registry
from elastic_transport import TransportError
from elasticsearch import ApiError, Elasticsearch
from elasticsearch.dsl import analyzer, normalizer, token_filter

from search.models import DocumentFacet, ElasticsearchPending, SearchDocument

logger = logging.getLogger(__name__)

BATCH = 500
# A shopper's search waits at most this long before the database answers instead.
SEARCH_TIMEOUT = 1.0
WRITE_TIMEOUT = 30.0
BREAKER_THRESHOLD = 3
BREAKER_FAILURES_KEY = "search:elasticsearch:failures"
BREAKER_OPEN_KEY = "search:elasticsearch:open-until"
# Facet rows are indexed as "value<US>label<US>parent": one terms aggregation gives all three.
FACET_SEPARATOR = "\u001f"
# Statuses of a bulk item that mean "done": created/updated, a delete of a missing document,
# and a version conflict (Elasticsearch already holds this state or a newer one).
_DONE_ERRORS = {"version_conflict_engine_exception"}

T = TypeVar("T")


class ElasticsearchUnavailable(Exception):
    """Elasticsearch is down, slow, overloaded or the breaker is open: answer from the
    database, keep writes pending."""


class EmptyDocument(Exception):
    """A prepared document lacks its id or name (django-elasticsearch-dsl issue #505 with
    elasticsearch >= 9.4 prepares ``{}``): it must not reach the index."""


# --- settings -----------------------------------------------------------------------------


def prefix() -> str:
    return getattr(settings, "SEARCH_ELASTICSEARCH_PREFIX", "sudamall")


def alias() -> str:
    """The live alias every search reads."""
    return f"{prefix()}-products"


def building_alias() -> str:
    """The alias on an index being rebuilt (at most one)."""
    return f"{prefix()}-products-building"


def cooldown() -> int:
    return int(getattr(settings, "SEARCH_ELASTICSEARCH_COOLDOWN", 30))


# --- the index ----------------------------------------------------------------------------

# The text chain mirrors search.normalize (Lucene's ArabicNormalizer and light ArabicStemmer)
# so the terms query.parse() produces are the terms indexed: queries send them analysed already
# (the built-in whitespace analyzer passes them through), synonyms included, at query time.
_NORMALIZE = ["lowercase", "asciifolding", "decimal_digit", "arabic_normalization"]
arabic_stem = token_filter("sudamall_arabic_stem", type="stemmer", language="arabic")
edge_ngram = token_filter("sudamall_edge_ngram", type="edge_ngram", min_gram=2, max_gram=20)
text_analyzer = analyzer("sudamall_text", tokenizer="standard", filter=[*_NORMALIZE, arabic_stem])
prefix_analyzer = analyzer(
    "sudamall_prefix", tokenizer="standard", filter=[*_NORMALIZE, edge_ngram]
)
sort_normalizer = normalizer(
    "sudamall_sort", filter=["lowercase", "asciifolding", "arabic_normalization"]
)
QUERY_ANALYZER = "whitespace"


def _text(*, prefixed: bool = False, sortable: bool = False) -> Any:
    subfields: dict[str, Any] = {}
    if prefixed:
        # Search-as-you-type: the unstemmed word's leading 2-20 letters are terms, so the word
        # being typed is one term lookup.
        subfields["prefix"] = fields.TextField(
            analyzer=prefix_analyzer, search_analyzer=QUERY_ANALYZER
        )
    if sortable:
        subfields["sort"] = fields.KeywordField(normalizer=sort_normalizer)
    if not subfields:
        return fields.TextField(analyzer=text_analyzer)
    return fields.TextField(analyzer=text_analyzer, fields=subfields)


def _facets(instance: SearchDocument) -> dict[str, list[DocumentFacet]]:
    """The document's facet rows by facet (prefetched by ``documents()``; grouped once)."""
    grouped: dict[str, list[DocumentFacet]] | None = getattr(instance, "_es_facets", None)
    if grouped is None:
        grouped = {}
        for row in instance.facets.all():
            grouped.setdefault(row.facet, []).append(row)
        instance._es_facets = grouped  # type: ignore[attr-defined]
    return grouped


def _values(instance: SearchDocument, facet: str) -> list[str]:
    return [row.value for row in _facets(instance).get(facet, [])]


def _labels(instance: SearchDocument, facet: str) -> list[str]:
    return [row.label for row in _facets(instance).get(facet, [])]


def _pairs(instance: SearchDocument, facet: str) -> list[str]:
    """Facet rows as "value<US>label<US>parent" (the parent slug: categories only)."""
    return [
        FACET_SEPARATOR.join([row.value, row.label, row.parent])
        for row in _facets(instance).get(facet, [])
    ]


def _date(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@registry.register_document
class ProductDocument(Document):
    """A ``SearchDocument`` as Elasticsearch holds it. Weighted text fields match
    ``search.index.WEIGHTS``; keyword fields filter and facet."""

    id = fields.LongField()
    name = _text(prefixed=True, sortable=True)
    description = _text()
    store_name = _text(prefixed=True)
    category_names = _text(prefixed=True)  # the category and every ancestor
    tag_names = _text(prefixed=True)
    store_id = fields.LongField()
    category_slugs = fields.KeywordField()  # ancestors included: a parent's filter finds these
    tag_slugs = fields.KeywordField()
    sizes = fields.KeywordField()  # lowercased
    category_facet = fields.KeywordField(index=False)
    tag_facet = fields.KeywordField(index=False)
    size_facet = fields.KeywordField(index=False)
    store_facet = fields.KeywordField(index=False)
    price = fields.ScaledFloatField(scaling_factor=100)
    offer_price = fields.ScaledFloatField(scaling_factor=100)
    offer_starts_at = fields.DateField()
    offer_ends_at = fields.DateField()
    in_stock = fields.BooleanField()
    created_at = fields.DateField()

    class Index:
        name = f"{prefix()}-products"  # the alias; concrete indices are versioned (rebuild)
        settings = {"number_of_shards": 1}

    class Django:
        model = SearchDocument
        ignore_signals = True  # fed by sync() from the feed, never by model signals
        auto_refresh = False

    def get_queryset(self) -> QuerySet[SearchDocument]:
        return documents()

    def prepare_id(self, instance: SearchDocument) -> int:
        return instance.pk

    def prepare_name(self, instance: SearchDocument) -> str:
        return instance.name

    def prepare_description(self, instance: SearchDocument) -> str:
        return instance.description

    def prepare_store_name(self, instance: SearchDocument) -> str:
        return instance.store_name

    def prepare_category_names(self, instance: SearchDocument) -> list[str]:
        return _labels(instance, DocumentFacet.Facet.CATEGORY)

    def prepare_tag_names(self, instance: SearchDocument) -> list[str]:
        return _labels(instance, DocumentFacet.Facet.TAG)

    def prepare_store_id(self, instance: SearchDocument) -> int:
        return instance.store_id

    def prepare_category_slugs(self, instance: SearchDocument) -> list[str]:
        return _values(instance, DocumentFacet.Facet.CATEGORY)

    def prepare_tag_slugs(self, instance: SearchDocument) -> list[str]:
        return _values(instance, DocumentFacet.Facet.TAG)

    def prepare_sizes(self, instance: SearchDocument) -> list[str]:
        return [value.lower() for value in _values(instance, DocumentFacet.Facet.SIZE)]

    def prepare_category_facet(self, instance: SearchDocument) -> list[str]:
        return _pairs(instance, DocumentFacet.Facet.CATEGORY)

    def prepare_tag_facet(self, instance: SearchDocument) -> list[str]:
        return _pairs(instance, DocumentFacet.Facet.TAG)

    def prepare_size_facet(self, instance: SearchDocument) -> list[str]:
        return _pairs(instance, DocumentFacet.Facet.SIZE)

    def prepare_store_facet(self, instance: SearchDocument) -> list[str]:
        return _pairs(instance, DocumentFacet.Facet.STORE)

    def prepare_price(self, instance: SearchDocument) -> float:
        return float(instance.price)

    def prepare_offer_price(self, instance: SearchDocument) -> float | None:
        return float(instance.offer_price) if instance.offer_price is not None else None

    def prepare_offer_starts_at(self, instance: SearchDocument) -> str | None:
        return _date(instance.offer_starts_at)

    def prepare_offer_ends_at(self, instance: SearchDocument) -> str | None:
        return _date(instance.offer_ends_at)

    def prepare_in_stock(self, instance: SearchDocument) -> bool:
        return instance.in_stock

    def prepare_created_at(self, instance: SearchDocument) -> str | None:
        return _date(instance.created_at)


def index_body() -> dict[str, Any]:
    """Settings and mappings of a new concrete index."""
    body: dict[str, Any] = ProductDocument._index.to_dict()
    return body


def documents() -> QuerySet[SearchDocument]:
    """Documents with their facet rows prefetched, in a stable order (no query per row)."""
    return SearchDocument.objects.prefetch_related(
        Prefetch("facets", queryset=DocumentFacet.objects.order_by("id"))
    ).order_by("pk")


def checked(prepared: Mapping[str, Any], *, document_id: int) -> Mapping[str, Any]:
    """The canary: ``prepared`` unchanged, or EmptyDocument when it lacks its id or name."""
    if prepared.get("id") != document_id or not prepared.get("name"):
        raise EmptyDocument(f"document {document_id} prepared without its id or name")
    return prepared


def _version(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def _write(target: str, document_id: int, version: int, source: Mapping[str, Any] | None) -> list:
    meta = {"_index": target, "_id": str(document_id), "version": version}
    meta["version_type"] = "external_gte"
    if source is None:
        return [{"delete": meta}]
    return [{"index": meta}, source]


def _item_done(item: Mapping[str, Any]) -> bool:
    result = next(iter(item.values()))
    error = result.get("error")
    return error is None or error.get("type") in _DONE_ERRORS


# --- the client and the breaker -----------------------------------------------------------


@functools.cache
def _client(url: str, node_class: str, timeout: float) -> Elasticsearch:
    # A dotted path (tests' fake node) or one of elastic_transport's names ("urllib3", ...).
    nodes: Any = import_string(node_class) if "." in node_class else node_class
    return Elasticsearch(
        url, node_class=nodes, request_timeout=timeout, max_retries=0, retry_on_timeout=False
    )


def client(*, timeout: float = SEARCH_TIMEOUT) -> Elasticsearch:
    """The process's client for ``ELASTICSEARCH_URL``: no retries (the feed retries later, a
    search falls back to the database), ``timeout`` seconds per request."""
    node_class = getattr(settings, "SEARCH_ELASTICSEARCH_NODE_CLASS", "urllib3")
    return _client(settings.ELASTICSEARCH_URL, node_class, timeout)


def healthy() -> bool:
    """False while the breaker is open (for /ready/: "search degraded")."""
    try:
        until = cache.get(BREAKER_OPEN_KEY)
    except Exception:  # the cache is fail-soft; a broken one must not break search
        return True
    return until is None or until <= time.time()


def _record_failure() -> None:
    try:
        cache.add(BREAKER_FAILURES_KEY, 0, timeout=cooldown() * 10)
        failures = cache.incr(BREAKER_FAILURES_KEY)
        if failures >= BREAKER_THRESHOLD:
            cache.set(BREAKER_OPEN_KEY, time.time() + cooldown(), timeout=cooldown())
            logger.warning(
                "elasticsearch breaker open", extra={"failures": failures, "seconds": cooldown()}
            )
    except Exception:
        logger.warning("could not record an elasticsearch failure", exc_info=True)


def _record_success() -> None:
    try:
        cache.delete(BREAKER_FAILURES_KEY)
    except Exception:
        logger.debug("could not reset the elasticsearch breaker", exc_info=True)


def guarded(operation: Callable[[Elasticsearch], T], *, timeout: float = SEARCH_TIMEOUT) -> T:
    """Run ``operation`` unless the breaker is open. Connection errors, timeouts, 429 and 5xx
    count towards opening it and raise ElasticsearchUnavailable; other API errors (a 400)
    are raised as they are."""
    if not healthy():
        raise ElasticsearchUnavailable("circuit open")
    try:
        result = operation(client(timeout=timeout))
    except TransportError as exc:
        _record_failure()
        raise ElasticsearchUnavailable(str(exc)) from exc
    except ApiError as exc:
        if exc.status_code == 429 or exc.status_code >= 500:
            _record_failure()
            raise ElasticsearchUnavailable(f"status {exc.status_code}") from exc
        raise
    _record_success()
    return result


# --- sync ---------------------------------------------------------------------------------


def _targets(es: Elasticsearch) -> list[str]:
    return [name for name in (alias(), building_alias()) if es.indices.exists_alias(name=name)]


def _prepare(batch: Iterable[SearchDocument], *, strict: bool) -> dict[int, Mapping[str, Any]]:
    """Prepared sources by id. A document failing the canary raises (``strict``) or is left
    out, logged, so its pending row stays."""
    document = ProductDocument()
    prepared: dict[int, Mapping[str, Any]] = {}
    for instance in batch:
        try:
            prepared[instance.pk] = checked(document.prepare(instance), document_id=instance.pk)
        except EmptyDocument:
            if strict:
                raise
            logger.error("empty elasticsearch document refused", extra={"document_id": instance.pk})
    return prepared


def bulk_operations(
    ids: Iterable[int],
    *,
    targets: Iterable[str],
    found: Mapping[int, SearchDocument],
    prepared: Mapping[int, Mapping[str, Any]],
    deleted_version: int,
) -> tuple[list, list[int]]:
    """The bulk body for these ids, and the ids it carries (refused documents are left out)."""
    operations: list = []
    carried: list[int] = []
    for pk in ids:
        if pk in found and pk not in prepared:
            continue
        carried.append(pk)
        for target in targets:
            if pk in found:
                version = _version(found[pk].indexed_at)
                operations += _write(target, pk, version, prepared[pk])
            else:
                operations += _write(target, pk, deleted_version, None)
    return operations, carried


def _done_ids(carried: list[int], targets: list[str], response: Mapping[str, Any]) -> list[int]:
    items = response["items"]
    per_document = len(targets)
    done = []
    for position, pk in enumerate(carried):
        mine = items[position * per_document : (position + 1) * per_document]
        if all(_item_done(item) for item in mine):
            done.append(pk)
        else:
            logger.warning(
                "elasticsearch write failed, kept pending",
                extra={"document_id": pk, "items": [next(iter(i.values())) for i in mine]},
            )
    return done


def _clear_pending(sent: Mapping[int, datetime | None]) -> int:
    """Delete the pending rows of ``sent`` documents still in the state that was sent (an
    ``indexed_at``; None for a deletion). Under the writer's lock, so a feed write is either
    seen here or inserts its pending row after."""
    from search.feed import lock_writer  # the feed imports this module lazily too

    if not sent:
        return 0
    with transaction.atomic():
        lock_writer()
        current = dict(
            SearchDocument.objects.filter(pk__in=list(sent)).values_list("pk", "indexed_at")
        )
        done = [pk for pk, state in sent.items() if current.get(pk) == state]
        ElasticsearchPending.objects.filter(document_id__in=done).delete()
    return len(done)


def _send(ids: list[int]) -> int:
    targets = guarded(_targets, timeout=WRITE_TIMEOUT)
    if not targets:
        logger.warning(
            "no elasticsearch index to write to: run manage.py search_rebuild_elasticsearch",
            extra={"alias": alias()},
        )
        return 0
    read_at = timezone.now()
    found = {doc.pk: doc for doc in documents().filter(pk__in=ids)}
    prepared = _prepare(found.values(), strict=False)
    operations, carried = bulk_operations(
        ids, targets=targets, found=found, prepared=prepared, deleted_version=_version(read_at)
    )
    if not carried:
        return 0
    response = guarded(
        lambda es: es.bulk(operations=operations, require_alias=True), timeout=WRITE_TIMEOUT
    )
    done = _done_ids(carried, targets, response.body)
    return _clear_pending({pk: found[pk].indexed_at if pk in found else None for pk in done})


def _pending_batches(batch: int) -> Iterator[list[int]]:
    after = 0
    while True:
        ids = list(
            ElasticsearchPending.objects.filter(document_id__gt=after)
            .order_by("document_id")
            .values_list("document_id", flat=True)[:batch]
        )
        if not ids:
            return
        after = ids[-1]
        yield ids


def sync(*, batch: int = BATCH) -> int:
    """Send pending documents to Elasticsearch (index those still in the database index,
    delete the others). Returns how many pending rows were cleared. Never raises because
    Elasticsearch is away: what wasn't acknowledged stays pending."""
    if not settings.ELASTICSEARCH_URL:
        return 0
    cleared = 0
    for ids in _pending_batches(batch):
        try:
            cleared += _send(ids)
        except (ElasticsearchUnavailable, ApiError) as exc:
            logger.warning(
                "elasticsearch sync stopped, documents kept pending", extra={"error": str(exc)}
            )
            break
    return cleared


# --- rebuild ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rebuilt:
    index: str
    documents: int


def _indices_of(es: Elasticsearch, name: str) -> list[str]:
    if not es.indices.exists_alias(name=name):
        return []
    return sorted(es.indices.get_alias(name=name).body)


def _load(es: Elasticsearch, index: str, batch: int) -> int:
    """Bulk-load every document into ``index``. A document whose write failed is made pending
    (the flush after the load retries it through the building alias)."""
    loaded = 0
    after = 0
    while True:
        found = {doc.pk: doc for doc in documents().filter(pk__gt=after)[:batch]}
        if not found:
            return loaded
        after = max(found)
        prepared = _prepare(found.values(), strict=True)
        operations, carried = bulk_operations(
            found, targets=[index], found=found, prepared=prepared, deleted_version=0
        )
        response = es.bulk(operations=operations)
        done = set(_done_ids(carried, [index], response.body))
        loaded += len(done)
        failed = [pk for pk in carried if pk not in done]
        ElasticsearchPending.objects.bulk_create(
            [ElasticsearchPending(document_id=pk) for pk in failed], ignore_conflicts=True
        )


def rebuild(*, batch: int = BATCH) -> Rebuilt:
    """Build a new index from the database index and swap the live alias to it; the old index
    is dropped. Raises EmptyDocument (and drops the new index) if documents prepare empty."""
    es = client(timeout=WRITE_TIMEOUT)
    live, building = alias(), building_alias()
    for stale in _indices_of(es, building):
        logger.warning("dropping an unfinished elasticsearch rebuild", extra={"index": stale})
        es.indices.delete(index=stale)
    name = f"{live}-v{timezone.now():%Y%m%d%H%M%S%f}"
    body = index_body()
    es.indices.create(index=name, aliases={building: {}}, **body)
    logger.info("elasticsearch rebuild started", extra={"index": name})
    try:
        loaded = _load(es, name, batch)
        sync(batch=batch)  # what the feed wrote meanwhile, to the live and the building index
        es.indices.refresh(index=name)
        old = _indices_of(es, live)
        actions: list[Mapping[str, Any]] = [
            *({"remove": {"index": index, "alias": live}} for index in old),
            {"add": {"index": name, "alias": live}},
            {"remove": {"index": name, "alias": building}},
        ]
        es.indices.update_aliases(actions=actions)
    except BaseException:
        es.indices.delete(index=name, ignore_unavailable=True)
        raise
    for index in old:
        es.indices.delete(index=index)
    logger.info(
        "elasticsearch rebuild done", extra={"index": name, "documents": loaded, "dropped": old}
    )
    return Rebuilt(index=name, documents=loaded)
