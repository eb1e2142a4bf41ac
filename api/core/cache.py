"""The Redis cache, failing soft: Redis down is a slower request, never a 500.

Everything this project keeps in the cache can be recomputed or is a per-process limit: throttle
counters, a sign-in session's revoked flag, Google's certificates, PayPal's access token. So when
Redis doesn't answer, each call goes to a per-process local-memory cache instead — reads miss and
fall through to the database or the provider; throttles keep counting, per process (failing open
to a local limit, not to no limit). After a failure Redis is left alone for
``CACHE_RETRY_SECONDS``, so an outage costs one timeout per process, not one per call.

**One client per process.** Django hands each request context its own cache object under ASGI
(its cache handler is context-local, unlike its database connections), and ``RedisCache`` keeps
its connection pool on that object — so every request opened a new TCP connection to Redis
(measured: 689 connections for 688 throttled requests; the bare view answered 3.7 times as
fast). The Redis client and its pool, the local fallback and the "Redis is down" state are
therefore kept per process (per server and options), shared by every cache object of that
configuration.
"""

import logging
import os
import threading
import time
from typing import Any

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core import metrics

logger = logging.getLogger(__name__)

UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)


class _ReusedClient(RedisCacheClient):
    """Django's Redis cache client makes a ``redis.Redis`` for every call (0.2 ms each: it
    copies some hundred response callbacks), three or four a catalogue read; this one keeps one
    per connection pool (they are thread-safe: each command borrows a pooled connection)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))
        if client is None:
            make = self._client  # type: ignore[attr-defined]  # redis.Redis
            client = self._clients[id(pool)] = make(connection_pool=pool)
        return client


class _Shared:
    """What one process keeps per cache configuration: the Redis client (its connection pool),
    until when Redis is left alone after a failure, and the lock guarding that."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.down_until = 0.0
        self.lock = threading.Lock()


_shared: dict[tuple[Any, ...], _Shared] = {}
_shared_lock = threading.Lock()


class FailSoftRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = dict(params.get("OPTIONS", {}))
        self.retry_seconds = float(options.pop("RETRY_SECONDS", 5))
        super().__init__(server, {**params, "OPTIONS": options})
        servers: list[str] = self._servers  # type: ignore[attr-defined]
        redis_options: dict[str, Any] = self._options  # type: ignore[attr-defined]
        key = (os.getpid(), tuple(servers), repr(sorted(redis_options.items())))
        with _shared_lock:
            shared = _shared.get(key)
            if shared is None:
                client = _ReusedClient(servers, **redis_options)
                shared = _shared[key] = _Shared(client)
        self._shared = shared
        # LocMemCache instances of one name share their storage: one fallback per process.
        name = f"fail-soft-{'-'.join(map(str, key[:2]))}"
        self.local = LocMemCache(name, {"TIMEOUT": params.get("TIMEOUT", 300)})

    @property
    def _cache(self) -> Any:
        return self._shared.client

    @property
    def _down_until(self) -> float:
        return self._shared.down_until

    @_down_until.setter
    def _down_until(self, value: float) -> None:
        self._shared.down_until = value

    @property
    def _lock(self) -> threading.Lock:
        return self._shared.lock

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self._either(
            lambda: getattr(super(FailSoftRedisCache, self), name)(*args, **kwargs),
            lambda: getattr(self.local, name)(*args, **kwargs),
        )

    def _either(self, remote: Any, local: Any) -> Any:
        if time.monotonic() >= self._down_until:
            try:
                return remote()
            except UNAVAILABLE as exc:
                with self._lock:
                    newly_down = time.monotonic() >= self._down_until
                    self._down_until = time.monotonic() + self.retry_seconds
                if newly_down:
                    logger.warning(
                        "cache unavailable; serving from local memory",
                        extra={"error": type(exc).__name__, "retry_seconds": self.retry_seconds},
                    )
        metrics.DEGRADED.labels(dependency="cache").inc()
        return local()

    def count_hit(self, key: str, window: int) -> int:
        """Add one to the counter ``key`` (created to expire after ``window`` seconds) and
        return it, in one round trip to Redis (INCR and EXPIRE NX, pipelined)."""

        def remote() -> int:
            name = self.make_and_validate_key(key)
            pipeline = self._cache.get_client(name, write=True).pipeline(transaction=False)
            pipeline.incr(name)
            pipeline.expire(name, window, nx=True)
            count, _ = pipeline.execute()
            return int(count)

        def local() -> int:
            self.local.add(key, 0, window)
            return int(self.local.incr(key))

        return int(self._either(remote, local))

    def ping(self) -> None:
        """Ask Redis itself, never the fallback (readiness must tell the truth). Raises."""
        self._cache.get_client(write=True).ping()

    def add(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("add", *args, **kwargs)

    def get(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("get", *args, **kwargs)

    def set(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("set", *args, **kwargs)

    def touch(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("touch", *args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("delete", *args, **kwargs)

    def get_many(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("get_many", *args, **kwargs)

    def has_key(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("has_key", *args, **kwargs)

    def incr(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("incr", *args, **kwargs)

    def set_many(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("set_many", *args, **kwargs)

    def delete_many(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("delete_many", *args, **kwargs)

    def clear(self) -> Any:
        self.local.clear()
        return self._call("clear")
