"""Elasticsearch over the fake node (``fake_es``): the real client and django-elasticsearch-dsl
talk HTTP-shaped bytes to an in-memory Elasticsearch 9. What goes over the wire is pinned by
golden files (``golden/``; regenerate with ``UPDATE_GOLDEN=1`` and review the diff), what comes
back is checked against the database backend on the same index rows.

Documents are written straight into the database index (``search.index.write``), as the feed
would write them, so these tests need no catalogue."""

import json
import os
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from search import elastic, index
from search.backends.database import DatabaseSearchBackend
from search.backends.elasticsearch import ElasticsearchSearchBackend
from search.models import (
    ElasticsearchPending,
    IndexWriter,
    PopularQuery,
    SearchDocument,
    SynonymGroup,
)
from search.query import Filters, SearchRequest
from search.tests import fake_es
from search.tests.catalogue import ARABIC_PAIRS, DISTRACTORS, LATIN_TYPOS
from search.tests.fake_es import FakeCluster

pytestmark = pytest.mark.django_db

GOLDEN = Path(__file__).parent / "golden"
LIVE, BUILDING = "sudamall-products", "sudamall-products-building"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def backend() -> ElasticsearchSearchBackend:
    return ElasticsearchSearchBackend()


def doc(
    pk: int,
    name: str,
    *,
    description: str = "",
    store: tuple[int, str] = (1, "Souq Omdurman"),
    categories: tuple[tuple[str, str], ...] = (),
    tags: tuple[tuple[str, str], ...] = (),
    sizes: tuple[str, ...] = (),
    price: str = "100.00",
    offer: tuple[str, datetime, datetime] | None = None,
    in_stock: bool = True,
) -> dict[str, Any]:
    """A document as a source hands it to the feed (``search.sources``)."""
    offer_price, starts, ends = offer if offer else (None, None, None)
    return {
        "id": pk, "name": name, "description": description, "store_id": store[0],
        "store_name": store[1], "categories": list(categories), "tags": list(tags),
        "sizes": list(sizes), "price": Decimal(price),
        "offer_price": Decimal(offer_price) if offer_price else None,
        "offer_starts_at": starts, "offer_ends_at": ends, "in_stock": in_stock,
        "created_at": T0 - timedelta(days=30) + timedelta(hours=pk), "stamp": f"s{pk}",
    }  # fmt: skip


def put(*docs: dict[str, Any]) -> None:
    """What the feed's drain does for these documents: the database index, then pending."""
    index.write(list(docs))
    mark_pending(*(d["id"] for d in docs))


def mark_pending(*ids: int) -> None:
    ElasticsearchPending.objects.bulk_create(
        [ElasticsearchPending(document_id=pk) for pk in ids], ignore_conflicts=True
    )


def pending() -> set[int]:
    return set(ElasticsearchPending.objects.values_list("document_id", flat=True))


