"""Writing the database index: documents in, postings, facets and vocabulary out.

A document is a plain dict a source hands over (``search.sources``); the search app never sees
a model of another app. Writes are set-based: a batch of 500 products is a handful of statements
whatever their size.
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import connection
from django.utils import timezone

from core.bulk import insert_rows
from search.models import (
    FACET_KEY_SEPARATOR,
    FACET_SEPARATOR,
    DocumentFacet,
    Posting,
    SearchDocument,
    Term,
    TermTrigram,
    facet_key,
)
from search.normalize import normalize
from search.normalize import terms as terms_of

# How much a word counts where it appears: a name match outranks a description match.
WEIGHTS = {"name": 8, "category": 4, "tags": 4, "store": 3, "description": 1}
MAX_TERM = 64


def trigrams(term: str) -> set[str]:
    padded = f"  {term} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def document_terms(doc: Mapping[str, Any]) -> dict[str, int]:
    """Each term of the document with the weight of the best field it appears in."""
    fields = {
        "name": doc["name"],
        "category": " ".join(name for _, name in doc.get("categories", [])),
        "tags": " ".join(name for _, name in doc.get("tags", [])),
        "store": doc["store_name"],
        "description": doc.get("description", ""),
    }
    weighted: dict[str, int] = {}
    for field, text in fields.items():
        for term in terms_of(text):
            term = term[:MAX_TERM]
            weighted[term] = max(weighted.get(term, 0), WEIGHTS[field])
    return weighted


def _facet_rows(doc: Mapping[str, Any]) -> list[tuple[int, str, str, str, str, str]]:
    values = [("store", str(doc["store_id"]), doc["store_name"], "")]
    parents = [""] + [slug for slug, _ in doc["categories"]]
    values += [
        ("category", slug, name, parent)
        for (slug, name), parent in zip(doc["categories"], parents, strict=False)
    ]
    values += [("tag", slug, name, "") for slug, name in doc["tags"]]
    values += [("size", name.casefold(), name, "") for name in doc["sizes"] if name]
    return [
        (doc["id"], facet, _clean(value)[:120], label[:200], normalize(label)[:200], parent)
        for facet, value, label, parent in values
    ]


def _clean(value: str) -> str:
    """Without the separators ``facet_keys`` is written with."""
    return value.replace(FACET_KEY_SEPARATOR, " ").replace(FACET_SEPARATOR, " ")


def facet_keys(rows: Iterable[tuple[int, str, str, str, str, str]]) -> str:
    return FACET_SEPARATOR.join(facet_key(facet, value) for _, facet, value, *_ in rows)


def _prep(value: Any) -> Any:
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value


def remember_terms(new_terms: Iterable[str]) -> None:
    """Add terms the vocabulary hasn't seen, with their trigrams."""
    wanted = set(new_terms)
    if not wanted:
        return
    known = set(Term.objects.filter(text__in=wanted).values_list("text", flat=True))
    fresh = sorted(wanted - known)
    if not fresh:
        return
    Term.objects.bulk_create([Term(text=t) for t in fresh], ignore_conflicts=True)
    ids = dict(Term.objects.filter(text__in=fresh).values_list("text", "pk"))
    insert_rows(
        TermTrigram,
        ["trigram", "term_id"],
        [(g, ids[t]) for t in fresh for g in sorted(trigrams(t))],
    )


def write(docs: Sequence[Mapping[str, Any]]) -> None:
    """Put ``docs`` in the index, replacing what was there for them."""
    if not docs:
        return
    ids = [doc["id"] for doc in docs]
    remove(ids)
    now = timezone.now()
    facets = {doc["id"]: _facet_rows(doc) for doc in docs}
    columns = [
        "id", "name", "description", "store_id", "store_name", "category_slug", "price",
        "offer_price", "offer_starts_at", "offer_ends_at", "in_stock", "created_at", "stamp",
        "indexed_at", "facet_keys",
    ]  # fmt: skip
    insert_rows(
        SearchDocument,
        columns,
        [
            tuple(
                _prep(v)
                for v in (
                    doc["id"],
                    doc["name"][:200],
                    doc.get("description", ""),
                    doc["store_id"],
                    doc["store_name"][:120],
                    doc["categories"][-1][0] if doc["categories"] else "",
                    doc["price"],
                    doc.get("offer_price"),
                    doc.get("offer_starts_at"),
                    doc.get("offer_ends_at"),
                    doc["in_stock"],
                    doc["created_at"],
                    doc["stamp"],
                    now,
                    facet_keys(facets[doc["id"]]),
                )
            )
            for doc in docs
        ],
    )
    insert_rows(
        DocumentFacet,
        ["document_id", "facet", "value", "label", "normalized", "parent"],
        [row for rows in facets.values() for row in rows],
    )
    postings = {doc["id"]: document_terms(doc) for doc in docs}
    insert_rows(
        Posting,
        ["term", "document_id", "weight"],
        [(term, pk, weight) for pk, found in postings.items() for term, weight in found.items()],
    )
    remember_terms(term for found in postings.values() for term in found)


def remove(ids: Iterable[int]) -> None:
    ids = list(ids)
    if not ids:
        return
    Posting.objects.filter(document_id__in=ids).delete()
    DocumentFacet.objects.filter(document_id__in=ids).delete()
    SearchDocument.objects.filter(pk__in=ids).delete()
