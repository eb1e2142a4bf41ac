"""Celery: Redis as the broker when there is one, else a SQLite file that a real worker and beat
poll (about once a second). The beat schedule is declared here and written into
django-celery-beat's tables when beat starts."""

import importlib.util
from urllib.parse import urlsplit

from celery.schedules import crontab

from api.settings.environment import VAR_DIR, env, misconfigured
from api.settings.redis import REDIS_URL

# Set but empty counts as unset (the Makefile's test targets blank it).
CELERY_BROKER_URL = (
    env("CELERY_BROKER_URL", default="")
    or REDIS_URL
    or f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}"
)
_scheme = urlsplit(CELERY_BROKER_URL).scheme
if _scheme not in ("redis", "rediss", "sqla+sqlite", "amqp", "amqps", "memory", "filesystem"):
    raise misconfigured(
        "CELERY_BROKER_URL",
        f"{_scheme}:// is not a broker Sudamall runs on.",
        "Use redis://… or leave it unset.",
    )
if _scheme == "sqla+sqlite":
    if importlib.util.find_spec("sqlalchemy") is None:
        raise misconfigured(
            "CELERY_BROKER_URL", "the SQLite broker needs SQLAlchemy.", "Run `make install`."
        )
    VAR_DIR.mkdir(parents=True, exist_ok=True)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
if _scheme in ("redis", "rediss"):
    # Unacknowledged messages return to the queue after this; longer than any ETA we schedule.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True  # tasks report through the database, not a result backend
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_TIME_LIMIT = 300
# The task outbox (core.outbox): after a failed hand-over, leave hand-overs to the relay this
# long; the relay's period; a message accepted but not started this long after it was due is
# handed over again; a claim older than the lease is a dead worker's.
OUTBOX_BROKER_BACKOFF_SECONDS = env.float("OUTBOX_BROKER_BACKOFF_SECONDS", default=10)
OUTBOX_RELAY_SECONDS = env.float("OUTBOX_RELAY_SECONDS", default=5)
OUTBOX_REDELIVER_SECONDS = env.int("OUTBOX_REDELIVER_SECONDS", default=300)
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=900)
# Celery's Django fixup closes every database connection before and after each task unless
# this is set: a new MariaDB connection a task cost more than most tasks (6 ms of the worker's
# CPU and 4 of the server's). Connections follow CONN_MAX_AGE and its health checks instead,
# closed when obsolete or unusable around each task (core.apps), as web requests do.
CELERY_DB_REUSE_MAX = 2**31
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task leaves the message for another
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "purge-expired-idempotency-keys": {
        "task": "ops.tasks.purge_expired_idempotency_keys",
        "schedule": crontab(minute="17"),
    },
    # The payment window's safety net: expiry tasks run at each deadline, this catches the rest.
    "expire-due-checkouts": {
        "task": "orders.tasks.expire_due_checkouts_task",
        "schedule": 60.0,
    },
    # Events no socket can resume from any more (older than a day and beyond the newest 1000).
    "prune-events": {
        "task": "notifications.tasks.prune_events_task",
        "schedule": crontab(minute="41"),
    },
    # Sign-in sessions and refresh-token records past their last refresh token's lifetime.
    "prune-sign-in-sessions": {
        "task": "authentication.tasks.prune_sign_in_sessions_task",
        "schedule": crontab(hour="3", minute="23"),
    },
    # Open payments past their window, and webhook events a lost message left behind.
    "payments-sweep": {
        "task": "payments.tasks.payments_sweep_task",
        "schedule": 60.0,
    },
    # Search: the index feed's safety net (a lost kick), drift repair, suggestions, the log.
    # Email: retries whose backoff is over and dispatches whose task message was lost; campaigns.
    "send-due-email": {"task": "notifications.tasks.send_due_email_task", "schedule": 30.0},
    "run-campaigns": {"task": "notifications.tasks.run_campaigns_task", "schedule": 30.0},
    # Listed prices follow offers' starts and ends (each scheduled to its second by this).
    "offer-prices": {
        "task": "products.tasks.flip_offer_prices_task",
        "schedule": 60.0,
        "kwargs": {"sweep": True},
    },
    "search-drain": {"task": "search.tasks.drain_index_feed_task", "schedule": 30.0},
    "search-reconcile": {"task": "search.tasks.reconcile_index_task", "schedule": 600.0},
    "search-popular-queries": {
        "task": "search.tasks.refresh_popular_queries_task",
        "schedule": crontab(minute="7"),
    },
    "search-prune-log": {
        "task": "search.tasks.prune_search_log_task",
        "schedule": crontab(hour="4", minute="13"),
    },
}