def assert_golden(name: str, data: Any) -> None:
    path = GOLDEN / name
    actual = json.loads(json.dumps(data))
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(actual, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    assert actual == json.loads(path.read_text()), f"{name} differs from the golden file"


SHOES = (("fashion", "Fashion"), ("shoes", "Shoes"))
BAGS = (("fashion", "Fashion"), ("bags", "Bags"))


def small_catalogue() -> None:
    on = ("40.00", T0 - timedelta(days=1), T0 + timedelta(days=1))
    over = ("10.00", T0 - timedelta(days=9), T0 - timedelta(days=2))
    put(
        doc(1, "Leather sandals", categories=SHOES, sizes=("42", "43"), price="120.00", offer=on),
        doc(2, "Canvas sneakers", categories=SHOES, sizes=("42",), price="60.00",
            store=(2, "Khartoum Shoes")),
        doc(3, "Leather handbag", categories=BAGS, price="300.00", tags=(("gift", "Gift"),)),
        doc(4, "Beach sandals", categories=SHOES, sizes=("43",), price="30.00", in_stock=False,
            offer=over, store=(2, "Khartoum Shoes")),
        doc(5, "Travel bag", categories=BAGS, description="fits leather sandals", price="75.00"),
    )  # fmt: skip


# --- the wire -----------------------------------------------------------------------------


def test_index_creation_sends_the_golden_settings_and_mappings(es: FakeCluster) -> None:
    rebuilt = elastic.rebuild()

    (create,) = es.requests_to("/sudamall-products-v", method="PUT")
    assert create.path == f"/{rebuilt.index}"
    assert_golden("create_index.json", create.body)
    assert create.body["aliases"] == {BUILDING: {}}  # the rebuild marker, born with the index


def test_a_typical_search_sends_the_golden_body(es: FakeCluster, backend) -> None:
    elastic.rebuild()
    request = SearchRequest(
        text="leather sandls",
        filters=Filters(category="shoes", size="XL", min_price=Decimal("10"), in_stock=True),
        offset=20,
        limit=10,
    )

    backend.search(request)

    (sent,) = es.requests_to("/_search")
    assert sent.path == f"/{LIVE}/_search"
    assert_golden("search_body.json", sent.body)


def test_sync_sends_the_golden_bulk_body(es: FakeCluster) -> None:
    elastic.rebuild()
    with time_machine.travel(T0, tick=False):
        small_catalogue()
        mark_pending(99)  # a document gone from the database index: deleted from Elasticsearch
        es.requests.clear()

        elastic.sync()

    (bulk,) = es.requests_to("/_bulk")
    assert bulk.params == {"require_alias": "true"}
    assert_golden("bulk_body.json", bulk.body)
    assert pending() == set()


def test_a_rebuild_swaps_the_alias_in_one_golden_call_and_drops_the_old_index(
    es: FakeCluster,
) -> None:
    with time_machine.travel(T0, tick=False):
        first = elastic.rebuild()
    small_catalogue()
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        second = elastic.rebuild()

    (swap,) = es.requests_to("/_aliases")[1:]
    assert_golden("alias_swap.json", swap.body)
    assert (first.index, second.index) == (
        "sudamall-products-v20260301120000000000",
        "sudamall-products-v20260301130000000000",
    )
    assert set(es.indices) == {second.index}
    assert es.aliases == {LIVE: {second.index}}
    assert (second.documents, es.ids(LIVE)) == (5, {1, 2, 3, 4, 5})


# --- what shoppers find -------------------------------------------------------------------


def _names(backend: ElasticsearchSearchBackend, text: str, **kwargs: Any) -> list[str]:
    result = backend.search(SearchRequest(text=text, **kwargs))
    assert result.backend == "elasticsearch"
    by_id = dict(SearchDocument.objects.filter(pk__in=result.ids).values_list("pk", "name"))
    return [by_id[pk] for pk in result.ids]


def test_arabic_spellings_and_latin_typos_find_their_product_in_the_top_three(
    es: FakeCluster, backend
) -> None:
    wanted = sorted({name for _, name in ARABIC_PAIRS + LATIN_TYPOS}) + DISTRACTORS
    put(*(doc(pk, name) for pk, name in enumerate(wanted, 1)))
    elastic.rebuild()

    misses = [
        (typed, name, found)
        for typed, name in ARABIC_PAIRS + LATIN_TYPOS
        if name not in (found := _names(backend, typed)[:3])
    ]

    assert misses == []


def test_words_of_three_letters_or_fewer_are_never_fuzzed(es: FakeCluster, backend) -> None:
    put(doc(1, "Red hat"), doc(2, "Blue cup"))
    elastic.rebuild()

    assert _names(backend, "hot ") == []
    assert _names(backend, "hat ") == ["Red hat"]
    assert "fuzziness" not in json.dumps(es.requests_to("/_search")[0].body)


def test_every_word_must_match_and_a_name_outranks_a_description(es: FakeCluster, backend) -> None:
    small_catalogue()
    elastic.rebuild()

    assert _names(backend, "leather sandals ") == ["Leather sandals", "Travel bag"]
    assert _names(backend, "leather sneakers ") == []


def test_synonyms_apply_at_query_time_without_reindexing(es: FakeCluster, backend) -> None:
    put(doc(1, "هاتف ذكي"), doc(2, "شاحن سيارة"))
    elastic.rebuild()
    assert _names(backend, "جوال") == []
    indexed = len(es.requests_to("/_bulk"))

    SynonymGroup.objects.create(words="جوال, موبايل, هاتف")
    from django.core.cache import cache

    cache.clear()  # what the admin does on save

    assert _names(backend, "جوال") == ["هاتف ذكي"]
    assert len(es.requests_to("/_bulk")) == indexed


@pytest.mark.parametrize(
    "request_",
    [
        SearchRequest(text="leather"),
        SearchRequest(text="", filters=Filters(category="shoes", size="42")),
        SearchRequest(text="sandals", filters=Filters(store=2, has_offer=False)),
        SearchRequest(text="", filters=Filters(min_price=Decimal("35"), max_price=Decimal("100"))),
        SearchRequest(text="", filters=Filters(category="fashion", in_stock=True, tag="gift")),
        SearchRequest(text="", ordering="price"),
        SearchRequest(text="", ordering="-price"),
        SearchRequest(text="", ordering="name"),
        SearchRequest(text="", ordering="-created_at", offset=1, limit=2),
        SearchRequest(text="", ordering="created_at"),
    ],
    ids=lambda r: f"{r.text or '-'}/{r.filters}/{r.ordering}",
)
def test_results_and_facets_equal_the_database_backends(es: FakeCluster, backend, request_) -> None:
    small_catalogue()
    elastic.rebuild()

    with time_machine.travel(T0, tick=False):
        found = backend.search(request_)
        expected = DatabaseSearchBackend().search(request_)

    assert found.backend == "elasticsearch"
    assert (found.ids, found.count) == (expected.ids, expected.count)
    assert found.facets == expected.facets


def test_facet_counts_are_disjunctive(es: FakeCluster, backend) -> None:
    small_catalogue()
    elastic.rebuild()
    filters = Filters(store=2, in_stock=True, max_price=Decimal("50"))

    with time_machine.travel(T0, tick=False):
        result = backend.search(SearchRequest(text="", filters=filters))

    assert (result.ids, result.count) == ([], 0)
    facets = result.facets
    assert facets is not None
    # Each facet drops its own filter only. Stores, among in-stock products at 50 or less now:
    # the sandals (120, on offer at 40).
    assert [(f["value"], f["count"]) for f in facets["store"]] == [("1", 1)]
    # In stock or not, among store 2's at 50 or less: the beach sandals (30), out of stock.
    assert facets["in_stock"] == {"true": 0, "false": 1}
    # Prices, among store 2's in stock: the sneakers at 60.
    assert [p["count"] for p in facets["price"]] == [0, 1, 0, 0, 0, 0, 0]
    assert facets["price"][1] == {"from": "50.00", "to": "100.00", "count": 1}
    # Categories and offers keep every filter: nothing matches them all.
    assert (facets["category"], facets["has_offer"]) == ([], {"true": 0, "false": 0})


def test_suggestions_offer_queries_categories_stores_and_products(es: FakeCluster, backend) -> None:
    put(
        doc(1, "Leather sandals", categories=(("sandals", "Sandals"),), store=(7, "Sandy's shoes")),
        doc(2, "Samsung Galaxy S24"),
    )
    PopularQuery.objects.create(text="sandals for men", searches=12)
    elastic.rebuild()

    found = backend.suggest("sand", size=10)

    assert [(s.kind, s.text, s.id) for s in found] == [
        ("query", "sandals for men", None),
        ("category", "Sandals", "sandals"),
        ("store", "Sandy's shoes", "7"),
        ("product", "Leather sandals", "1"),
    ]
    assert [s.text for s in backend.suggest("galaxi", size=10)] == ["Samsung Galaxy S24"]
    assert backend.suggest("  ", size=10) == []


# --- failure ------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["connection", "timeout", 503, 429])
def test_elasticsearch_down_answers_from_the_database_and_opens_the_breaker(
    es: FakeCluster, backend, fault
) -> None:
    small_catalogue()
    elastic.rebuild()
    es.fail(fault, times=None)
    request = SearchRequest(text="leather sandals ")
    expected = DatabaseSearchBackend().search(request)

    answers = [backend.search(request) for _ in range(5)]

    assert [a.backend for a in answers] == ["database"] * 5
    assert answers[0].ids == expected.ids == [1, 5]
    assert len(es.requests_to("/_search")) == 3  # then the breaker is open: no more requests
    assert elastic.healthy() is False
    suggested = backend.suggest("leath", size=5)
    assert suggested == DatabaseSearchBackend().suggest("leath", size=5)
    assert suggested
    assert len(es.requests_to("/_search")) == 3

    es.heal()
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=31)):
        assert elastic.healthy() is True
        assert backend.search(request).backend == "elasticsearch"  # half-open: it tries again


