"""Settings for the test suite: ``api.settings`` plus what tests need to be fast and hermetic.

The database and Redis still come from the environment, so the same suite runs on the embedded
default (SQLite, local cache, in-memory channel layer) and on MariaDB + Redis.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key-that-is-at-least-32-bytes-long-0123456789")
os.environ.setdefault("LOG_TO_FILE", "false")
os.environ.setdefault("STATIC_MANIFEST", "false")
os.environ.setdefault("WHITENOISE_USE_FINDERS", "true")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("GOOGLE_CLIENT_IDS", "sudamall-test.apps.googleusercontent.com")
# The test gateway is off in production; the suite pays with it. Stripe and PayPal are served
# by local fakes (payments/tests/fakes.py), configured per test.
os.environ.setdefault("PAYMENT_TEST_GATEWAY_ENABLED", "true")
os.environ.setdefault("PAYMENT_TEST_WEBHOOK_SECRET", "whsec_test_suite_secret")
os.environ.setdefault("PAYMENT_KEY_PREFIX", "sudamall")  # keys the tests can spell out

# pytest-xdist workers share the Redis server: each gets its own pair of database indexes (layer
# and broker, cache), so one worker's cache.clear() or throttle counters never reach another.
# The integration stacks use indexes 12 and 13.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker.startswith("gw") and os.environ.get("REDIS_URL"):
    from urllib.parse import urlsplit, urlunsplit

    if int(_worker[2:]) > 5:
        raise RuntimeError("at most 6 xdist workers share one Redis (run with --maxprocesses=6)")
    _redis = urlsplit(os.environ["REDIS_URL"])
    _index = int(_redis.path.strip("/") or 0) + 2 * int(_worker[2:])
    os.environ["REDIS_URL"] = urlunsplit(_redis._replace(path=f"/{_index}"))

from api.settings.base import *  # noqa: E402, F403
from api.settings.base import DATABASES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # In memory: each test database lives and dies with its connection.
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}

# Connections close after each request as before: a test's threads must not leave them open.
DATABASES["default"]["CONN_MAX_AGE"] = 0

# Tests read their own writes at once; core/tests/test_http_cache.py turns the cache on.
CATALOGUE_CACHE_SECONDS = 0
