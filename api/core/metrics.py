"""Prometheus metrics every layer records into; ``ops`` serves them (``GET /metrics``).

With several processes (web processes, the worker, beat) each writes its samples to files in
``PROMETHEUS_MULTIPROC_DIR`` and the endpoint sums them; ``make run`` and the Procfile set it.
Gauges say how they combine across processes (``multiprocess_mode``).
"""

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

REQUESTS = Counter(
    "sudamall_http_requests",
    "HTTP requests answered, by route pattern, method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "sudamall_http_request_seconds",
    "Time from a request reaching Django to its response, by route pattern.",
    ["route"],
    buckets=LATENCY_BUCKETS,
)
QUEUE_WAIT = Histogram(
    "sudamall_http_queue_wait_seconds",
    "Time a request waited for a free thread (and so a database connection).",
    buckets=LATENCY_BUCKETS,
)
THREADS = Gauge(
    "sudamall_http_threads",
    "Request threads, each holding at most one database connection: the pool's size.",
    multiprocess_mode="livesum",
)
THREADS_BUSY = Gauge(
    "sudamall_http_threads_busy",
    "Request threads (and database connections) in use now.",
    multiprocess_mode="livesum",
)
REFUSED = Counter(
    "sudamall_http_refused",
    "Requests answered 503 before reaching a view, by reason.",
    ["reason"],
)
UNAVAILABLE = Counter(
    "sudamall_dependency_unavailable",
    "Requests answered 503 because a dependency was down, by dependency.",
    ["dependency"],
)
DEGRADED = Counter(
    "sudamall_dependency_fallbacks",
    "Calls served by a fallback because a dependency failed (the cache, the broker).",
    ["dependency"],
)
DB_CONNECTIONS_OPENED = Counter(
    "sudamall_db_connections_opened",
    "Database connections opened; flat once every thread holds its own.",
)
WEBSOCKETS_OPEN = Gauge(
    "sudamall_websockets_open",
    "WebSocket connections open now.",
    multiprocess_mode="livesum",
)
WEBSOCKETS_REFUSED = Counter(
    "sudamall_websockets_refused",
    "WebSocket connections refused or closed for authentication, by reason.",
    ["reason"],
)
TASKS = Counter(
    "sudamall_celery_tasks",
    "Celery tasks finished, by task and outcome (succeeded, failed, retried).",
    ["task", "outcome"],
)
