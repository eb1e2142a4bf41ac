"""Throttles shared by the apps, on the default cache (Redis when configured, so every web
process counts together)."""

import hashlib
import time
from typing import Any

from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, ScopedRateThrottle, SimpleRateThrottle


def digest(value: str) -> str:
    """A short stable hash, so cache keys carry no email addresses."""
    return hashlib.sha256(value.encode()).hexdigest()[:32]


class IpScopedRateThrottle(ScopedRateThrottle):
    """The view's ``throttle_scope`` rate, per client IP even for signed-in callers."""

    def get_cache_key(self, request: Request, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class EmailRateThrottle(SimpleRateThrottle):
    """``code_request_email``: codes sent to one address, whoever asks for them.

    The address is the body field named by the view's ``throttle_email_field`` (``email`` by
    default); for a signed-in caller without such a field, their own address.
    """

    scope = "code_request_email"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        field = getattr(view, "throttle_email_field", None)
        email: Any
        if field is None and request.user.is_authenticated:
            email = request.user.email
        else:
            data = request.data if hasattr(request.data, "get") else {}
            email = data.get(field or "email")
        if not isinstance(email, str) or not email:
            return None
        return self.cache_format % {"scope": self.scope, "ident": digest(email.strip().lower())}


def count_hit(key: str, window: int) -> int:
    """One more hit on ``key`` in a window of ``window`` seconds; the count so far. One round
    trip on Redis (``FailSoftRedisCache.count_hit``); add + incr on the local-memory cache."""
    counter = getattr(cache, "count_hit", None)
    if counter is not None:
        return int(counter(key, window))
    cache.add(key, 0, window)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between the two calls
        cache.set(key, 1, window)
        return 1


class CallerRateThrottle(BaseThrottle):
    """The default throttle: the ``user`` rate per signed-in user, else the ``anon`` rate per
    client IP — in one cache round trip per request (DRF's Anon + User pair took four: each a
    read and a write of a timestamp list). Fixed windows: a client can reach twice the rate
    across a window boundary, never more."""

    def __init__(self) -> None:
        self.wait_seconds: float | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        if request.user and request.user.is_authenticated:
            scope, ident = "user", str(request.user.pk)
        else:
            scope, ident = "anon", self.get_ident(request)
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(scope)
        if not rate:
            return True
        limit, window = SimpleRateThrottle.parse_rate(None, rate)  # type: ignore[arg-type]
        if limit is None or window is None:
            return True
        now = time.time()
        start = int(now // window * window)
        if count_hit(f"throttle:{scope}:{ident}:{start}", window) <= limit:
            return True
        self.wait_seconds = start + window - now
        return False

    def wait(self) -> float | None:
        return self.wait_seconds
