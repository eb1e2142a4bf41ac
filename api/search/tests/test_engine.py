"""The database backend over the index the feed keeps: what a shopper typing Arabic or English
finds, in which order, with which facet counts. The same suite runs on MariaDB in CI."""

import random
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from products.models import Category, Product
from products.services import catalog, stock
from products.tests.factories import make_category
from search import services
from search.backends.database import DatabaseSearchBackend, edit_distance
from search.models import IndexChange, SearchDocument, SynonymGroup
from search.query import Filters, SearchRequest
from search.tests.catalogue import (
    ARABIC_PAIRS,
    DISTRACTORS,
    LATIN_TYPOS,
    drain,
    product,
)
from stores.services import delete_store
from stores.tests.factories import StoreFactory

pytestmark = pytest.mark.django_db

backend = DatabaseSearchBackend()


def names(text: str, **kwargs) -> list[str]:
    result = backend.search(SearchRequest(text=text, **kwargs))
    by_id = dict(Product.objects.filter(pk__in=result.ids).values_list("pk", "name"))
    return [by_id[pk] for pk in result.ids]


def test_arabic_spellings_and_latin_typos_find_their_product_in_the_top_three():
    wanted = {name for _, name in ARABIC_PAIRS + LATIN_TYPOS}
    for name in sorted(wanted) + DISTRACTORS:
        product(name=name, description="")
    drain()

    misses = [
        (typed, name, found)
        for typed, name in ARABIC_PAIRS + LATIN_TYPOS
        if name not in (found := names(typed)[:3])
    ]

    assert len(ARABIC_PAIRS) >= 30
    assert misses == []


def test_words_of_three_letters_or_fewer_are_never_fuzzed():
    product(name="Blue cup")
    product(name="Red hat")
    product(name="فول مصري")
    drain()

    assert names("cap ") == []  # one edit from "cup", but three letters
    assert names("bat ") == []
    assert names("قول ") == []
    assert names("cup") == ["Blue cup"]


def test_the_fuzzy_pass_runs_only_when_the_exact_one_finds_too_little():
    for n in range(4):
        product(name=f"Sandals model {n}")
    product(name="Sandels with a typo in the catalogue")
    drain()

    found = names("sandals ")

    assert len(found) == 4
    assert all(n.startswith("Sandals model") for n in found)


def test_every_word_must_match():
    product(name="Leather sandals")
    product(name="Leather wallet")
    drain()

    assert names("leather sandals") == ["Leather sandals"]
    assert sorted(names("leather")) == ["Leather sandals", "Leather wallet"]


def test_user_input_that_looks_like_syntax_is_just_words():
    product(name="C++ primer")
    product(name="a-b cable")
    drain()

    assert names("C++") == ["C++ primer"]
    assert names("a-b") == ["a-b cable"]
    for odd in ['"', "*", "(", "AND OR NOT", "'; DROP TABLE", "%_", "\\", "\x00", "‮"]:
        backend.search(SearchRequest(text=odd))  # no error


def test_a_name_match_outranks_a_description_match():
    described = product(name="Gift box", description="Holds a leather wallet")
    named = product(name="Leather wallet")
    drain()

    assert backend.search(SearchRequest(text="wallet")).ids == [named.pk, described.pk]


def test_in_stock_comes_first_among_equals_and_ids_break_ties():
    sold_out = product(name="Cotton jalabiya", stock=0)
    first = product(name="Cotton jalabiya")
    second = product(name="Cotton jalabiya")
    drain()

    result = backend.search(SearchRequest(text="jalabiya"))
    page_one = backend.search(SearchRequest(text="jalabiya", limit=2))
    page_two = backend.search(SearchRequest(text="jalabiya", offset=2, limit=2))

    assert result.ids == [first.pk, second.pk, sold_out.pk]
    assert page_one.ids + page_two.ids == result.ids


def test_orderings_other_than_relevance():
    now = timezone.now()
    cheap = product(name="Tea glass", price=Decimal("30"))
    dear = product(
        name="Tea glass set",
        price=Decimal("500"),
        offer={
            "price": Decimal("20"),
            "starts_at": now,
            "ends_at": now + timezone.timedelta(days=1),
        },
    )
    drain()

    assert backend.search(SearchRequest(text="tea", ordering="price")).ids == [dear.pk, cheap.pk]
    assert backend.search(SearchRequest(text="tea", ordering="-created_at")).ids == [
        dear.pk,
        cheap.pk,
    ]
    assert backend.search(SearchRequest(text="tea", ordering="name")).ids == [cheap.pk, dear.pk]