def test_a_failure_after_the_cooldown_reopens_the_breaker_at_once(es: FakeCluster, backend) -> None:
    elastic.rebuild()
    es.fail("connection", times=None)
    for _ in range(3):
        backend.search(SearchRequest(text="x"))
    assert elastic.healthy() is False

    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=31)):
        backend.search(SearchRequest(text="x"))
        assert elastic.healthy() is False
    assert len(es.requests_to("/_search")) == 4


def test_a_partial_bulk_failure_leaves_exactly_the_failed_document_pending(es: FakeCluster) -> None:
    elastic.rebuild()
    small_catalogue()
    es.fail_items({3: 500})

    cleared = elastic.sync()

    assert (cleared, pending()) == (4, {3})
    assert es.ids(LIVE) == {1, 2, 4, 5}

    es.heal()
    elastic.sync()
    assert (pending(), es.ids(LIVE)) == (set(), {1, 2, 3, 4, 5})


@pytest.mark.parametrize("how", ["whole bulk", "every item"])
def test_a_429_leaves_everything_pending(es: FakeCluster, how) -> None:
    elastic.rebuild()
    small_catalogue()
    if how == "whole bulk":
        es.fail(429, match="/_bulk")
    else:
        es.fail_items({pk: 429 for pk in range(1, 6)})

    assert elastic.sync() == 0

    assert pending() == {1, 2, 3, 4, 5}
    assert es.ids(LIVE) == set()


