"""The cache fails soft: with Redis not answering, reads miss, writes land in local memory,
counters keep counting (throttles hold a per-process limit), and nothing raises. A closed port
is a real refusal by the real client; the integration tier stops a real Redis."""

import socket

from core.cache import FailSoftRedisCache


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens once the socket closes


def cache_on(url: str) -> FailSoftRedisCache:
    return FailSoftRedisCache(
        url,
        {"OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1, "RETRY_SECONDS": 60}},
    )


def test_with_redis_down_the_cache_serves_from_local_memory():
    cache = cache_on(f"redis://127.0.0.1:{closed_port()}/0")

    assert cache.get("certs") is None
    cache.set("certs", {"kid": "pem"}, 30)
    assert cache.get("certs") == {"kid": "pem"}
    assert cache.add("throttle", 0, 60) is True
    assert [cache.incr("throttle") for _ in range(3)] == [1, 2, 3]
    cache.delete_many(["certs"])
    assert cache.get_many(["certs", "throttle"]) == {"throttle": 3}


def test_after_a_failure_redis_is_left_alone_until_the_retry_window_ends(monkeypatch):
    cache = cache_on(f"redis://127.0.0.1:{closed_port()}/0")
    tried = []
    original = cache._cache.get_client

    def counting(*args, **kwargs):
        tried.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(cache._cache, "get_client", counting)
    for _ in range(5):
        cache.get("key")
    assert len(tried) == 1

    cache._down_until = 0  # the window has passed
    cache.get("key")
    assert len(tried) == 2


def test_every_request_context_shares_one_client_one_fallback_and_one_outage():
    """Under ASGI each request context gets its own cache object: they must share the Redis
    connection pool (else a TCP connection per request), the local fallback and the pause."""
    url = f"redis://127.0.0.1:{closed_port()}/0"
    first, second = cache_on(url), cache_on(url)  # two requests' cache objects

    assert first._cache is second._cache
    first.get("key")  # Redis refuses: the process leaves it alone for the retry window
    assert second._down_until == first._down_until > 0
    first.set("certs", "pem", 30)
    assert second.get("certs") == "pem"  # the fallback is the process's, not the request's
    assert cache_on(f"redis://127.0.0.1:{closed_port()}/1")._cache is not first._cache


def test_requests_in_a_running_server_reuse_their_redis_connections(settings):
    """Many requests through Django's own handler (a new context each): the cache objects they
    get all use one client."""
    import asyncio

    from django.core.cache import caches

    seen = set()

    async def request() -> None:
        seen.add(id(caches["default"]._cache))

    async def many() -> None:
        await asyncio.gather(*(asyncio.create_task(request()) for _ in range(20)))

    asyncio.run(many())
    assert len(seen) == 1