def test_synonyms_apply_from_the_next_query_without_reindexing():
    phone = product(name="جوال سامسونج")
    drain()
    assert names("موبايل") == []

    with transaction.atomic():
        services.save_synonyms(group=SynonymGroup(words="جوال, موبايل ,هاتف"))
    from django.core.cache import cache

    cache.delete("search:synonyms")  # on_commit does this after a real commit

    assert backend.search(SearchRequest(text="موبايل")).ids == [phone.pk]
    assert backend.search(SearchRequest(text="الهاتف")).ids == [phone.pk]


def test_edit_distance():
    assert edit_distance("samsng", "samsung", 1) == 1
    assert edit_distance("galaxi", "galaxy", 1) == 1
    assert edit_distance("abcdef", "uvwxyz", 2) == 3  # capped past the limit


# --- the feed ------------------------------------------------------------------------------------


def test_a_rolled_back_change_indexes_nothing():
    def failing_request() -> None:
        with transaction.atomic():
            product(name="Ghost lamp")
            raise RuntimeError("the request failed after saving")

    with pytest.raises(RuntimeError):
        failing_request()
    drain()

    assert IndexChange.objects.count() == 0
    assert names("ghost") == []


def test_edits_deletes_and_stock_reach_the_index():
    lamp = product(name="Brass lamp")
    drain()
    owner = lamp.store.owner

    catalog.update_product(product=lamp, user=owner, data={"name": "Copper lantern"})
    drain()
    assert names("lamp") == []
    assert names("lantern") == ["Copper lantern"]

    size = lamp.sizes.get()
    stock.set_stock(size=size, on_hand=0, actor=owner)
    drain()
    assert backend.search(SearchRequest(text="lantern", filters=Filters(in_stock=False))).ids == [
        lamp.pk
    ]

    catalog.delete_product(product=lamp, user=owner)
    drain()
    assert names("lantern") == []
    assert not SearchDocument.objects.filter(pk=lamp.pk).exists()


def test_a_closed_store_takes_its_products_out_of_search():
    store = StoreFactory()
    product(store=store, name="Karkade 500 g")
    product(store=store, name="Karkade 1 kg")
    other = product(name="Karkade 250 g")
    drain()

    delete_store(store=store, user=store.owner)
    drain()

    assert backend.search(SearchRequest(text="karkade")).ids == [other.pk]


def test_a_renamed_category_is_searchable_by_its_new_name():
    shoes = make_category("Shoes")
    boots = make_category("Boots", parent=shoes)
    item = product(name="Desert boot", category=boots.slug)
    drain()

    shoes.name = "Footwear"
    catalog.update_category(category=shoes, parent=None)
    drain()

    assert backend.search(SearchRequest(text="footwear")).ids == [item.pk]


def test_the_reconciler_repairs_what_was_changed_behind_the_feed():
    kept = product(name="Ebony comb")
    hidden = product(name="Ivory comb")
    drain()
    SearchDocument.objects.filter(pk=kept.pk).delete()  # lost behind its back
    Product.objects.filter(pk=hidden.pk).update(deleted_at=timezone.now())  # no feed row
    from search import feed

    repaired = feed.reconcile()

    assert repaired == {"rewritten": 1, "removed": 1}
    assert backend.search(SearchRequest(text="comb")).ids == [kept.pk]
    assert feed.reconcile() == {"rewritten": 0, "removed": 0}


# --- facets --------------------------------------------------------------------------------------


def _random_catalogue(rng: random.Random) -> list[Product]:
    clothes = make_category("Clothes")
    men = make_category("Men", parent=clothes)
    women = make_category("Women", parent=clothes)
    food = make_category("Food")
    leaves = [men, women, food, clothes]
    stores = [StoreFactory() for _ in range(3)]
    now = timezone.now()
    made = []
    for n in range(40):
        price = Decimal(rng.choice([20, 45, 60, 99, 120, 300, 750, 2000, 6000]))
        data: dict = {
            "name": f"{rng.choice(['Cotton', 'Silk', 'Wool'])} item {n}",
            "price": price,
            "category": rng.choice(leaves).slug if rng.random() < 0.9 else None,
            "tags": rng.sample(["eid", "local", "sale", "new"], rng.randrange(0, 3)),
        }
        if rng.random() < 0.5:
            data["sizes"] = [
                {"name": s, "stock": rng.choice([0, 3])} for s in rng.sample(["S", "M", "L"], 2)
            ]
        else:
            data["stock"] = rng.choice([0, 5])
        if rng.random() < 0.3:
            data["offer"] = {
                "price": (price / 2).quantize(Decimal("1")),
                "starts_at": now - timezone.timedelta(hours=1),
                "ends_at": now + timezone.timedelta(days=1),
            }
        made.append(product(store=rng.choice(stores), **data))
    drain()
    return made


