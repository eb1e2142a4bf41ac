"""Throttles shared by the apps, on the default cache (Redis when configured, so every web
process counts together)."""

import hashlib
from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle


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
