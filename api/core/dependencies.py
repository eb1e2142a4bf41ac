"""A dependency that is down is a 503 with ``Retry-After``, never a 500.

``down_dependency(exc)`` says whether an exception means the database, Redis or the broker is
unreachable or out of capacity (rather than a bug), and which. The API's exception handler and
the last-resort ``handler500`` (admin, pages, middleware) both answer those 503 in the error
shape, with a structured log line and a metric. Everything else stays a 500: a missing table or
a syntax error is a bug to see, not an outage to wait out.
"""

import logging

from django.db import DatabaseError, InterfaceError, OperationalError

from core import metrics

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5

# MySQL/MariaDB error numbers that mean "not now" rather than "wrong": can't connect (2002,
# 2003), gone away / lost mid-query (2006, 2013), out of connections (1040, 1203, 1226), lock
# wait timeout (1205), server shutting down (1053), read-only failover (1290, 1836).
_MYSQL_UNAVAILABLE = {1040, 1053, 1203, 1205, 1226, 1290, 1836, 2002, 2003, 2006, 2013}
_SQLITE_UNAVAILABLE = ("database is locked", "unable to open database file", "disk i/o error")


def _database_down(exc: DatabaseError) -> bool:
    if isinstance(exc, InterfaceError):
        return True  # the connection object is unusable (closed under us)
    if not isinstance(exc, OperationalError):
        return False
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
    if code is not None:
        return code in _MYSQL_UNAVAILABLE
    text = str(exc).lower()
    return any(phrase in text for phrase in _SQLITE_UNAVAILABLE)


def down_dependency(exc: BaseException | None) -> str | None:
    """'database', 'redis' or 'broker' if ``exc`` (or what caused it) means that one is down."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, DatabaseError) and _database_down(exc):
            return "database"
        module = type(exc).__module__
        if module.startswith("redis.") and type(exc).__name__ in (
            "ConnectionError",
            "TimeoutError",
            "BusyLoadingError",
        ):
            return "redis"
        if module.startswith(("kombu.", "amqp.")) and type(exc).__name__ == "OperationalError":
            return "broker"
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


def unavailable_payload() -> dict:
    return {
        "code": "unavailable",
        "message": "The service is briefly unavailable; retry shortly.",
        "details": {"retry_after": RETRY_AFTER_SECONDS},
    }


def record_unavailable(dependency: str, *, path: str, exc: BaseException) -> None:
    metrics.UNAVAILABLE.labels(dependency=dependency).inc()
    logger.warning(
        "dependency unavailable",
        extra={
            "status_code": 503,
            "dependency": dependency,
            "path": path,
            "error": f"{type(exc).__name__}: {str(exc)[:200]}",
        },
    )
