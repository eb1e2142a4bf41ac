"""This process's copy of the search documents — what filters, facets and ranking read for each
matching document (stock, store, prices and offer, facet keys) — so that a search matching
thousands of products doesn't read thousands of rows for them. The postings stay in the
database; the copy holds ``SEARCH_MEMORY_DOCUMENTS`` documents at most (about 420 bytes each),
and above that the backend reads them per search.

It follows the index through ``IndexLog``: each index write logs the documents it touched, in
write order, in the writer's transaction (DESIGN.md's "one feed"). Before each search the copy
reads the log past the last row it applied (one indexed statement, usually empty) and re-reads
those documents. It is rebuilt whole when it can't be sure to catch up: never built, idle longer
than the log is kept, too far behind, or its last applied row is no longer the log's (a
restored database; tests that roll back).
"""

import gc
import logging
import threading
import time
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.conf import settings

from search.models import FACET_SEPARATOR, IndexLog, SearchDocument

logger = logging.getLogger(__name__)

FREEZE_FROM = 10_000  # copies this large are frozen out of the garbage collector's reach
CATCH_UP_ROWS = 2_000  # log rows applied one by one; more and the copy is rebuilt
# An idle copy older than this may have missed pruned log rows (kept LOG_KEEP_SECONDS).
CATCH_UP_SECONDS = IndexLog.LOG_KEEP_SECONDS - 600
COLUMNS = (
    "pk", "in_stock", "store_id", "price", "offer_price", "offer_starts_at", "offer_ends_at",
    "facet_keys",
)  # fmt: skip


# Facet keys (``facet_key(facet, value)``) as small integers, the same in every search of this
# process: a document's keys are then a tuple of ints, which the cyclic garbage collector stops
# tracking — 100,000 copied documents holding sets of strings made every full collection walk
# them (tens of milliseconds, inside whichever request it fell on).
_key_ids: dict[str, int] = {}
_key_names: list[str] = []
_key_lock = threading.Lock()


def key_id(key: str) -> int | None:
    """The number of a facet key this process has seen; None if it hasn't (nothing has it)."""
    return _key_ids.get(key)


def key_name(number: int) -> str:
    return _key_names[number]


def key_ids(raw: str) -> tuple[int, ...]:
    """``SearchDocument.facet_keys`` as numbers."""
    if not raw:
        return ()
    found = []
    for key in raw.split(FACET_SEPARATOR):
        number = _key_ids.get(key)
        if number is None:
            with _key_lock:
                number = _key_ids.get(key)
                if number is None:  # named before it is numbered: readers never miss it
                    number = len(_key_names)
                    _key_names.append(key)
                    _key_ids[key] = number
        found.append(number)
    return tuple(found)


# A copied document, as a plain tuple (a NamedTuple would stay tracked by the collector):
# (in_stock, store, price, offer_price, offer_starts_at, offer_ends_at, facet key numbers).
Entry = tuple[bool, int, Decimal, Decimal | None, datetime | None, datetime | None, tuple[int, ...]]


def _entries(rows: Iterable[tuple]) -> dict[int, Entry]:
    return {
        pk: (in_stock, store, price, offer_price, starts, ends, key_ids(keys))
        for pk, in_stock, store, price, offer_price, starts, ends, keys in rows
    }


class Replica:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: dict[int, Entry] | None = None
        self.last: tuple[int, int, datetime] | None = None  # the last log row applied
        self.synced_at = 0.0
        self.too_large = False  # the index held more than the limit when last counted

    def reset(self) -> None:
        with self.lock:
            self.entries, self.last, self.synced_at, self.too_large = None, None, 0.0, False

    def current(self, limit: int) -> dict[int, Entry] | None:
        """The copy, caught up with the log; None when the index holds more than ``limit``
        (counted again after CATCH_UP_SECONDS)."""
        with self.lock:
            now = time.monotonic()
            if self.synced_at and now - self.synced_at > CATCH_UP_SECONDS:
                self.entries, self.too_large = None, False
            if self.too_large:
                return None
            if self.entries is None or not self._catch_up():
                self._rebuild(limit)
            self.synced_at = now
            return self.entries

    def _catch_up(self) -> bool:
        """Apply the log past the last row applied; False when only a rebuild will do."""
        after = self.last[0] if self.last else 0
        rows = list(
            IndexLog.objects.filter(pk__gte=after)
            .order_by("pk")
            .values_list("pk", "document_id", "created_at")[: CATCH_UP_ROWS + 2]
        )
        if self.last is not None:
            if not rows or rows[0] != self.last:
                return False  # the row we stopped at is gone or another one: not our log
            rows = rows[1:]
        if len(rows) > CATCH_UP_ROWS:
            return False
        if rows:
            assert self.entries is not None
            ids = {document_id for _, document_id, _ in rows}
            fresh = _entries(SearchDocument.objects.filter(pk__in=ids).values_list(*COLUMNS))
            for pk in ids:
                if pk in fresh:
                    self.entries[pk] = fresh[pk]
                else:
                    self.entries.pop(pk, None)
            self.last = rows[-1]
        return True

    def _rebuild(self, limit: int) -> None:
        # The log's head first: a write landing meanwhile is in both, and applying it again
        # does no harm.
        self.last = (
            IndexLog.objects.order_by("-pk").values_list("pk", "document_id", "created_at").first()
        )
        if SearchDocument.objects.count() > limit:
            self.entries, self.too_large = None, True
            return
        started = time.monotonic()
        self.entries = _entries(
            SearchDocument.objects.values_list(*COLUMNS).iterator(chunk_size=5_000)
        )
        if len(self.entries) >= FREEZE_FROM:
            # Out of the cyclic collector's reach, like what the process loaded at start
            # (api/asgi.py): full collections walked the copy inside whichever request they
            # fell on (120 ms for 50,000 documents). What a rebuild replaces is freed by
            # reference counting (tuples of atoms hold no cycles).
            gc.freeze()
        logger.info(
            "search documents copied into memory",
            extra={
                "documents": len(self.entries),
                "ms": round((time.monotonic() - started) * 1000),
            },
        )


_replica = Replica()


def documents() -> dict[int, Entry] | None:
    """This process's copy of the search documents, caught up; None when disabled
    (``SEARCH_MEMORY_DOCUMENTS`` 0) or the index is larger than that."""
    limit = settings.SEARCH_MEMORY_DOCUMENTS
    if limit <= 0:
        return None
    return _replica.current(limit)


def reset() -> None:
    """Forget the copy (the next search rebuilds it)."""
    _replica.reset()
