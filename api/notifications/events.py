"""The durable, per-user event log behind ``/ws/events/`` and ``GET /api/events/``.

``push_to_user`` stores the event in the caller's transaction, numbered by the user's own
``seq``, then rings the doorbell after commit; nothing rings for work that rolled back. Sockets
deliver in seq order from the doorbell and catch up from the log whenever they see a gap, when
they reconnect with ``last_seq``, and when the per-process poll finds them behind — which is how
events made in a Celery worker reach sockets in the embedded mode, where the in-memory channel
layer can't carry them across processes.

Lock order: the user's stream row is the last lock a transaction takes; events for several
users lock their streams in user-id order (``push_many``, ``push_to_users``).
"""

import json
import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Min
from django.utils import timezone

from core.bulk import insert_rows
from core.realtime import USER_EVENT_MESSAGE_TYPE, ring
from core.serialization import json_safe
from notifications.models import EventStream, UserEvent

logger = logging.getLogger(__name__)


def _advance_streams(counts: Mapping[int, int]) -> dict[int, int]:
    """Add ``counts[user]`` to each user's ``last_seq`` — creating the stream of a user's first
    event — and return the new values. One upsert, rows in user-id order: each stream row is
    locked exclusively at once and stays so until the transaction ends. (An UPDATE, then an
    INSERT when it found no row, deadlocked on MariaDB: two first events both took the shared
    lock of the duplicate key, then both waited to update it.)"""
    users = sorted(counts)
    table = connection.ops.quote_name(EventStream._meta.db_table)
    rows = ", ".join(["(%s, %s)"] * len(users))
    params = [value for user in users for value in (user, counts[user])]
    if connection.vendor == "mysql":
        sql = (
            f"INSERT INTO {table} (user_id, last_seq) VALUES {rows} "  # noqa: S608 - model meta
            "ON DUPLICATE KEY UPDATE last_seq = last_seq + VALUES(last_seq)"
        )
    else:  # SQLite, PostgreSQL
        sql = (
            f"INSERT INTO {table} (user_id, last_seq) VALUES {rows} "  # noqa: S608 - model meta
            "ON CONFLICT (user_id) DO UPDATE SET last_seq = "
            f"{table}.last_seq + excluded.last_seq"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    return dict(EventStream.objects.filter(user_id__in=users).values_list("user_id", "last_seq"))


def _next_seq(user_id: int) -> int:
    """Number the user's next event; the stream row stays locked until the transaction ends.
    ``_advance_streams`` for one user in one statement: the upsert hands back the new value
    (MySQL's ``LAST_INSERT_ID(expr)`` idiom, ``RETURNING`` elsewhere)."""
    table = connection.ops.quote_name(EventStream._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "mysql":
            cursor.execute(
                f"INSERT INTO {table} (user_id, last_seq) VALUES (%s, LAST_INSERT_ID(1)) "  # noqa: S608 - model meta
                "ON DUPLICATE KEY UPDATE last_seq = LAST_INSERT_ID(last_seq + 1)",
                [user_id],
            )
            return int(cursor.lastrowid)
        cursor.execute(
            f"INSERT INTO {table} (user_id, last_seq) VALUES (%s, 1) "  # noqa: S608 - model meta
            f"ON CONFLICT (user_id) DO UPDATE SET last_seq = {table}.last_seq + 1 "
            "RETURNING last_seq",
            [user_id],
        )
        return int(cursor.fetchone()[0])


def push_to_user(user_id: int, type: str, data: Mapping[str, Any]) -> UserEvent:
    """Store event ``type`` for the user now (in the caller's transaction) and push it to their
    open sockets once that commits. ``data`` is encoded at call time (decimals as strings)."""
    with transaction.atomic(savepoint=False):  # no savepoint pair around it: 2 statements
        event = UserEvent(
            user_id=user_id,
            seq=_next_seq(user_id),
            type=type,
            data=json_safe(data),
            created_at=timezone.now(),
        )
        insert_rows(
            UserEvent,
            ["user_id", "seq", "type", "data", "created_at"],
            [(user_id, event.seq, type, json.dumps(event.data), event.created_at)],
        )
    message = {"type": USER_EVENT_MESSAGE_TYPE, "event": event.as_message()}
    transaction.on_commit(lambda: ring(user_id, message))
    return event


def push_many(batch: Iterable[tuple[int, str, Mapping[str, Any]]]) -> list[UserEvent]:
    """Many events (``(user_id, type, data)``) in three statements, whatever their number — for
    sweeps that tell thousands of buyers at once. The streams are locked by one upsert, in
    user-id order; each user's events keep the order given."""
    batch = [(user_id, type, json_safe(data)) for user_id, type, data in batch]
    if not batch:
        return []
    counts = Counter(user_id for user_id, _, _ in batch)
    with transaction.atomic():
        next_seq = {
            user_id: newest - counts[user_id] + 1
            for user_id, newest in _advance_streams(counts).items()
        }
        now = timezone.now()
        rows = []
        for user_id, type, data in batch:
            rows.append(UserEvent(user_id=user_id, seq=next_seq[user_id], type=type, data=data,
                                  created_at=now))  # fmt: skip
            next_seq[user_id] += 1
        insert_rows(
            UserEvent,
            ["user_id", "seq", "type", "data", "created_at"],
            [(e.user_id, e.seq, e.type, json.dumps(e.data), now) for e in rows],
        )
    rings = [(e.user_id, {"type": USER_EVENT_MESSAGE_TYPE, "event": e.as_message()}) for e in rows]

    def ring_all() -> None:
        for user_id, message in rings:
            ring(user_id, message)

    transaction.on_commit(ring_all)
    return rows


def push_to_users(user_ids: Iterable[int], type: str, data: Mapping[str, Any]) -> None:
    """The same event for several users, their streams locked in user-id order."""
    push_many([(user_id, type, data) for user_id in sorted(set(user_ids))])


# --- reading the log ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Replay:
    events: list[UserEvent]
    last_seq: int  # the user's newest seq
    resync_required: bool  # the client's position is older than what is kept (or unknown here)


def last_seq(user_id: int) -> int:
    return (
        EventStream.objects.filter(user_id=user_id).values_list("last_seq", flat=True).first() or 0
    )


def events_after(user_id: int, after_seq: int, *, limit: int = 100) -> Replay:
    """The user's events after ``after_seq``, oldest first, at most ``limit``."""
    newest = last_seq(user_id)
    kept_from = (
        UserEvent.objects.filter(user_id=user_id).aggregate(first=Min("seq"))["first"] or newest + 1
    )
    events = list(
        UserEvent.objects.filter(user_id=user_id, seq__gt=after_seq).order_by("seq")[:limit]
    )
    return Replay(
        events=events,
        last_seq=newest,
        resync_required=after_seq + 1 < kept_from or after_seq > newest,
    )


def heads(user_ids: Iterable[int]) -> dict[int, int]:
    """``{user_id: last_seq}`` for users that have any event: one indexed query per 500."""
    ids = sorted(set(user_ids))
    found: dict[int, int] = {}
    for start in range(0, len(ids), 500):
        found.update(
            EventStream.objects.filter(user_id__in=ids[start : start + 500]).values_list(
                "user_id", "last_seq"
            )
        )
    return found


def prune_events(*, now: Any = None, batch: int = 5000) -> int:
    """Delete events older than EVENTS_KEEP_HOURS that are not among their user's newest
    EVENTS_KEEP_LAST; in batches, so no transaction holds many rows. Returns how many."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.EVENTS_KEEP_HOURS)
    deleted = 0
    for user_id, newest in EventStream.objects.filter(
        last_seq__gt=settings.EVENTS_KEEP_LAST
    ).values_list("user_id", "last_seq"):
        while True:
            ids = list(
                UserEvent.objects.filter(
                    user_id=user_id,
                    created_at__lt=cutoff,
                    seq__lte=newest - settings.EVENTS_KEEP_LAST,
                ).values_list("pk", flat=True)[:batch]
            )
            if not ids:
                break
            deleted += UserEvent.objects.filter(pk__in=ids).delete()[0]
    if deleted:
        logger.info("pruned events", extra={"count": deleted})
    return deleted


def rewrite_stored(
    *, user_ids: Iterable[int], types: Iterable[str], data_id: Any, data: Mapping[str, Any]
) -> int:
    """Replace the ``data`` of the users' stored events of these types whose ``data["id"]`` is
    ``data_id`` (what was said and then deleted or hidden must not be replayed). The events keep
    their seq; nothing is pushed. Returns how many were rewritten."""
    found = list(
        UserEvent.objects.filter(
            user_id__in=sorted(set(user_ids)), type__in=list(types), data__id=data_id
        )
    )
    for event in found:
        event.data = json_safe(data)
    UserEvent.objects.bulk_update(found, ["data"], batch_size=500)
    return len(found)
