"""Sign-in sessions: the family of a first refresh token and all its rotations.

Revoking a session is immediate everywhere: its refresh tokens can't be rotated; its access
tokens are refused by the REST API (a cache flag, kept as long as an access token lives — one
cache read per request) and by the socket handshake (the database, which is authoritative); and
its open sockets are told to close (4401) through the channel layer, after commit.
"""

import logging
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from authentication.models import SignInSession
from core.realtime import ring
from core.websocket import SESSION_REVOKED

logger = logging.getLogger(__name__)


def _cache_key(session_id: str) -> str:
    return f"sign-in-session-revoked:{session_id}"


def start(*, user_id: int) -> SignInSession:
    return SignInSession.objects.create(user_id=user_id)


def refreshed(*, session_id: str) -> None:
    """A new refresh token of the session was issued: it lives on as long as that one does."""
    SignInSession.objects.filter(pk=session_id).update(refreshed_at=timezone.now())


def revoke(*, session_id: str, reason: str) -> bool:
    """Returns whether it was live. Its sockets close after commit."""
    revoked = SignInSession.objects.filter(pk=session_id, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_reason=reason
    )
    user_id = SignInSession.objects.filter(pk=session_id).values_list("user_id", flat=True).first()
    lifetime = settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()

    def announce() -> None:
        cache.set(_cache_key(session_id), True, timeout=int(lifetime) + 60)
        if user_id is not None:
            ring(user_id, {"type": SESSION_REVOKED, "session": session_id})

    transaction.on_commit(announce)
    if revoked:
        logger.info("sign-in session revoked", extra={"user_id": user_id, "reason": reason})
    return bool(revoked)


def is_revoked_cached(session_id: str | None) -> bool:
    """For every REST request: a cache read, no query."""
    return bool(session_id) and bool(cache.get(_cache_key(str(session_id))))


def is_live(session_id: str | None) -> bool:
    """For a socket handshake: the database decides. Tokens from before sessions existed carry
    no ``sid`` and rely on the token version alone."""
    if not session_id:
        return True
    try:
        uuid.UUID(str(session_id))
    except ValueError:
        return False
    return SignInSession.objects.filter(pk=session_id, revoked_at__isnull=True).exists()


def prune() -> int:
    """Sessions none of whose refresh tokens can still be used, and the expired refresh-token
    records simplejwt leaves behind (its blacklist goes with them). Returns sessions deleted."""
    now = timezone.now()
    refresh_lifetime = settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"]
    # A revoked session's flag must outlive its access tokens, which the cache holds anyway.
    deleted, _ = SignInSession.objects.filter(refreshed_at__lt=now - refresh_lifetime).delete()
    OutstandingToken.objects.filter(expires_at__lt=now).delete()
    return deleted
