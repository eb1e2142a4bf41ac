"""Fixed-window counters on the shared cache: how many messages a user sends a minute, how many
conversations a buyer opens an hour. Over the limit → DRF's Throttled (429 + Retry-After)."""

import time

from django.core.cache import cache
from rest_framework.exceptions import Throttled


def take(name: str, *, limit: int, window: int) -> None:
    """Count one against ``name``'s current window; raises Throttled past ``limit``."""
    now = time.time()
    start = int(now // window * window)
    key = f"chat:limit:{name}:{start}"
    cache.add(key, 0, window + 5)
    try:
        used = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window + 5)
        used = 1
    if used > limit:
        raise Throttled(wait=max(1, int(start + window - now) + 1))
