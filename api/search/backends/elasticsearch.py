"""Search on Elasticsearch (``search.elastic``'s index), answering from the database backend
whenever Elasticsearch fails or its breaker is open (``result.backend`` says which answered).

Queries are built from ``query.parse``: the words arrive normalised and stemmed as the index
analyses them, so they are sent as terms (the ``whitespace`` analyzer passes them through) and
synonyms need no reindex. Every word must match; a word matches a field by its term, one of its
synonyms, its typed prefix (the last word) or within its allowed edits (``fuzziness``, first
letter fixed). Filters go in ``post_filter`` and each facet is an aggregation filtered by every
filter but its own, so a facet's own filter never narrows its counts.

The current price is decided at query time without scripts: an offer is on when it has an offer
price and ``now`` is inside its window (``[starts, ends)``, an open end unbounded).
"""

import logging
import time
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from elasticsearch import ApiError

from search import elastic
from search.backends.base import SearchBackend, Suggestion
from search.backends.database import (
    AFTER_EVERYTHING,
    DatabaseSearchBackend,
    edit_distance,
    price_buckets,
)
from search.index import WEIGHTS
from search.models import PopularQuery
from search.normalize import normalize, stem, words
from search.query import OWN_FILTERS, Filters, SearchRequest, SearchResult, Word, parse

logger = logging.getLogger(__name__)

# search.index.WEIGHTS, as Elasticsearch fields.
FIELDS = {
    "name": WEIGHTS["name"],
    "category_names": WEIGHTS["category"],
    "tag_names": WEIGHTS["tags"],
    "store_name": WEIGHTS["store"],
    "description": WEIGHTS["description"],
}
PREFIXED = ("name", "category_names", "tag_names", "store_name")
# A typo or a prefix counts less than the word itself.
LOOSE_BOOST = 0.5
FACET_SIZE = 50  # values per facet, most frequent first
CATEGORY_FACET_SIZE = 1000  # the category tree: all of it
FACET_FIELDS = {
    "category": "category_facet",
    "store": "store_facet",
    "size": "size_facet",
    "tag": "tag_facet",
}
SUGGEST_QUERIES, SUGGEST_CATEGORIES, SUGGEST_STORES = 3, 2, 2

# Sorting by the current price needs the offer window at query time: Painless, given "now".
CURRENT_PRICE_SCRIPT = (
    "boolean on = !doc['offer_price'].empty"
    " && !doc['offer_starts_at'].empty && !doc['offer_ends_at'].empty"
    " && doc['offer_starts_at'].value.toInstant().toEpochMilli() <= params.now"
    " && doc['offer_ends_at'].value.toInstant().toEpochMilli() > params.now;"
    " return on ? doc['offer_price'].value : doc['price'].value;"
)


def _fields(weights: Mapping[str, int], *, subfield: str = "") -> list[str]:
    suffix = f".{subfield}" if subfield else ""
    return [f"{field}{suffix}^{weight}" for field, weight in weights.items()]


def _terms(text: str, fields: list[str], **options: Any) -> dict[str, Any]:
    return {
        "multi_match": {
            "query": text,
            "fields": fields,
            "analyzer": elastic.QUERY_ANALYZER,
            **options,
        }
    }


def word_query(word: Word, weights: Mapping[str, int]) -> dict[str, Any]:
    """One word over the weighted fields: its term, its synonyms, its prefix, its typos."""
    fields = _fields(weights)
    should = [_terms(word.term, fields)]
    if word.synonyms:
        should.append(_terms(" ".join(sorted(word.synonyms)), fields))
    prefixed = {field: weight for field, weight in weights.items() if field in PREFIXED}
    if word.prefix and prefixed:
        should.append(_terms(word.text, _fields(prefixed, subfield="prefix"), boost=LOOSE_BOOST))
    if word.edits:
        should.append(
            _terms(word.term, fields, fuzziness=word.edits, prefix_length=1, boost=LOOSE_BOOST)
        )
    return {"bool": {"should": should, "minimum_should_match": 1}}


def text_query(parsed: Sequence[Word], weights: Mapping[str, int] = FIELDS) -> dict[str, Any]:
    if not parsed:
        return {"match_all": {}}
    return {"bool": {"must": [word_query(word, weights) for word in parsed]}}


def offer_on() -> dict[str, Any]:
    """An offer price, and now inside its window (a missing bound: no offer, as the database
    backend's SQL has it)."""
    return {
        "bool": {
            "filter": [
                {"exists": {"field": "offer_price"}},
                {"range": {"offer_starts_at": {"lte": "now"}}},
                {"range": {"offer_ends_at": {"gt": "now"}}},
            ]
        }
    }


def current_price_in(bounds: dict[str, float]) -> dict[str, Any]:
    return {
        "bool": {
            "should": [
                {"bool": {"filter": [offer_on(), {"range": {"offer_price": bounds}}]}},
                {"bool": {"filter": [{"range": {"price": bounds}}], "must_not": [offer_on()]}},
            ],
            "minimum_should_match": 1,
        }
    }


