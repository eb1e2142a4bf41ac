"""What a search asks, in the terms every backend shares: the request, its parsed words with
their synonyms and typo allowances, and the result."""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.cache import cache

from search.normalize import normalize, stem, words

# Typo tolerance (API.md): no edit below 4 letters, one from 4, two from 8.
FUZZY_MIN, FUZZY_TWO = 4, 8
SYNONYMS_CACHE_KEY = "search:synonyms"


def allowed_edits(word: str) -> int:
    return 0 if len(word) < FUZZY_MIN else 1 if len(word) < FUZZY_TWO else 2


@dataclass(frozen=True)
class Filters:
    category: str | None = None  # a slug; its descendants match too
    tag: str | None = None  # a slug
    store: int | None = None
    size: str | None = None  # a size name, any case
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    in_stock: bool | None = None
    has_offer: bool | None = None

    def without(self, *names: str) -> "Filters":
        return Filters(**{k: (None if k in names else v) for k, v in self.__dict__.items()})


ORDERINGS = ("price", "-price", "created_at", "-created_at", "name")

# Each facet and the filters that are its own: its counts are made under every other filter
# (disjunctive facets), on every backend; also the order facets are answered in.
OWN_FILTERS = {
    "category": ("category",),
    "tag": ("tag",),
    "size": ("size",),
    "store": ("store",),
    "price": ("min_price", "max_price"),
    "in_stock": ("in_stock",),
    "has_offer": ("has_offer",),
}


@dataclass(frozen=True)
class SearchRequest:
    text: str = ""
    filters: Filters = field(default_factory=Filters)
    ordering: str | None = None  # None: relevance (newest first without text)
    offset: int = 0
    limit: int = 20
    facets: bool = True


@dataclass
class SearchResult:
    ids: list[int]
    count: int
    backend: str
    facets: dict[str, Any] | None = None


@dataclass(frozen=True)
class Word:
    """One word of a query: the term it is indexed as, its synonyms' terms, whether it may be
    continued (the last word, still being typed) and how many typos it may carry."""

    text: str  # normalised, unstemmed
    term: str
    synonyms: frozenset[str]
    prefix: bool
    edits: int

    @property
    def exact(self) -> frozenset[str]:
        return frozenset({self.term}) | self.synonyms


def synonym_map() -> dict[str, frozenset[str]]:
    """term → the terms of every word in its synonym groups (cached; the admin clears it)."""
    cached = cache.get(SYNONYMS_CACHE_KEY)
    if cached is not None:
        return cached
    from search.models import SynonymGroup

    mapping: dict[str, set[str]] = {}
    for group in SynonymGroup.objects.values_list("words", flat=True):
        members = {stem(w) for part in group.split(",") for w in words(part)}
        for member in members:
            mapping.setdefault(member, set()).update(members - {member})
    frozen = {term: frozenset(others) for term, others in mapping.items()}
    cache.set(SYNONYMS_CACHE_KEY, frozen, 300)
    return frozen


def parse(text: str) -> list[Word]:
    """The query's words. The last is a prefix unless the query ends with a space (the
    shopper finished it)."""
    found = words(text)
    synonyms = synonym_map() if found else {}
    finished = text.endswith((" ", "\u00a0"))
    parsed = []
    for index, word in enumerate(found[:10]):  # a sentence pasted in is cut to 10 words
        term = stem(word)[:64]
        parsed.append(
            Word(
                text=word,
                term=term,
                synonyms=synonyms.get(term, frozenset()),
                prefix=index == len(found) - 1 and not finished and len(word) >= 2,
                edits=allowed_edits(word),
            )
        )
    return parsed


def normalized_query(text: str) -> str:
    """The query as the log keeps it."""
    return normalize(text)[:200]
