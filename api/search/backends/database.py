"""Search on the database index the feed keeps (``search.models``): the embedded default, and
the fallback when Elasticsearch is down. The same SQL runs on SQLite and MariaDB.

A query is a list of words (``search.query.parse``); a document matches when every word matches
one of its terms. A word matches its own term and its synonyms', the last word also any term it
begins (the shopper is still typing), and — only when that finds fewer than ``FUZZY_BELOW``
products — any term within the word's typo allowance (one edit from 4 letters, two from 8; words
of 3 letters or fewer never). Candidates for a typo are the terms sharing enough trigrams with the
word, then kept by true edit distance.

Relevance is the sum, over the matched terms, of where the term sits (the name counts 8, the
category and tags 4, the store 3, the description 1) times how it matched (exact 10, synonym 9,
continued 7, typo 5); in-stock products come first among equals and ids break ties, so pages are
stable.
"""

import heapq
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from itertools import chain
from typing import Any, NamedTuple

from django.conf import settings
from django.db.models import (
    BooleanField,
    Case,
    Count,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    When,
)
from django.db.models import Value as V
from django.utils import timezone

from search import replica
from search.backends.base import SearchBackend, Suggestion
from search.index import WEIGHTS, trigrams
from search.models import (
    FACET_KEY_SEPARATOR,
    DocumentFacet,
    PopularQuery,
    Posting,
    SearchDocument,
    Term,
    TermTrigram,
    facet_key,
)
from search.normalize import normalize
from search.query import OWN_FILTERS, Filters, SearchRequest, SearchResult, Word, parse
from search.replica import Entry

FUZZY_BELOW = 3
MAX_IDS = 20_000  # matches read into memory at most (SQLite takes 32,766 parameters)
MAX_POSTINGS = 100_000  # postings of the query's terms read into memory at most
PREFIX_EXPANSIONS = 100  # terms a word being typed may continue into
FUZZY_CANDIDATES = 300
FACET_VALUES = 50  # per facet, most frequent first (the category tree: all)
EXACT, SYNONYM, PREFIX, TYPO = 10, 9, 7, 5
AFTER_EVERYTHING = "\U0010ffff"


def edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance of ``a`` and ``b``, or ``limit + 1`` once it exceeds ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def continuations(prefix: str, *, limit: int = PREFIX_EXPANSIONS) -> list[str]:
    """Terms beginning with ``prefix``, in order (an index range scan on both databases)."""
    return list(
        Term.objects.filter(text__gte=prefix, text__lt=prefix + AFTER_EVERYTHING)
        .order_by("text")
        .values_list("text", flat=True)[:limit]
    )


def near_terms(word: Word) -> list[str]:
    """Terms within ``word.edits`` edits of the word's term."""
    if not word.edits:
        return []
    grams = trigrams(word.term)
    # Each edit spoils at most three of the word's trigrams.
    needed = max(1, len(grams) - 3 * word.edits)
    candidates = (
        TermTrigram.objects.filter(trigram__in=grams)
        .values("term_id")
        .annotate(shared=Count("id"))
        .filter(shared__gte=needed)
        .order_by("-shared", "term_id")
        .values("term_id")[:FUZZY_CANDIDATES]
    )
    # Two statements: MariaDB takes no LIMIT inside IN (subquery).
    ids = [row["term_id"] for row in candidates]
    texts = Term.objects.filter(pk__in=ids).values_list("text", flat=True)
    return [
        t for t in texts if t != word.term and edit_distance(word.term, t, word.edits) <= word.edits
    ]


def offer_active(now: datetime) -> Q:
    return Q(offer_price__isnull=False, offer_starts_at__lte=now, offer_ends_at__gt=now)


def current_price(now: datetime) -> Case:
    return Case(When(offer_active(now), then=F("offer_price")), default=F("price"))


def price_buckets() -> list[tuple[Decimal, Decimal | None]]:
    edges = [Decimal(str(edge)) for edge in settings.SEARCH_PRICE_BUCKETS]
    return [(low, high) for low, high in zip(edges, [*edges[1:], None], strict=True)]


