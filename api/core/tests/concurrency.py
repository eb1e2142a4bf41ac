"""Real parallel work for the concurrency tests (meaningful on MariaDB: SQLite serialises).

Mark such tests ``@pytest.mark.mariadb`` (the root conftest skips them on SQLite) and
``@pytest.mark.django_db(transaction=True)`` (the threads need committed rows to see).
"""

import threading
from collections.abc import Callable
from typing import Any

from django.db import connections


def race(
    count: int,
    work: Callable[[int], Any],
    *,
    while_running: Callable[[list[Any]], None] | None = None,
    timeout: float = 180,
) -> list[Any]:
    """Run ``work(0..count-1)`` in ``count`` threads released together; each thread has its
    own database connection. Returns the results in completion order, exceptions included (to
    assert on). ``while_running(results)`` runs in the calling thread once they are started —
    to hold one racer inside its work until the others have answered, say."""
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
    try:
        if while_running is not None:
            while_running(results)
    finally:
        for thread in threads:
            thread.join(timeout=timeout)
    return results
