"""Rate limits for the authentication endpoints, on the shared cache (Redis when configured, so
every web process counts together).

DRF throttles limit request rates per IP and per email address; ``LoginFailureLimiter`` counts
only failed logins, so a user who types the right password is never locked out by volume.
"""

import contextlib
import math
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.exceptions import Throttled

from core.throttles import digest as _digest


class LoginFailureLimiter:
    """Fixed-window counters of failed logins per email and per IP.

    An attempt is counted *before* the password is checked and uncounted if it succeeds, so a
    burst of parallel guesses can't all slip in before the first failure is recorded.
    """

    def __init__(self) -> None:
        self.window = int(settings.LOGIN_FAILURE_WINDOW.total_seconds())
        self.limits = {
            "email": settings.LOGIN_FAILURES_PER_EMAIL,
            "ip": settings.LOGIN_FAILURES_PER_IP,
        }

    def _keys(self, email: str, ip: str | None, now: float) -> dict[str, str]:
        idents = {"email": email.strip().lower()}
        if ip:
            idents["ip"] = ip
        window = int(now // self.window)
        return {
            kind: f"login-failures:{kind}:{_digest(ident)}:{window}"
            for kind, ident in idents.items()
        }

    def _incr(self, key: str) -> int:
        cache.add(key, 0, timeout=self.window + 5)
        try:
            return int(cache.incr(key))
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=self.window + 5)
            return 1

    def begin(self, *, email: str, ip: str | None) -> None:
        """Count an attempt. Raises Throttled when a counter was already at its limit."""
        now = time.time()
        keys = self._keys(email, ip, now)
        counts = {kind: self._incr(key) for kind, key in keys.items()}
        if any(counts[kind] > self.limits[kind] for kind in keys):
            for key in keys.values():
                self._decr(key)  # a refused attempt isn't a failure
            wait = self.window - (now % self.window)
            raise Throttled(
                wait=math.ceil(wait), detail="Too many failed sign-in attempts; try later."
            )

    def succeeded(self, *, email: str, ip: str | None) -> None:
        """Uncount the attempt; a success also clears the email's failures."""
        keys = self._keys(email, ip, time.time())
        cache.delete(keys["email"])
        if "ip" in keys:
            self._decr(keys["ip"])

    def _decr(self, key: str) -> None:
        with contextlib.suppress(ValueError):  # the window rolled over meanwhile
            cache.decr(key)