def test_sync_without_an_index_keeps_documents_pending_and_creates_none(es: FakeCluster) -> None:
    small_catalogue()

    assert elastic.sync() == 0

    assert pending() == {1, 2, 3, 4, 5}
    assert es.indices == {}


def test_a_document_rewritten_while_it_was_being_sent_stays_pending(es: FakeCluster) -> None:
    elastic.rebuild()
    put(doc(1, "Leather sandals"))

    def rewrite(cluster: FakeCluster, request: fake_es.Request) -> None:
        put(doc(1, "Leather sandals, brown"))  # the feed, between the read and the bulk

    es.on("/_bulk", rewrite)
    elastic.sync()

    assert pending() == {1}
    elastic.sync()
    assert pending() == set()
    assert es.source(LIVE, 1)["name"] == "Leather sandals, brown"


def test_sync_makes_the_same_number_of_queries_for_5_documents_as_for_60(es: FakeCluster) -> None:
    elastic.rebuild()
    IndexWriter.objects.get_or_create(pk=1)  # once per database, not per sync
    counts = []
    for ids in (range(1, 6), range(6, 66)):
        put(*(doc(pk, f"Item {pk}", categories=SHOES, tags=(("gift", "Gift"),)) for pk in ids))
        with CaptureQueriesContext(connection) as queries:
            assert elastic.sync() == len(ids)
        counts.append(len(queries))

    assert counts[0] == counts[1]


# --- rebuild ------------------------------------------------------------------------------


