"""Fixed-window counters on the shared cache: how many messages a user sends a minute, how many
conversations a buyer opens an hour. Over the limit → DRF's Throttled (429 + Retry-After)."""

import time

from rest_framework.exceptions import Throttled

from core.throttles import count_hit


def take(name: str, *, limit: int, window: int) -> None:
    """Count one against ``name``'s current window (one cache round trip); raises Throttled
    past ``limit``."""
    now = time.time()
    start = int(now // window * window)
    used = count_hit(f"chat:limit:{name}:{start}", window + 5)
    if used > limit:
        raise Throttled(wait=max(1, int(start + window - now) + 1))
