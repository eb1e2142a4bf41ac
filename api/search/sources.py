"""Where documents come from. The search app imports no domain app (DESIGN.md): the catalogue
registers a source when it starts (``products.apps``), and the feed asks it for documents.

A document is a dict: ``id, name, description, store_id, store_name, categories`` (``[(slug,
name)]`` from the root down to the product's own), ``tags`` (``[(slug, name)]``), ``sizes``
(names), ``price, offer_price, offer_starts_at, offer_ends_at, in_stock, created_at`` and
``stamp`` (anything that changes when the document would).
"""

from collections.abc import Iterator, Sequence
from typing import Any, Protocol


class DocumentSource(Protocol):
    def documents(self, ids: Sequence[int]) -> list[dict[str, Any]]:
        """Documents of the products among ``ids`` that are on sale (the others: none)."""
        ...

    def ids_of(self, kind: str, object_id: int) -> list[int]:
        """The product ids a store or category change concerns."""
        ...

    def stamps(self) -> Iterator[tuple[int, str]]:
        """Every product on sale with its stamp, for the reconciler."""
        ...

    def follow(self, ids: Sequence[int]) -> None:
        """Bring the source's own read models up to these products' current state: the drain
        calls it with each batch it rewrote, in the same turn."""
        ...


_source: DocumentSource | None = None


def register(source: DocumentSource) -> None:
    global _source
    _source = source


def source() -> DocumentSource:
    assert _source is not None, "no document source registered (products.apps registers one)"
    return _source
