"""Readiness probes for what a web node needs: the database, the cache and the Celery broker.

Each probe returns nothing or raises. Failures are logged here with their cause; the HTTP answer
only names the dependency, so no host names or credentials leak to the caller.
"""

import logging
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connections

logger = logging.getLogger(__name__)


def check_databases() -> None:
    for alias in connections:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()


def check_cache() -> None:
    ping = getattr(cache, "ping", None)
    if ping is not None:  # a fail-soft cache would answer from local memory: ask Redis itself
        ping()
        return
    probe_key, probe_value = f"readiness:{uuid.uuid4().hex}", "ok"
    cache.set(probe_key, probe_value, timeout=10)
    try:
        if cache.get(probe_key) != probe_value:
            raise RuntimeError("cache did not return the value just written")
    finally:
        cache.delete(probe_key)


def check_broker() -> None:
    from api.celery import app

    with app.connection_for_write() as connection:
        connection.ensure_connection(
            max_retries=1,
            interval_start=0,
            interval_step=0,
            timeout=settings.READINESS_TIMEOUT_SECONDS,
        )
        # Declaring the default queue (the worker declares it too) is a real round trip on every
        # transport: connecting alone doesn't touch a SQL broker's database.
        channel: Any = connection.default_channel
        channel.queue_declare(queue=app.conf.task_default_queue, passive=False)


def search_status() -> str:
    """``ok``, or ``degraded`` when Elasticsearch is configured but not answering (searches
    then come from the database: the node still serves, so this doesn't fail readiness)."""
    if not settings.ELASTICSEARCH_URL:
        return "ok"
    from search import elastic

    try:
        elastic.guarded(lambda es: es.info())
    except Exception:
        logger.warning("elasticsearch is not answering: search is on the database", exc_info=True)
        return "degraded"
    return "ok"


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_databases,
    "cache": check_cache,
    "broker": check_broker,
}


def readiness_report() -> dict[str, str]:
    """``{dependency: "ok" | "unavailable"}`` for every check, each run even if another failed."""
    report = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception:
            logger.warning("readiness check %s failed", name, exc_info=True)
            report[name] = "unavailable"
        else:
            report[name] = "ok"
    return report
