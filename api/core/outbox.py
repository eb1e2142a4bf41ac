"""Tasks queued through the database: a broker outage delays work, it never fails a request.

``enqueue(task, kwargs, eta=)`` writes an ``OutboxMessage`` in the caller's transaction — a
rollback queues nothing — and hands it to the broker once that commits. The row is written as
handed over (``published_at`` set), since nearly every hand-over succeeds: a success then costs
no second write. If the broker is down the request still succeeds: the rows it didn't take are
marked not handed over, wait in the table, and the relay (a thread in every Celery worker,
``start_relay``) hands them over when the broker is back. The relay also hands over again a
message the broker accepted but lost (Redis restarted without persistence), or that a process
stopped between its commit and the hand-over: one not started ``OUTBOX_REDELIVER_SECONDS``
after it was due.

Each message runs once: the worker claims its row for the Celery task id before running
(``OutboxAwareTask``), so a second copy of a message is skipped, while a redelivery of the same
message after a worker died (same task id, ``acks_late``) runs again. The row is deleted when the
task succeeds or finally fails; a retry keeps it (and its claim) alive.

The Celery app uses ``OutboxAwareTask`` as every task's base (``api.celery``).
"""

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from celery import Task, current_app
from celery.exceptions import Retry
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import F, Min, Q
from django.utils import timezone

from core import metrics
from core.bulk import insert_rows

if TYPE_CHECKING:
    from core.models import OutboxMessage

logger = logging.getLogger(__name__)

HEADER = "outbox_id"


def _messages() -> Any:
    # Imported when used: the Celery app names this module's task class before Django is set up.
    from core.models import OutboxMessage

    return OutboxMessage.objects


_broker_down_until = 0.0  # after a failed hand-over, leave the next ones to the relay a while


def enqueue(task: Task | str, kwargs: Mapping[str, Any], *, eta: datetime | None = None) -> None:
    """Queue ``task(**kwargs)`` (at ``eta``) once the current transaction commits."""
    enqueue_many(task, [kwargs], eta=eta)


def enqueue_many(
    task: Task | str, kwargs_list: Sequence[Mapping[str, Any]], *, eta: datetime | None = None
) -> None:
    """Queue ``task`` once per kwargs: one INSERT however many, one hand-over after commit."""
    enqueue_each([(task, kwargs, eta) for kwargs in kwargs_list])


def enqueue_each(messages: Sequence[tuple[Task | str, Mapping[str, Any], datetime | None]]) -> None:
    """Queue several tasks, each ``(task, kwargs, eta)``, once the current transaction commits:
    one INSERT however many, one hand-over after commit, in the order given."""
    if not messages:
        return
    from core.models import OutboxMessage

    originals = [dict(kwargs) for _, kwargs, _ in messages]
    rows = [
        OutboxMessage(task=task if isinstance(task, str) else task.name, kwargs=kwargs, eta=eta)
        for (task, _, eta), kwargs in zip(messages, originals, strict=True)
    ]
    # Written as handed over: the hand-over after commit undoes that for what the broker refuses.
    now = timezone.now()
    for row in rows:
        row.published_at, row.publish_attempts = now, 1
    columns = [
        "id", "task", "kwargs", "eta", "created_at", "published_at", "publish_attempts",
        "claimed_by", "last_error",
    ]  # fmt: skip
    fields: list[Any] = [OutboxMessage._meta.get_field(column) for column in columns]
    insert_rows(
        OutboxMessage,
        columns,
        [
            tuple(
                field.get_db_prep_save(getattr(row, field.attname), connection) for field in fields
            )
            for row in rows
        ],
    )
    batch = list(zip(rows, originals, strict=True))
    # Eager mode (the test suite) runs the task inside the hand-over: its errors must surface.
    robust = not settings.CELERY_TASK_ALWAYS_EAGER
    transaction.on_commit(lambda: _hand_over(batch, marked=True), robust=robust)


def _hand_over(
    batch: Sequence[tuple["OutboxMessage", Mapping[str, Any]]], *, marked: bool = False
) -> int:
    """Give messages to the broker in order until one is refused; the rest stay for the relay.
    ``marked``: the rows were written as handed over (``enqueue``), so only a refusal writes.
    Returns how many were handed over. Never raises (but in eager mode, a task's own error)."""
    global _broker_down_until
    handed: list[Any] = []
    refused: Any = None
    for message, kwargs in batch:
        if time.monotonic() < _broker_down_until:
            metrics.DEGRADED.labels(dependency="broker").inc()
            break
        try:
            current_app.tasks[message.task].apply_async(
                kwargs=dict(kwargs),
                eta=message.eta,  # type: ignore[arg-type]  # None: at once
                headers={HEADER: str(message.pk)},
                retry=False,
            )
        except Retry:
            # Eager mode (the test suite) ran the task here and it asked to run again later, as
            # a worker would schedule: the message stays claimed, as it would in a worker.
            pass
        except Exception as exc:
            if settings.CELERY_TASK_ALWAYS_EAGER:
                raise  # eager mode runs the task right here: its errors are the task's
            _broker_down_until = time.monotonic() + settings.OUTBOX_BROKER_BACKOFF_SECONDS
            metrics.DEGRADED.labels(dependency="broker").inc()
            logger.warning(
                "broker unavailable; tasks wait in the outbox",
                extra={"task": message.task, "outbox_id": message.pk, "error": type(exc).__name__},
            )
            refused = message.pk
            _messages().filter(pk=message.pk).update(
                **({"published_at": None} if marked else {}),
                publish_attempts=F("publish_attempts") + (0 if marked else 1),
                last_error=str(exc)[:500],
            )
            break
        handed.append(message.pk)
    if marked:
        untried = [m.pk for m, _ in batch[len(handed) :] if m.pk != refused]
        if untried:
            _messages().filter(pk__in=untried).update(published_at=None, publish_attempts=0)
    elif handed:
        _messages().filter(pk__in=handed).update(
            published_at=timezone.now(), publish_attempts=F("publish_attempts") + 1
        )
    return len(handed)


