"""Real parallel work for the concurrency tests (meaningful on MariaDB: SQLite serialises)."""

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection, connections

needs_parallel_connections = connection.vendor != "mysql"


def race(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(0..count-1)`` in ``count`` threads released together; each thread has its
    own database connection. Returns the results, exceptions included (to assert on)."""
    start = threading.Barrier(count)
    results: list[Any] = []

    def runner(index: int) -> None:
        try:
            start.wait(timeout=30)
            results.append(work(index))
        except Exception as exc:  # collected and asserted on
            results.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    return results
