"""A Celery worker keeps its database connection from task to task, as a web thread keeps its
own from request to request: Celery's Django fixup would close it around every task (a new
MariaDB connection each, which cost more than most tasks), so ``CELERY_DB_REUSE_MAX`` stops it,
and core's task_prerun/postrun handlers apply Django's own policy (``CONN_MAX_AGE``, health
checks) instead."""

from types import SimpleNamespace

import pytest
from celery import current_app
from celery.fixups.django import DjangoWorkerFixup  # type: ignore[attr-defined]
from django.db import connection

from core.apps import _close_old_connections

pytestmark = pytest.mark.django_db(transaction=True)


def _task(*, eager: bool) -> SimpleNamespace:
    return SimpleNamespace(request=SimpleNamespace(is_eager=eager))


def test_celery_leaves_the_connection_open_around_tasks() -> None:
    fixup = DjangoWorkerFixup(current_app)
    connection.ensure_connection()
    opened = connection.connection

    for _ in range(5):  # five tasks
        fixup.on_task_prerun(sender=_task(eager=False))
        fixup.on_task_postrun(sender=_task(eager=False))

    assert connection.connection is opened


@pytest.mark.mariadb  # SQLite's in-memory test database is never closed
def test_a_connection_past_its_age_is_closed_between_tasks_but_not_under_an_eager_one() -> None:
    connection.ensure_connection()
    connection.close_at = 0  # past CONN_MAX_AGE

    _close_old_connections(sender=_task(eager=True))  # eager: inside its caller's transaction
    assert connection.connection is not None

    _close_old_connections(sender=_task(eager=False))
    assert connection.connection is None