def _due(now: datetime) -> Q:
    redeliver = timedelta(seconds=settings.OUTBOX_REDELIVER_SECONDS)
    lease = timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    never_handed_over = Q(published_at__isnull=True, created_at__lt=now - timedelta(seconds=2))
    lost = (
        Q(published_at__lt=now - redeliver)
        & (Q(eta__isnull=True) | Q(eta__lt=now - redeliver))
        & (Q(started_at__isnull=True) | Q(started_at__lt=now - lease))
    )
    return never_handed_over | lost


def relay(*, batch: int = 100) -> int:
    """Hand over what commit-time hand-over missed or the broker lost. Returns how many."""
    global _broker_down_until
    _broker_down_until = 0.0  # the relay is how we find out the broker is back
    with transaction.atomic():
        due = (
            _messages()
            .select_for_update(skip_locked=True)
            .filter(_due(timezone.now()))
            .order_by("created_at", "pk")[:batch]
        )
        handed = _hand_over([(message, message.kwargs) for message in due])
    if handed:
        logger.info("outbox relay handed tasks to the broker", extra={"count": handed})
    return handed


def backlog() -> tuple[int, datetime | None]:
    """Messages not yet handed to the broker, and when the oldest was written."""
    waiting = _messages().filter(published_at__isnull=True)
    return waiting.count(), waiting.aggregate(oldest=Min("created_at"))["oldest"]


# --- the worker's side ---------------------------------------------------------------------


def _message_id(request: Any) -> str | None:
    value = request.get(HEADER) or (getattr(request, "headers", None) or {}).get(HEADER)
    return str(value) if value is not None else None


def _written_out(sql: str, message_id: str, params: Sequence[Any]) -> int:
    """Run a statement on the outbox table (``{table}``, ``{id}`` for the message's row) and
    return the rows it changed. The worker's claim and release run around every task: written
    out, they cost a fraction of what the ORM spends building them."""
    from core.models import OutboxMessage

    meta = OutboxMessage._meta
    with connection.cursor() as cursor:
        cursor.execute(
            sql.format(table=connection.ops.quote_name(meta.db_table), id="id = %s"),
            [*params, meta.pk.get_db_prep_value(message_id, connection)],
        )
        return int(cursor.rowcount)


def claim(message_id: str, task_id: str) -> bool:
    """Whether this delivery may run the message: nobody else holds it (a claim older than the
    lease is a dead worker's)."""
    now = timezone.now()
    lease = timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    adapt = connection.ops.adapt_datetimefield_value
    return bool(
        _written_out(
            "UPDATE {table} SET claimed_by = %s, started_at = %s "
            "WHERE (claimed_by = '' OR claimed_by = %s OR started_at < %s) AND {id}",
            message_id,
            [task_id, adapt(now), task_id, adapt(now - lease)],
        )
    )


class OutboxAwareTask(Task):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        message_id = _message_id(self.request)
        if message_id is not None and not claim(message_id, str(self.request.id)):
            logger.info(
                "outbox task already run or running; this copy is skipped",
                extra={"task": self.name, "outbox_id": message_id},
            )
            return None
        return super().__call__(*args, **kwargs)


def finished(task: Any = None, state: str | None = None, **kwargs: Any) -> None:
    """task_postrun: success or a final failure ends the message; a retry keeps it."""
    message_id = _message_id(task.request) if task is not None else None
    if message_id is None or state not in ("SUCCESS", "FAILURE"):
        return
    _written_out("DELETE FROM {table} WHERE claimed_by = %s AND {id}", message_id,
                 [str(task.request.id)])  # fmt: skip


def retrying(sender: Any = None, request: Any = None, **kwargs: Any) -> None:
    """task_retry: the claim lives on through the retry's countdown."""
    message_id = _message_id(request) if request is not None else None
    if message_id is not None:
        _messages().filter(pk=message_id).update(started_at=timezone.now())


def start_relay(**kwargs: Any) -> None:
    """worker_ready: a daemon thread relaying every OUTBOX_RELAY_SECONDS."""

    def loop() -> None:
        while True:
            time.sleep(settings.OUTBOX_RELAY_SECONDS)
            try:
                close_old_connections()
                relay()
            except Exception:
                logger.warning("outbox relay round failed", exc_info=True)

    threading.Thread(target=loop, name="outbox-relay", daemon=True).start()
