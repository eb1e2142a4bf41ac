"""The index feed (DESIGN.md's "one feed"): catalogue services report a change in their own
transaction, a worker drains the reports into the index, a beat reconciler repairs drift.

``changed(kind, ids)`` writes ``IndexChange`` rows beside the change itself: a rollback reports
nothing, a commit can't be lost. After commit the drain is kicked (a Celery task); if the broker
misses it, the beat's drain (every 30 s) picks the rows up. The drain is set-based and safe to run
in several workers at once: each takes rows nobody else holds (``skip_locked``) and documents are
rewritten whole from the catalogue's current state, so the last writer writes the truth.
"""

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from core.bulk import insert_rows
from search import index, sources
from search.models import (
    ElasticsearchPending,
    IndexChange,
    IndexLog,
    IndexWriter,
    SearchDocument,
)

logger = logging.getLogger(__name__)

BATCH = 500


def changed(kind: str, ids: Iterable[int]) -> None:
    """Report products (or a store's or category's products) changed, in the caller's
    transaction."""
    rows = sorted(set(ids))
    if not rows:
        return
    now = timezone.now()
    insert_rows(IndexChange, ["kind", "object_id", "created_at"], [(kind, pk, now) for pk in rows])
    transaction.on_commit(_kick, robust=not settings.CELERY_TASK_ALWAYS_EAGER)


KICK_SECONDS = 1


def _kick() -> None:
    """Ask a worker to drain, at most once a second per deployment: the drain runs a second
    after the first change of that second, so it takes all of that second's changes."""
    from search.tasks import drain_index_feed_task

    eager = settings.CELERY_TASK_ALWAYS_EAGER
    if not eager and not cache.add("search:drain-kicked", 1, KICK_SECONDS):
        return
    try:
        drain_index_feed_task.apply_async(retry=False, countdown=0 if eager else KICK_SECONDS)
    except Exception:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            raise
        # The broker is away: the beat's drain (or the next kick) takes these rows.
        logger.warning("could not kick the search index drain", exc_info=True)


def _product_ids(changes: list[IndexChange]) -> set[int]:
    ids: set[int] = set()
    source = sources.source()
    for change in changes:
        if change.kind == IndexChange.Kind.PRODUCT:
            ids.add(change.object_id)
        else:
            ids.update(source.ids_of(change.kind, change.object_id))
            if change.kind == IndexChange.Kind.STORE:
                # Products no longer on sale are found through the index, not the source.
                ids.update(
                    SearchDocument.objects.filter(store_id=change.object_id).values_list(
                        "pk", flat=True
                    )
                )
    return ids


def lock_writer() -> None:
    """Take the index writer's turn (until the transaction ends). The row exists (a migration
    made it): two first drains creating it at once deadlocked on MariaDB's insert locks."""
    turn = IndexWriter.objects.select_for_update().filter(pk=1).values_list("pk", flat=True)
    if turn.first() is None:  # a test database flushed of its rows
        IndexWriter.objects.get_or_create(pk=1)
        turn.first()


def reindex(ids: Iterable[int]) -> int:
    """Rewrite these products' documents from the catalogue (removing those not on sale). The
    caller holds the writer's turn (``lock_writer``) in its transaction."""
    wanted = sorted(set(ids))
    source = sources.source()
    documents = source.documents(wanted)
    index.write(documents)
    index.remove(set(wanted) - {doc["id"] for doc in documents})
    IndexLog.objects.bulk_create([IndexLog(document_id=pk) for pk in wanted])
    if settings.ELASTICSEARCH_URL and wanted:
        ElasticsearchPending.objects.bulk_create(
            [ElasticsearchPending(document_id=pk) for pk in wanted], ignore_conflicts=True
        )
    return len(wanted)


def drain(*, batch: int = BATCH) -> int:
    """Apply every reported change to the index. Returns how many products were rewritten."""
    rewritten = 0
    while True:
        with transaction.atomic():
            lock_writer()
            changes = list(
                IndexChange.objects.select_for_update(skip_locked=True).order_by(
                    "created_at", "id"
                )[:batch]
            )
            if not changes:
                break
            ids = _product_ids(changes)
            rewritten += reindex(ids)
            IndexChange.objects.filter(pk__in=[c.pk for c in changes]).delete()
        # The catalogue's own read models follow, outside the writer's turn: their rows stay
        # locked only for their own statement, never behind a whole batch.
        sources.source().follow(sorted(ids))
    # Also when nothing was rewritten: documents a failed sync left pending (the cluster was
    # down, a 429) go out with the next drain, at the latest the beat's in 30 s.
    if settings.ELASTICSEARCH_URL and (rewritten or ElasticsearchPending.objects.exists()):
        from search import elastic

        elastic.sync()
    return rewritten


def reconcile() -> dict[str, int]:
    """Repair drift: products on sale missing from the index or indexed in another state are
    rewritten; documents of products no longer on sale are removed."""
    indexed = dict(SearchDocument.objects.values_list("pk", "stamp"))
    stale: list[int] = []
    seen: set[int] = set()
    for pk, stamp in sources.source().stamps():
        seen.add(pk)
        if indexed.get(pk) != stamp:
            stale.append(pk)
    gone = [pk for pk in indexed if pk not in seen]
    for start in range(0, len(stale), BATCH):
        with transaction.atomic():
            lock_writer()
            reindex(stale[start : start + BATCH])
        sources.source().follow(stale[start : start + BATCH])
    if gone:
        with transaction.atomic():
            lock_writer()
            reindex(gone)
        sources.source().follow(gone)
    if (stale or gone) and settings.ELASTICSEARCH_URL:
        from search import elastic

        elastic.sync()
    if stale or gone:
        logger.info("search index repaired", extra={"rewritten": len(stale), "removed": len(gone)})
    IndexLog.objects.filter(
        created_at__lt=timezone.now() - timedelta(seconds=IndexLog.LOG_KEEP_SECONDS)
    ).delete()
    return {"rewritten": len(stale), "removed": len(gone)}