def filter_clauses(filters: Filters) -> dict[str, dict[str, Any]]:
    """Each set filter's clause, by the filter's name (min and max price share "min_price")."""
    clauses: dict[str, dict[str, Any]] = {}
    if filters.category is not None:
        clauses["category"] = {"term": {"category_slugs": filters.category}}
    if filters.tag is not None:
        clauses["tag"] = {"term": {"tag_slugs": filters.tag}}
    if filters.store is not None:
        clauses["store"] = {"term": {"store_id": filters.store}}
    if filters.size is not None:
        clauses["size"] = {"term": {"sizes": filters.size.casefold()}}
    if filters.min_price is not None or filters.max_price is not None:
        bounds = {}
        if filters.min_price is not None:
            bounds["gte"] = float(filters.min_price)
        if filters.max_price is not None:
            bounds["lte"] = float(filters.max_price)
        clauses["min_price"] = current_price_in(bounds)
    if filters.in_stock is not None:
        clauses["in_stock"] = {"term": {"in_stock": filters.in_stock}}
    if filters.has_offer is not None:
        clauses["has_offer"] = (
            offer_on() if filters.has_offer else {"bool": {"must_not": [offer_on()]}}
        )
    return clauses


def _all_of(clauses: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {"bool": {"filter": list(clauses)}} if clauses else {"match_all": {}}


def _bucket_bounds(low: Decimal, high: Decimal | None) -> dict[str, float]:
    bounds = {"gte": float(low)}
    if high is not None:
        bounds["lt"] = float(high)
    return bounds


def facet_aggs(clauses: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """Every facet, counted under every filter but its own."""

    def others(facet: str) -> dict[str, Any]:
        own = OWN_FILTERS[facet]
        return _all_of([clause for name, clause in clauses.items() if name not in own])

    aggs: dict[str, Any] = {}
    for facet, field in FACET_FIELDS.items():
        size = CATEGORY_FACET_SIZE if facet == "category" else FACET_SIZE
        aggs[facet] = {
            "filter": others(facet),
            "aggs": {"values": {"terms": {"field": field, "size": size}}},
        }
    aggs["price"] = {
        "filter": others("price"),
        "aggs": {
            "values": {
                "filters": {
                    "filters": {
                        str(i): current_price_in(_bucket_bounds(low, high))
                        for i, (low, high) in enumerate(price_buckets())
                    }
                }
            }
        },
    }
    aggs["in_stock"] = {
        "filter": others("in_stock"),
        "aggs": {
            "values": {
                "filters": {
                    "filters": {
                        "true": {"term": {"in_stock": True}},
                        "false": {"term": {"in_stock": False}},
                    }
                }
            }
        },
    }
    aggs["has_offer"] = {
        "filter": others("has_offer"),
        "aggs": {
            "values": {
                "filters": {
                    "filters": {"true": offer_on(), "false": {"bool": {"must_not": [offer_on()]}}}
                }
            }
        },
    }
    return aggs


def sort_clause(ordering: str | None, *, has_text: bool) -> list[Any]:
    """The database backend's orders: relevance, then in stock first, then id; newest first
    without text; other orders with the id in the same direction."""
    if ordering is None:
        if has_text:
            return [{"_score": "desc"}, {"in_stock": "desc"}, {"id": "asc"}]
        return [{"created_at": "desc"}, {"id": "desc"}]
    order = "desc" if ordering.startswith("-") else "asc"
    field = ordering.lstrip("-")
    if field == "price":
        script = {"source": CURRENT_PRICE_SCRIPT, "params": {"now": int(time.time() * 1000)}}
        return [{"_script": {"type": "number", "order": order, "script": script}}, {"id": order}]
    if field == "name":
        return [{"name.sort": order}, {"id": order}]
    return [{field: order}, {"id": order}]


def search_body(request: SearchRequest) -> dict[str, Any]:
    parsed = parse(request.text)
    clauses = filter_clauses(request.filters)
    body: dict[str, Any] = {
        "query": text_query(parsed),
        "sort": sort_clause(request.ordering, has_text=bool(parsed)),
        "from": request.offset,
        "size": request.limit,
        "track_total_hits": True,
        "_source": False,
    }
    if clauses:
        body["post_filter"] = _all_of(list(clauses.values()))
    if request.facets:
        body["aggs"] = facet_aggs(clauses)
    return body


def _split(key: str) -> list[str]:
    return key.split(elastic.FACET_SEPARATOR)


def _listed(buckets: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    items = []
    for bucket in buckets:
        value, label, *rest = _split(bucket["key"])
        parent = (rest[0] if rest else "") or None
        items.append(
            {"value": value, "label": label, "count": bucket["doc_count"], "parent": parent}
        )
    return items


def read_facets(aggregations: Mapping[str, Any]) -> dict[str, Any]:
    """The database backend's shape: value lists, price buckets (edges as "0.00"), counts."""
    facets: dict[str, Any] = {}
    for facet in FACET_FIELDS:
        facets[facet] = _listed(aggregations[facet]["values"]["buckets"])
    price = aggregations["price"]["values"]["buckets"]
    facets["price"] = [
        {
            "from": f"{low:.2f}",
            "to": None if high is None else f"{high:.2f}",
            "count": price[str(i)]["doc_count"],
        }
        for i, (low, high) in enumerate(price_buckets())
    ]
    for facet in ("in_stock", "has_offer"):
        buckets = aggregations[facet]["values"]["buckets"]
        facets[facet] = {
            "true": buckets["true"]["doc_count"],
            "false": buckets["false"]["doc_count"],
        }
    return {facet: facets[facet] for facet in OWN_FILTERS}


def label_matches(label: str, parsed: Sequence[Word]) -> bool:
    """Whether every query word matches a word of ``label`` (as the index would match it)."""
    plain = words(label)
    stems = [stem(w) for w in plain]
    for word in parsed:
        if word.exact & set(stems):
            continue
        if word.prefix and any(w.startswith(word.text) for w in plain):
            continue
        if word.edits and any(
            s[:1] == word.term[:1] and edit_distance(s, word.term, word.edits) <= word.edits
            for s in stems
        ):
            continue
        return False
    return True


def suggest_body(parsed: Sequence[Word], size: int) -> dict[str, Any]:
    names = text_query(parsed, {"name": 1})
    categories = text_query(parsed, {"category_names": 1})
    stores = text_query(parsed, {"store_name": 1})
    return {
        "query": {"bool": {"should": [names, categories, stores], "minimum_should_match": 1}},
        "post_filter": names,
        # As the database backend lists them: in stock first, then the best names.
        "sort": [{"in_stock": "desc"}, {"_score": "desc"}, {"id": "asc"}],
        "size": size,
        "_source": ["name"],
        "aggs": {
            "category": {
                "filter": categories,
                "aggs": {"values": {"terms": {"field": "category_facet", "size": FACET_SIZE}}},
            },
            "store": {
                "filter": stores,
                "aggs": {"values": {"terms": {"field": "store_facet", "size": FACET_SIZE}}},
            },
        },
    }


class ElasticsearchSearchBackend(SearchBackend):
    """Elasticsearch when it answers, the database when it doesn't."""

    name = "elasticsearch"

    def __init__(self) -> None:
        self.fallback: SearchBackend = DatabaseSearchBackend()

    def search(self, request: SearchRequest) -> SearchResult:
        body = search_body(request)
        try:
            response = elastic.guarded(lambda es: es.search(index=elastic.alias(), body=body))
        except (elastic.ElasticsearchUnavailable, ApiError) as exc:
            logger.warning(
                "elasticsearch search failed, answered from the database", extra={"error": str(exc)}
            )
            return self.fallback.search(request)
        hits = response["hits"]
        return SearchResult(
            ids=[int(hit["_id"]) for hit in hits["hits"]],
            count=hits["total"]["value"],
            backend=self.name,
            facets=read_facets(response["aggregations"]) if request.facets else None,
        )

    def suggest(self, text: str, *, size: int) -> list[Suggestion]:
        parsed = parse(text)
        if not parsed:
            return []
        body = suggest_body(parsed, size)
        try:
            response = elastic.guarded(lambda es: es.search(index=elastic.alias(), body=body))
        except (elastic.ElasticsearchUnavailable, ApiError) as exc:
            logger.warning(
                "elasticsearch suggest failed, answered from the database",
                extra={"error": str(exc)},
            )
            return self.fallback.suggest(text, size=size)
        typed = normalize(text)
        found = [
            Suggestion(text=query, kind="query", id=None)
            for query in PopularQuery.objects.filter(
                text__gte=typed, text__lt=typed + AFTER_EVERYTHING
            )
            .exclude(text=typed)
            .order_by("-searches", "text")
            .values_list("text", flat=True)[:SUGGEST_QUERIES]
        ]
        for kind, limit in (("category", SUGGEST_CATEGORIES), ("store", SUGGEST_STORES)):
            buckets = response["aggregations"][kind]["values"]["buckets"]
            labelled = [_split(bucket["key"])[:2] for bucket in buckets]
            found += [
                Suggestion(text=label, kind=kind, id=value)
                for value, label in labelled
                if label_matches(label, parsed)
            ][:limit]
        products = [
            Suggestion(text=hit["_source"]["name"], kind="product", id=hit["_id"])
            for hit in response["hits"]["hits"]
        ]
        return trim(found, products, size)


def trim(others: list[Suggestion], products: list[Suggestion], size: int) -> list[Suggestion]:
    """The first ``size``, at least half of them products when there are (as the database
    backend keeps them)."""
    keep_products = products[: max(size - len(others), size // 2)]
    return (others[: size - len(keep_products)] + keep_products)[:size]