def _truth(products: list[Product], filters: Filters, text_ids: set[int]) -> dict:
    """Facet counts computed plainly from the catalogue, each without its own filter."""
    now = timezone.now()
    rows = []
    for p in (
        Product.objects.filter(pk__in=text_ids)
        .select_related("category")
        .prefetch_related("tags", "sizes")
    ):
        live = [s for s in p.sizes.all() if s.deleted_at is None]
        offer = p.offer_price is not None and p.offer_starts_at <= now < p.offer_ends_at
        ancestors = []
        if p.category is not None:
            ids = [int(i) for i in p.category.path.strip("/").split("/")]
            ancestors = list(Category.objects.filter(pk__in=ids).values_list("slug", flat=True))
        rows.append(
            {
                "category": set(ancestors),
                "tag": {t.slug for t in p.tags.all()},
                "size": {s.name.casefold() for s in live if s.name},
                "store": {str(p.store_id)},
                "price": p.offer_price if offer else p.price,
                "in_stock": any(s.on_hand - s.reserved > 0 for s in live),
                "has_offer": offer,
            }
        )

    def keep(row: dict, skip: str) -> bool:
        checks = {
            "category": filters.category is None or filters.category in row["category"],
            "tag": filters.tag is None or filters.tag in row["tag"],
            "size": filters.size is None or filters.size.casefold() in row["size"],
            "store": filters.store is None or str(filters.store) in row["store"],
            "price": (filters.min_price is None or row["price"] >= filters.min_price)
            and (filters.max_price is None or row["price"] <= filters.max_price),
            "in_stock": filters.in_stock is None or row["in_stock"] == filters.in_stock,
            "has_offer": filters.has_offer is None or row["has_offer"] == filters.has_offer,
        }
        return all(ok for name, ok in checks.items() if name != skip)

    truth: dict = {}
    for facet in ("category", "tag", "size", "store"):
        counts: dict[str, int] = {}
        for row in rows:
            if keep(row, facet):
                for value in row[facet]:
                    counts[value] = counts.get(value, 0) + 1
        truth[facet] = counts
    edges = [Decimal(e) for e in ["0", "50", "100", "250", "500", "1000", "5000"]]
    truth["price"] = [
        sum(
            1
            for row in rows
            if keep(row, "price") and low <= row["price"] and (high is None or row["price"] < high)
        )
        for low, high in zip(edges, [*edges[1:], None], strict=True)
    ]
    for flag in ("in_stock", "has_offer"):
        truth[flag] = {
            "true": sum(1 for r in rows if keep(r, flag) and r[flag]),
            "false": sum(1 for r in rows if keep(r, flag) and not r[flag]),
        }
    return truth


def _as_truth(facets: dict) -> dict:
    shaped = {
        f: {i["value"]: i["count"] for i in facets[f]} for f in ("category", "tag", "size", "store")
    }
    shaped["price"] = [b["count"] for b in facets["price"]]
    shaped["in_stock"] = facets["in_stock"]
    shaped["has_offer"] = facets["has_offer"]
    return shaped


@pytest.mark.parametrize(
    "filters",
    [
        Filters(),
        Filters(category="clothes"),
        Filters(category="men", size="s"),
        Filters(tag="eid", in_stock=True),
        Filters(min_price=Decimal("50"), max_price=Decimal("500"), has_offer=False),
        Filters(category="women", tag="sale", size="M", in_stock=False, has_offer=True),
    ],
    ids=["none", "category+store", "category+size", "tag+stock", "price+offer", "everything"],
)
def test_facet_counts_equal_ground_truth(filters):
    made = _random_catalogue(random.Random(7))
    if filters.store is None and filters.category == "clothes":
        filters = Filters(category="clothes", store=made[0].store_id)
    everything = {p.pk for p in made}
    silk = set(
        Product.objects.filter(pk__in=everything, name__startswith="Silk").values_list(
            "pk", flat=True
        )
    )

    for text, ids in (("", everything), ("silk", silk)):
        result = backend.search(SearchRequest(text=text, filters=filters))
        assert result.facets is not None
        truth = _truth(made, filters, ids)
        truth = {
            k: (
                {v: c for v, c in t.items() if c}
                if isinstance(t, dict) and k in ("category", "tag", "size", "store")
                else t
            )
            for k, t in truth.items()
        }
        assert _as_truth(result.facets) == truth, text