def _facet_documents(facet: str, value: str) -> QuerySet:
    return DocumentFacet.objects.filter(facet=facet, value=value).values("document_id")


def apply_filters(documents: QuerySet, filters: Filters, now: datetime) -> QuerySet:
    if filters.store is not None:
        documents = documents.filter(store_id=filters.store)
    if filters.category:
        # A category's documents carry a row for it and every ancestor: subcategories match.
        documents = documents.filter(pk__in=_facet_documents("category", filters.category))
    if filters.tag:
        documents = documents.filter(pk__in=_facet_documents("tag", filters.tag))
    if filters.size:
        documents = documents.filter(pk__in=_facet_documents("size", filters.size.casefold()))
    if filters.min_price is not None or filters.max_price is not None:
        documents = documents.alias(current_price=current_price(now))
        if filters.min_price is not None:
            documents = documents.filter(current_price__gte=filters.min_price)
        if filters.max_price is not None:
            documents = documents.filter(current_price__lte=filters.max_price)
    if filters.in_stock is not None:
        documents = documents.filter(in_stock=filters.in_stock)
    if filters.has_offer is not None:
        active = offer_active(now)
        documents = documents.filter(active) if filters.has_offer else documents.exclude(active)
    return documents


def with_ids(documents: QuerySet, ids: Iterable[int]) -> QuerySet:
    """``documents.filter(pk__in=ids)`` for thousands of ids: written into the statement as
    integers, without Django preparing each as a parameter (a third of the statement's time
    at 6,000 ids)."""
    listed = ",".join(str(int(pk)) for pk in ids)
    if not listed:
        return documents.none()
    table = documents.model._meta.db_table
    return documents.extra(where=[f"{table}.id IN ({listed})"])  # noqa: S610 — integers only


class Candidate(NamedTuple):
    """A document matching the words, with what filters and facets look at."""

    id: int
    in_stock: bool
    store: int
    price: Decimal  # current: the offer's while it runs
    on_offer: bool
    keys: tuple[int, ...]  # its facet keys' numbers (``search.replica.key_ids``)


class Wanted(NamedTuple):
    """The filters' facet keys as numbers: -1 for a value no document has."""

    category: int | None
    tag: int | None
    size: int | None

    @classmethod
    def of(cls, filters: Filters) -> "Wanted":
        def number(facet: str, value: str | None) -> int | None:
            if not value:
                return None
            found = replica.key_id(facet_key(facet, value))
            return -1 if found is None else found

        return cls(
            number("category", filters.category),
            number("tag", filters.tag),
            number("size", filters.size.casefold() if filters.size else None),
        )


def passes(candidate: Candidate, filters: Filters, wanted: Wanted) -> bool:
    """``apply_filters``, on a candidate in hand (``wanted``: ``Wanted.of(filters)``)."""
    keys = candidate.keys
    return not (
        (filters.store is not None and candidate.store != filters.store)
        or (wanted.category is not None and wanted.category not in keys)
        or (wanted.tag is not None and wanted.tag not in keys)
        or (wanted.size is not None and wanted.size not in keys)
        or (filters.min_price is not None and candidate.price < filters.min_price)
        or (filters.max_price is not None and candidate.price > filters.max_price)
        or (filters.in_stock is not None and candidate.in_stock != filters.in_stock)
        or (filters.has_offer is not None and candidate.on_offer != filters.has_offer)
    )


LISTED = ("category", "tag", "size", "store")  # value counts; the others are ranges or flags


