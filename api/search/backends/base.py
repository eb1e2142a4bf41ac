from abc import ABC, abstractmethod
from dataclasses import dataclass

from search.query import SearchRequest, SearchResult


@dataclass(frozen=True)
class Suggestion:
    text: str
    kind: str  # "product", "category", "store" or "query"
    id: str | None  # the product's or store's id, the category's slug; None for a query


class SearchBackend(ABC):
    """What the catalogue asks of search: ranked, filtered, faceted product ids, and
    suggestions for what a shopper is typing. Backends read the index the feed keeps."""

    name: str

    @abstractmethod
    def search(self, request: SearchRequest) -> SearchResult: ...

    @abstractmethod
    def suggest(self, text: str, *, size: int) -> list[Suggestion]: ...