def test_a_facets_own_filter_leaves_its_counts_unchanged():
    _random_catalogue(random.Random(11))
    unfiltered = backend.search(SearchRequest()).facets
    assert unfiltered is not None
    for name, value in (
        ("category", "men"),
        ("tag", "eid"),
        ("size", "m"),
        ("in_stock", True),
        ("has_offer", True),
    ):
        facets = backend.search(SearchRequest(filters=Filters(**{name: value}))).facets
        assert facets is not None
        assert facets[name] == unfiltered[name], name
    priced = backend.search(SearchRequest(filters=Filters(min_price=Decimal("100")))).facets
    assert priced is not None
    assert priced["price"] == unfiltered["price"]


def test_the_category_facet_is_a_tree():
    clothes = make_category("Clothes")
    men = make_category("Men", parent=clothes)
    product(name="Shirt", category=men.slug)
    drain()

    facets = backend.search(SearchRequest(text="shirt")).facets
    assert facets is not None

    assert facets["category"] == [
        {"value": "clothes", "label": "Clothes", "count": 1, "parent": None},
        {"value": "men", "label": "Men", "count": 1, "parent": "clothes"},
    ]


# --- suggestions ---------------------------------------------------------------------------------


def test_suggestions_offer_queries_categories_stores_and_products():
    from search.models import PopularQuery

    sandals = make_category("Sandals")
    store = StoreFactory(name="Sandy's shoes")
    item = product(store=store, name="Leather sandals", category=sandals.slug)
    product(name="Samsung Galaxy S24")
    PopularQuery.objects.create(text="sandals for men", searches=12)
    drain()

    found = backend.suggest("sand", size=10)

    assert [(s.kind, s.text) for s in found] == [
        ("query", "sandals for men"),
        ("category", "Sandals"),
        ("store", "Sandy's shoes"),
        ("product", "Leather sandals"),
    ]
    assert found[-1].id == str(item.pk)
    assert found[1].id == "sandals"
    assert [s.text for s in backend.suggest("galaxi", size=10)] == ["Samsung Galaxy S24"]
    assert len(backend.suggest("s", size=1)) <= 1
    assert backend.suggest("  ", size=10) == []


@pytest.mark.parametrize("ordering", [None, "price", "-price", "created_at", "-created_at", "name"])
@pytest.mark.parametrize("memory", [100_000, 0], ids=["copy", "no-copy"])
def test_matches_held_in_hand_answer_what_sql_answers(monkeypatch, settings, ordering, memory):
    """Words matching up to MAX_IDS documents are filtered, ranked and counted in Python (the
    documents from the process's copy, or read for the search); past it everything stays in
    SQL. All give the same page, count, facets and labels."""
    from search import replica
    from search.backends import database

    settings.SEARCH_MEMORY_DOCUMENTS = memory
    replica.reset()
    _random_catalogue(random.Random(5))
    requests = [
        SearchRequest(text=text, filters=filters, ordering=ordering, offset=offset, limit=7)
        for text in ("cotton", "silk item", "ite", "wol")
        for filters in (
            Filters(),
            Filters(category="clothes", in_stock=True),
            Filters(tag="sale", min_price=Decimal("40"), max_price=Decimal("400")),
            Filters(size="m", has_offer=False),
        )
        for offset in (0, 7)
    ]
    in_hand = [backend.search(r) for r in requests]
    monkeypatch.setattr(database, "MAX_IDS", 0)
    in_sql = [backend.search(r) for r in requests]

    assert sum(result.count for result in in_hand) > 100  # the requests found something
    for request, held, sql in zip(requests, in_hand, in_sql, strict=True):
        assert (held.ids, held.count, held.facets) == (sql.ids, sql.count, sql.facets), request