def facet_groups(filters: Filters) -> dict[tuple[str, ...], list[str]]:
    """The facets by the filters their counts drop (disjunctive facets): one count per group."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for facet, names in OWN_FILTERS.items():
        dropped = tuple(n for n in names if getattr(filters, n) is not None)
        groups.setdefault(dropped, []).append(facet)
    return groups


def _range_counts_in_hand(documents: list[Candidate], names: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if "price" in names:
        buckets = price_buckets()
        lows = [low for low, _ in buckets]
        counts = Counter(bisect_right(lows, c.price) - 1 for c in documents)  # one pass
        found["price"] = [
            {
                "from": f"{low:.2f}",
                "to": None if high is None else f"{high:.2f}",
                "count": counts.get(i, 0),
            }
            for i, (low, high) in enumerate(buckets)
        ]
    if "in_stock" in names:
        stocked = sum(1 for c in documents if c.in_stock)
        found["in_stock"] = {"true": stocked, "false": len(documents) - stocked}
    if "has_offer" in names:
        offered = sum(1 for c in documents if c.on_offer)
        found["has_offer"] = {"true": offered, "false": len(documents) - offered}
    return found


class DatabaseSearchBackend(SearchBackend):
    name = "database"

    # --- matching ---

    def _expand(self, words: Sequence[Word]) -> list[dict[str, int]]:
        """For each word, the terms it matches with how well (the better match wins)."""
        expanded = []
        for word in words:
            found: dict[str, int] = {}
            if word.prefix:
                for term in continuations(word.term):
                    found[term] = PREFIX
            for term in word.synonyms:
                found[term] = SYNONYM
            found[word.term] = EXACT
            expanded.append(found)
        return expanded

    def _widen(self, words: Sequence[Word], expanded: list[dict[str, int]]) -> list[dict[str, int]]:
        """``expanded`` plus, for each word, the terms within its typo allowance."""
        return [
            {**{term: TYPO for term in near_terms(word)}, **found}
            for word, found in zip(words, expanded, strict=True)
        ]

    def _matching(self, expanded: Sequence[dict[str, int]]) -> QuerySet:
        documents = SearchDocument.objects.all()
        for found in expanded:
            documents = documents.filter(
                pk__in=Posting.objects.filter(term__in=list(found)).values("document_id")
            )
        return documents

    def _score(self, expanded: Sequence[dict[str, int]]) -> Subquery:
        quality: dict[str, int] = {}
        for found in expanded:
            for term, how in found.items():
                quality[term] = max(quality.get(term, 0), how)
        by_quality: dict[int, list[str]] = {}
        for term, how in quality.items():
            by_quality.setdefault(how, []).append(term)
        factor = Case(
            *(When(term__in=terms, then=V(how)) for how, terms in sorted(by_quality.items())),
            default=V(0),
            output_field=IntegerField(),
        )
        return Subquery(
            Posting.objects.filter(document=OuterRef("pk"), term__in=list(quality))
            .order_by()
            .values("document")
            .annotate(score=Sum(F("weight") * factor))
            .values("score"),
            output_field=IntegerField(),
        )

    def search(self, request: SearchRequest) -> SearchResult:
        now = timezone.now()
        words = parse(request.text)
        if words:
            found = self._search_in_hand(request, words, now)
            if found is not None:
                return found
        return self._search_in_sql(request, words, now)

    # --- words matching at most MAX_IDS documents: one read, the rest in Python ---

    def _matches(
        self, expanded: Sequence[dict[str, int]], *, names_only: bool = False
    ) -> dict[int, int] | None:
        """The documents holding every word (in their name, with ``names_only``, and scored by
        it) and their relevance, from one read of the query terms' postings (an index range on
        the term): ``{document: score}``. None past MAX_POSTINGS rows or MAX_IDS matches (SQL
        then)."""
        quality: dict[str, int] = {}
        words_of: dict[str, list[int]] = {}
        for position, found in enumerate(expanded):
            for term, how in found.items():
                quality[term] = max(quality.get(term, 0), how)
                words_of.setdefault(term, []).append(position)
        postings = Posting.objects.filter(term__in=list(quality))
        if names_only:  # scored by their names too: a suggestion is a product's name
            postings = postings.filter(weight=WEIGHTS["name"])
        rows = list(postings.values_list("document_id", "term", "weight")[: MAX_POSTINGS + 1])
        if len(rows) > MAX_POSTINGS:
            return None
        holding: list[set[int]] = [set() for _ in expanded]
        scores: dict[int, int] = {}
        for document_id, term, weight in rows:
            for position in words_of[term]:
                holding[position].add(document_id)
            scores[document_id] = scores.get(document_id, 0) + weight * quality[term]
        matched = set.intersection(*holding) if holding else set()
        if len(matched) > MAX_IDS:
            return None
        return {pk: scores[pk] for pk in matched}

    def _candidates(
        self, matches: dict[int, int], now: datetime, copy: dict[int, Entry] | None = None
    ) -> list[Candidate]:
        """The matching documents with what the filters and facets need: from this process's
        copy (``search.replica``) when there is one, else one statement by primary key, the
        current price and the offer worked out by the database. A document the postings name
        but the copy doesn't hold yet (written a moment ago) is left out, as a document whose
        product just left sale is."""
        if copy is not None:
            held = []
            for pk in matches:
                entry = copy.get(pk)
                if entry is None:
                    continue
                in_stock, store, price, offer_price, starts, ends, keys = entry
                offered = (
                    offer_price is not None
                    and starts is not None
                    and ends is not None
                    and starts <= now < ends
                )
                held.append(
                    Candidate(pk, in_stock, store, offer_price if offered else price, offered, keys)  # type: ignore[arg-type]
                )
            return held
        rows = (
            with_ids(SearchDocument.objects.all(), matches)
            .annotate(
                current=current_price(now),
                offered=Case(
                    When(offer_active(now), then=V(True)),
                    default=V(False),
                    output_field=BooleanField(),
                ),
            )
            .values_list("pk", "in_stock", "store_id", "current", "offered", "facet_keys")
        )
        return [
            Candidate(pk, in_stock, store, price, bool(offered),
                      replica.key_ids(keys))
            for pk, in_stock, store, price, offered, keys in rows
        ]  # fmt: skip

    def _search_in_hand(
        self, request: SearchRequest, words: Sequence[Word], now: datetime
    ) -> SearchResult | None:
        """The search from the matching documents read once; None when there are too many to
        hold (then SQL does it)."""
        expanded = self._expand(words)
        matches = self._matches(expanded)
        if matches is None:
            return None
        copy = replica.documents()
        candidates = self._candidates(matches, now, copy)
        wanted = Wanted.of(request.filters)  # after the candidates: they number new keys
        matched = [c for c in candidates if passes(c, request.filters, wanted)]
        if len(matched) < FUZZY_BELOW and any(word.edits for word in words):
            wider = self._widen(words, expanded)
            if wider != expanded:
                matches = self._matches(wider)
                if matches is None:
                    return None
                expanded, candidates = wider, self._candidates(matches, now, copy)
                wanted = Wanted.of(request.filters)
                matched = [c for c in candidates if passes(c, request.filters, wanted)]
        ids: list[int] = []
        if matched and request.limit:
            window = slice(request.offset, request.offset + request.limit)
            if request.ordering is None:
                ranks = [(-matches[c.id], not c.in_stock, c.id) for c in matched]
                ids = [pk for _, _, pk in heapq.nsmallest(window.stop, ranks)[window]]
            elif request.ordering in ("price", "-price"):
                by_price = sorted(
                    matched, key=lambda c: (c.price, c.id), reverse=request.ordering == "-price"
                )
                ids = [c.id for c in by_price[window]]
            else:
                documents = SearchDocument.objects.filter(pk__in=[c.id for c in matched])
                ordered = self._ordered(documents, request.ordering, expanded, now)
                ids = list(ordered.values_list("pk", flat=True)[window])
        facets = self._facets_in_hand(candidates, request.filters) if request.facets else None
        return SearchResult(ids=ids, count=len(matched), backend=self.name, facets=facets)

    def _facets_in_hand(self, candidates: list[Candidate], filters: Filters) -> dict[str, Any]:
        """``_facets`` over candidates in hand: each group's documents filtered in Python, the
        facet values counted from their keys, and only the labels read (one statement, from a
        document carrying each value shown)."""
        facets: dict[str, Any] = {}
        shown: dict[str, list[tuple[str, int]]] = {}
        for dropped, members in facet_groups(filters).items():
            kept = filters.without(*dropped)
            kept_keys = Wanted.of(kept)
            documents = [c for c in candidates if passes(c, kept, kept_keys)]
            listed = [m for m in members if m in LISTED]
            if listed:
                counts = Counter(chain.from_iterable(c.keys for c in documents))
                values: dict[str, list[tuple[str, int]]] = {name: [] for name in listed}
                for number, count in counts.items():
                    facet, _, value = replica.key_name(number).partition(FACET_KEY_SEPARATOR)
                    if facet in values:
                        values[facet].append((value, count))
                for facet, found in values.items():
                    found.sort(key=lambda item: (-item[1], item[0]))
                    shown[facet] = found if facet == "category" else found[:FACET_VALUES]
            ranged = [m for m in members if m not in LISTED]
            if ranged:
                facets.update(_range_counts_in_hand(documents, ranged))
        labels = self._labels(candidates, shown)
        for facet, found in shown.items():
            facets[facet] = [
                {
                    "value": value,
                    "label": labels.get((facet, value), ("", ""))[0],
                    "count": count,
                    "parent": labels.get((facet, value), ("", ""))[1] or None,
                }
                for value, count in found
            ]
        return {facet: facets[facet] for facet in OWN_FILTERS}

    def _labels(
        self, candidates: Iterable[Candidate], shown: dict[str, list[tuple[str, int]]]
    ) -> dict[tuple[str, str], tuple[str, str]]:
        """The label and parent of each value shown, from the facet rows of one document that
        has it (the first candidate found carrying it)."""
        wanted = {
            replica.key_id(facet_key(facet, value))
            for facet, found in shown.items()
            for value, _ in found
        }
        carriers: set[int] = set()
        for candidate in candidates:
            if not wanted:
                break
            hit = wanted.intersection(candidate.keys)
            if hit:
                carriers.add(candidate.id)
                wanted -= hit
        labels: dict[tuple[str, str], tuple[str, str]] = {}
        for facet, value, label, parent in DocumentFacet.objects.filter(
            document_id__in=carriers, facet__in=list(shown)
        ).values_list("facet", "value", "label", "parent"):
            labels[(facet, value)] = (label, parent)
        return labels

    # --- everything in SQL: no words, or words in most of the catalogue ---

    def _search_in_sql(
        self, request: SearchRequest, words: Sequence[Word], now: datetime
    ) -> SearchResult:
        expanded: list[dict[str, int]] = []
        base = SearchDocument.objects.all()
        if words:
            expanded = self._expand(words)
            base = self._matching(expanded)
        documents = apply_filters(base, request.filters, now)
        matched = self._matched(documents) if words else None
        count = len(matched) if matched is not None else documents.count()
        if words and count < FUZZY_BELOW and any(word.edits for word in words):
            wider = self._widen(words, expanded)
            if wider != expanded:
                expanded, base = wider, self._matching(wider)
                documents = apply_filters(base, request.filters, now)
                matched = self._matched(documents)
                count = len(matched) if matched is not None else documents.count()
        if matched is not None:
            # The matches' ids in hand: every later statement reads them by primary key, which
            # both databases plan well (a semi-join over the postings drove MariaDB through
            # every document for each of them).
            documents = SearchDocument.objects.filter(pk__in=list(matched))
        ids: list[int] = []
        if count and request.limit:
            window = slice(request.offset, request.offset + request.limit)
            if matched is not None and request.ordering is None:
                ids = self._ranked(matched, expanded)[window]
            else:
                ordered = self._ordered(documents, request.ordering, expanded, now)
                ids = list(ordered.values_list("pk", flat=True)[window])
        facets = None
        if request.facets:
            facets = self._facets(base, request.filters, now, matched=matched)
        return SearchResult(ids=ids, count=count, backend=self.name, facets=facets)

    def _matched(self, documents: QuerySet) -> dict[int, bool] | None:
        """The matching documents' ids with their in-stock flags, when there are at most
        MAX_IDS (a query word in most of the catalogue leaves them in SQL: None)."""
        rows = list(documents.values_list("pk", "in_stock")[: MAX_IDS + 1])
        return None if len(rows) > MAX_IDS else dict(rows)

    def _ranked(
        self, matched: dict[int, bool], expanded: list[dict[str, int]], *, stock_first: bool = False
    ) -> list[int]:
        """Relevance order of ``matched``: the scores from one read of the query terms'
        postings (an index range on the term, the other documents' rows dropped here: a list of
        thousands of ids in the statement cost more than the rows it spared), then score, in
        stock, id — in Python (in stock before score with ``stock_first``, as suggestions
        want)."""
        quality: dict[str, int] = {}
        for found in expanded:
            for term, how in found.items():
                quality[term] = max(quality.get(term, 0), how)
        scores: dict[int, int] = {}
        for document_id, term, weight in Posting.objects.filter(term__in=list(quality)).values_list(
            "document_id", "term", "weight"
        ):
            if document_id in matched:
                scores[document_id] = scores.get(document_id, 0) + weight * quality[term]
        if stock_first:
            return sorted(matched, key=lambda pk: (not matched[pk], -scores.get(pk, 0), pk))
        return sorted(matched, key=lambda pk: (-scores.get(pk, 0), not matched[pk], pk))

    def _ordered(
        self,
        documents: QuerySet,
        ordering: str | None,
        expanded: list[dict[str, int]],
        now: datetime,
    ) -> QuerySet:
        if ordering in ("price", "-price"):
            documents = documents.alias(current_price=current_price(now))
            direction = "-" if ordering == "-price" else ""
            return documents.order_by(f"{direction}current_price", f"{direction}id")
        if ordering in ("created_at", "-created_at"):
            direction = "-" if ordering == "-created_at" else ""
            return documents.order_by(ordering, f"{direction}id")
        if ordering == "name":
            return documents.order_by("name", "id")
        if not expanded:
            return documents.order_by("-created_at", "-id")
        return documents.alias(score=self._score(expanded)).order_by("-score", "-in_stock", "id")

    # --- facets ---

    def _facets(
        self,
        base: QuerySet,
        filters: Filters,
        now: datetime,
        *,
        matched: dict[int, bool] | None = None,
    ) -> dict[str, Any]:
        """Counts of every facet, each under every filter but its own (disjunctive): one query
        per distinct set of filters. ``matched`` (the ids under every filter) spares the group
        that drops none from reading them again."""
        facets: dict[str, Any] = {}
        for dropped, members in facet_groups(filters).items():
            documents = apply_filters(base, filters.without(*dropped), now)
            ids = matched if not dropped else None
            if ids is None and base.query.where:  # words: their ids, if not too many
                ids = self._matched(documents)
            if ids is not None:
                documents = SearchDocument.objects.filter(pk__in=list(ids))
            listed = [m for m in members if m in LISTED]
            if listed:
                facets.update(self._value_counts(documents, listed, ids=ids))
            counted = [m for m in members if m not in LISTED]
            if counted:
                facets.update(self._range_counts(documents, counted, now))
        return {facet: facets[facet] for facet in OWN_FILTERS}

    def _value_counts(
        self, documents: QuerySet, names: list[str], *, ids: dict[int, bool] | None = None
    ) -> dict[str, Any]:
        if ids is not None:
            of_documents = Q(document_id__in=list(ids))
        elif not documents.query.where:  # the whole catalogue: no filter at all
            of_documents = Q()
        else:
            of_documents = Q(document__in=documents.values("pk"))
        rows = (
            DocumentFacet.objects.filter(of_documents, facet__in=names)
            .values("facet", "value")
            .annotate(count=Count("id"), label=Max("label"), parent=Max("parent"))
            .order_by("facet", "-count", "value")
        )
        found: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
        for row in rows:
            item = {
                "value": row["value"],
                "label": row["label"],
                "count": row["count"],
                "parent": row["parent"] or None,
            }
            if row["facet"] != "category" and len(found[row["facet"]]) >= FACET_VALUES:
                continue
            found[row["facet"]].append(item)
        return found

    def _range_counts(self, documents: QuerySet, names: list[str], now: datetime) -> dict[str, Any]:
        counts: dict[str, Any] = {}
        buckets = price_buckets()
        if "price" in names:
            documents = documents.alias(current_price=current_price(now))
            for i, (low, high) in enumerate(buckets):
                condition = Q(current_price__gte=low)
                if high is not None:
                    condition &= Q(current_price__lt=high)
                counts[f"price_{i}"] = Count("pk", filter=condition)
        if "in_stock" in names:
            counts["in_stock_true"] = Count("pk", filter=Q(in_stock=True))
            counts["in_stock_false"] = Count("pk", filter=Q(in_stock=False))
        if "has_offer" in names:
            counts["has_offer_true"] = Count("pk", filter=offer_active(now))
            counts["has_offer_false"] = Count("pk", filter=~offer_active(now))
        totals = documents.aggregate(**counts)
        found: dict[str, Any] = {}
        if "price" in names:
            found["price"] = [
                {
                    "from": f"{low:.2f}",
                    "to": None if high is None else f"{high:.2f}",
                    "count": totals[f"price_{i}"],
                }
                for i, (low, high) in enumerate(buckets)
            ]
        for name in ("in_stock", "has_offer"):
            if name in names:
                found[name] = {"true": totals[f"{name}_true"], "false": totals[f"{name}_false"]}
        return found

    # --- suggestions ---

    def suggest(self, text: str, *, size: int) -> list[Suggestion]:
        words = parse(text)
        if not words:
            return []
        typed = normalize(text)
        suggestions: list[Suggestion] = []
        for query in (
            PopularQuery.objects.filter(text__gte=typed, text__lt=typed + AFTER_EVERYTHING)
            .exclude(text=typed)
            .order_by("-searches", "text")
            .values_list("text", flat=True)[:3]
        ):
            suggestions.append(Suggestion(text=query, kind="query", id=None))
        for facet in ("category", "store"):
            rows = (
                DocumentFacet.objects.filter(
                    facet=facet, normalized__gte=typed, normalized__lt=typed + AFTER_EVERYTHING
                )
                .values("value")
                .annotate(label=Max("label"), count=Count("id"))
                .order_by("-count", "value")[:2]
            )
            suggestions += [Suggestion(text=r["label"], kind=facet, id=r["value"]) for r in rows]
        wanted = max(size - len(suggestions), size // 2)
        suggestions += self._product_names(words, wanted)
        return suggestions[:size] if len(suggestions) <= size else self._trim(suggestions, size)

    def _trim(self, suggestions: list[Suggestion], size: int) -> list[Suggestion]:
        """Keep the first ``size``, with at least half of them products when there are."""
        products = [s for s in suggestions if s.kind == "product"]
        others = [s for s in suggestions if s.kind != "product"]
        keep_products = products[: max(size - len(others), size // 2)]
        return (others[: size - len(keep_products)] + keep_products)[:size]

    def _product_names(self, words: Sequence[Word], size: int) -> list[Suggestion]:
        """Products whose name holds every word (the last one as typed so far; a typo allowed
        when nothing matches as typed), in stock first, best names first."""
        expanded = self._expand(words)
        for fuzzy in (False, True):
            if fuzzy:
                if not any(word.edits for word in words):
                    break
                expanded = self._widen(words, expanded)
            matches = self._matches(expanded, names_only=True)
            if matches is not None:  # ranked in Python, as in search
                copy = replica.documents()
                if copy is not None:
                    stocked = {pk for pk in matches if (e := copy.get(pk)) and e[0]}  # in stock
                else:
                    stocked = set(
                        with_ids(SearchDocument.objects.filter(in_stock=True), matches).values_list(
                            "pk", flat=True
                        )
                    )
                best = sorted(matches, key=lambda pk: (pk not in stocked, -matches[pk], pk))[:size]
                names = dict(SearchDocument.objects.filter(pk__in=best).values_list("pk", "name"))
                rows = [(pk, names[pk]) for pk in best if pk in names]
            else:
                documents = SearchDocument.objects.all()
                for found in expanded:
                    documents = documents.filter(
                        pk__in=Posting.objects.filter(
                            term__in=list(found), weight=WEIGHTS["name"]
                        ).values("document_id")
                    )
                rows = list(
                    documents.alias(score=self._score(expanded))
                    .order_by("-in_stock", "-score", "id")
                    .values_list("pk", "name")[:size]
                )
            if rows:
                return [Suggestion(text=name, kind="product", id=str(pk)) for pk, name in rows]
        return []
