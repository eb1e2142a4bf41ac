"""Redis (``REDIS_URL``): the cache here; the broker and the channel layer in their modules.
Without it, a per-process local-memory cache."""

from urllib.parse import urlsplit, urlunsplit

from api.settings.environment import env, misconfigured

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL and urlsplit(REDIS_URL).scheme not in ("redis", "rediss", "unix"):
    raise misconfigured(
        "REDIS_URL", f"{REDIS_URL.split(':')[0]}:// is not Redis.", "Use redis://host:6379/0."
    )


def redis_db_url(url: str, offset: int) -> str:
    """The same server with the database index moved by ``offset``.

    The cache lives in its own Redis database so that clearing it (``cache.clear()`` is a
    FLUSHDB) can never drop queued Celery tasks or channel-layer messages.
    """
    parts = urlsplit(url)
    index = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{index + offset}"))


if REDIS_URL:
    CACHES = {
        "default": {
            # Redis down: calls go to a per-process local cache for CACHE_RETRY_SECONDS.
            "BACKEND": "core.cache.FailSoftRedisCache",
            "LOCATION": env("REDIS_CACHE_URL", default=redis_db_url(REDIS_URL, 1)),
            "KEY_PREFIX": "sudamall",
            "OPTIONS": {
                "socket_connect_timeout": 1,
                "socket_timeout": 1,
                "RETRY_SECONDS": env.float("CACHE_RETRY_SECONDS", default=5),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
