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
