"""The web process: how many requests it serves at once, how long others may wait, how large a
body it reads (``core.asgi``), and how long database connections live.

A web process holds at most ``WEB_THREADS`` database connections for HTTP, plus one for its
WebSockets: with N processes, keep N * (WEB_THREADS + 1) plus the worker's under the database's
``max_connections`` (MariaDB: 151 by default).
"""

from api.settings.environment import env, misconfigured

# 0: Django's own ASGI handler, a thread and a database connection per request in flight,
# unbounded (bench/burst.py's baseline; not for production).
WEB_THREADS = env.int("WEB_THREADS", default=8)
WEB_QUEUE_SECONDS = env.float("WEB_QUEUE_SECONDS", default=10.0)
# The largest body any endpoint takes (a 10 MB image upload); JSON bodies are held to
# DATA_UPLOAD_MAX_MEMORY_SIZE by Django long before this.
WEB_MAX_BODY_BYTES = env.int("WEB_MAX_BODY_BYTES", default=12 * 1024 * 1024)
if WEB_THREADS < 0 or WEB_QUEUE_SECONDS <= 0 or WEB_MAX_BODY_BYTES < 1024:
    raise misconfigured(
        "WEB_THREADS",
        "WEB_QUEUE_SECONDS and WEB_MAX_BODY_BYTES must be positive, WEB_THREADS not negative.",
        "Leave them unset for the defaults (8 threads, 10 s, 12 MiB).",
    )
# Each request thread keeps its connection DB_CONN_MAX_AGE seconds (300; checked before reuse):
# see api.settings.database.

# GET /metrics answers a scraper sending "Authorization: Bearer <METRICS_TOKEN>" (and staff
# signed in to the admin); with no token it is open only with DEBUG on.
METRICS_TOKEN = env("METRICS_TOKEN", default="")

# Anonymous catalogue reads are shared for this long (0 turns it off): core/http_cache.py.
CATALOGUE_CACHE_SECONDS = env.int("CATALOGUE_CACHE_SECONDS", default=1)

# bench/ceiling.py mounts a bare-framework ceiling view under /bench/ with this on (ops.bench).
BENCH_CEILING = env.bool("BENCH_CEILING", default=False)
