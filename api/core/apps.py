from typing import Any

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from celery import signals as celery_signals
        from django.db.backends.signals import connection_created

        connection_created.connect(_connection_opened, dispatch_uid="core.metrics.db")
        celery_signals.task_success.connect(_task_succeeded, dispatch_uid="core.metrics.ok")
        celery_signals.task_failure.connect(_task_failed, dispatch_uid="core.metrics.failed")
        celery_signals.task_retry.connect(_task_retried, dispatch_uid="core.metrics.retry")

        celery_signals.task_prerun.connect(_close_old_connections, dispatch_uid="core.db.pre")
        celery_signals.task_postrun.connect(_close_old_connections, dispatch_uid="core.db.post")

        from core import outbox

        celery_signals.task_postrun.connect(outbox.finished, dispatch_uid="core.outbox.done")
        celery_signals.task_retry.connect(outbox.retrying, dispatch_uid="core.outbox.retry")
        celery_signals.worker_ready.connect(outbox.start_relay, dispatch_uid="core.outbox.relay")


def _close_old_connections(sender: Any = None, **kwargs: Any) -> None:
    """Around each task, what Django does around each request: close a connection past
    ``CONN_MAX_AGE`` or left unusable, keep the others (``CELERY_DB_REUSE_MAX`` stops Celery
    from closing them all). Not for eager tasks, which run inside their caller's transaction."""
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()


def _connection_opened(**kwargs: Any) -> None:
    from core import metrics

    metrics.DB_CONNECTIONS_OPENED.inc()


def _task_name(sender: Any) -> str:
    return str(getattr(sender, "name", sender))


def _task_succeeded(sender: Any = None, **kwargs: Any) -> None:
    from core import metrics

    metrics.TASKS.labels(task=_task_name(sender), outcome="succeeded").inc()


def _task_failed(sender: Any = None, **kwargs: Any) -> None:
    from core import metrics

    metrics.TASKS.labels(task=_task_name(sender), outcome="failed").inc()


def _task_retried(sender: Any = None, request: Any = None, **kwargs: Any) -> None:
    from core import metrics

    metrics.TASKS.labels(task=str(getattr(request, "task", sender)), outcome="retried").inc()
