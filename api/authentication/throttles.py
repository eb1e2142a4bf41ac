"""Rate limits for the authentication endpoints, on the shared cache (Redis when configured, so
every web process counts together).

DRF throttles limit request rates per IP and per email address; ``LoginFailureLimiter`` counts
only failed logins, so a user who types the right password is never locked out by volume.
"""

import hashlib
import math
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


class IpScopedRateThrottle(ScopedRateThrottle):
    """The view's ``throttle_scope`` rate, per client IP even for signed-in callers."""

    def get_cache_key(self, request: Request, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class EmailRateThrottle(SimpleRateThrottle):
    """``code_request_email``: codes sent to one address, whoever asks for them."""

    scope = "code_request_email"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        email = request.data.get("email") if hasattr(request.data, "get") else None
        if not email and request.user.is_authenticated:
            email = request.user.email
        if not isinstance(email, str) or not email:
            return None
        return self.cache_format % {"scope": self.scope, "ident": _digest(email.strip().lower())}


class LoginFailureLimiter:
    """Fixed-window counters of failed logins per email and per IP."""

    def __init__(self) -> None:
        self.window = int(settings.LOGIN_FAILURE_WINDOW.total_seconds())
        self.limits = {
            "email": settings.LOGIN_FAILURES_PER_EMAIL,
            "ip": settings.LOGIN_FAILURES_PER_IP,
        }

    def _key(self, kind: str, ident: str, now: float) -> str:
        return f"login-failures:{kind}:{_digest(ident)}:{int(now // self.window)}"

    def _idents(self, email: str, ip: str | None) -> dict[str, str]:
        idents = {"email": email.strip().lower()}
        if ip:
            idents["ip"] = ip
        return idents

    def check(self, *, email: str, ip: str | None) -> None:
        """Raises Throttled when either counter is at its limit."""
        now = time.time()
        keys = {
            kind: self._key(kind, ident, now) for kind, ident in self._idents(email, ip).items()
        }
        counts = cache.get_many(list(keys.values()))
        for kind, key in keys.items():
            if counts.get(key, 0) >= self.limits[kind]:
                wait = self.window - (now % self.window)
                raise Throttled(
                    wait=math.ceil(wait), detail="Too many failed sign-in attempts; try later."
                )

    def record_failure(self, *, email: str, ip: str | None) -> None:
        now = time.time()
        for kind, ident in self._idents(email, ip).items():
            key = self._key(kind, ident, now)
            cache.add(key, 0, timeout=self.window + 5)
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, timeout=self.window + 5)

    def reset(self, *, email: str) -> None:
        now = time.time()
        cache.delete(self._key("email", email.strip().lower(), now))