def test_writes_during_a_rebuild_reach_the_new_index(es: FakeCluster) -> None:
    """Between "create the new index" and "swap", the feed changes documents: an update, a
    deletion and a new product while the load is under way, and another update just before
    the swap. All of them are in the new index afterwards, and nothing is left pending."""
    small_catalogue()
    first = elastic.rebuild()

    def during_load(cluster: FakeCluster, request: fake_es.Request) -> None:
        assert BUILDING in cluster.aliases  # the load's first bulk: the new index exists
        put(doc(1, "Leather sandals, now brown", categories=SHOES))
        index.remove([2])
        mark_pending(2)
        put(doc(6, "Straw hat"))
        elastic.sync()

    def before_swap(cluster: FakeCluster, request: fake_es.Request) -> None:
        put(doc(3, "Leather handbag, on sale", categories=BAGS))
        elastic.sync()

    es.on("/_bulk", during_load)
    es.on("POST /_aliases", before_swap)
    second = elastic.rebuild()

    assert es.aliases == {LIVE: {second.index}}
    assert first.index not in es.indices
    assert es.ids(LIVE) == {1, 3, 4, 5, 6}
    assert es.source(LIVE, 1)["name"] == "Leather sandals, now brown"
    assert es.source(LIVE, 3)["name"] == "Leather handbag, on sale"
    assert pending() == set()


@pytest.mark.django_db(transaction=True)
def test_writes_from_another_thread_during_a_rebuild_are_not_lost(es: FakeCluster) -> None:
    small_catalogue()
    elastic.rebuild()
    done = threading.Event()

    def writer(cluster: FakeCluster, request: fake_es.Request) -> None:
        def work() -> None:
            put(doc(7, "Wool scarf"))
            elastic.sync()
            done.set()

        thread = threading.Thread(target=work)
        thread.start()
        thread.join()

    es.on("/_bulk", writer)
    rebuilt = elastic.rebuild()

    assert done.is_set()
    assert es.aliases[LIVE] == {rebuilt.index}
    assert 7 in es.ids(LIVE)


def test_the_rebuild_command_prints_the_new_index_and_its_count(es: FakeCluster, capsys) -> None:
    small_catalogue()

    call_command("search_rebuild_elasticsearch")

    out = capsys.readouterr().out
    (name,) = es.aliases[LIVE]
    assert f"{name}: 5 documents" in out


# --- the empty-document canary (django-elasticsearch-dsl issue #505) ----------------------


def test_a_prepared_document_carries_every_field(es: FakeCluster) -> None:
    with time_machine.travel(T0, tick=False):
        small_catalogue()
    instance = elastic.documents().get(pk=1)

    prepared = elastic.ProductDocument().prepare(instance)

    assert prepared == {
        "id": 1,
        "name": "Leather sandals",
        "description": "",
        "store_name": "Souq Omdurman",
        "category_names": ["Fashion", "Shoes"],
        "tag_names": [],
        "store_id": 1,
        "category_slugs": ["fashion", "shoes"],
        "tag_slugs": [],
        "sizes": ["42", "43"],
        "category_facet": ["fashion\x1fFashion\x1f", "shoes\x1fShoes\x1ffashion"],
        "tag_facet": [],
        "size_facet": ["42\x1f42\x1f", "43\x1f43\x1f"],
        "store_facet": ["1\x1fSouq Omdurman\x1f"],
        "price": 120.0,
        "offer_price": 40.0,
        "offer_starts_at": "2026-02-28T12:00:00+00:00",
        "offer_ends_at": "2026-03-02T12:00:00+00:00",
        "in_stock": True,
        "created_at": "2026-01-30T13:00:00+00:00",
    }
    assert set(prepared) == set(elastic.index_body()["mappings"]["properties"])


def test_an_empty_prepared_document_is_refused_and_stays_pending(
    es: FakeCluster, monkeypatch
) -> None:
    elastic.rebuild()
    small_catalogue()
    with pytest.raises(elastic.EmptyDocument):
        elastic.checked({}, document_id=1)
    monkeypatch.setattr(elastic.ProductDocument, "prepare", lambda self, instance: {})

    elastic.sync()

    assert pending() == {1, 2, 3, 4, 5}
    assert es.ids(LIVE) == set()
    with pytest.raises(elastic.EmptyDocument):
        elastic.rebuild()
    assert set(es.indices) == set(es.aliases[LIVE])  # the half-built index was dropped
