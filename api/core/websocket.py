"""The first-message JWT handshake, written once for every WebSocket.

The client connects, then sends ``{"type": "auth", "token": "<access JWT>", ...}`` as its first
message. A missing, malformed, expired or revoked token — or none within
``auth_timeout_seconds`` — closes the socket with 4401. Tokens never travel in the URL (they
would land in proxy logs) nor in a cookie, so the handshake needs no CSRF protection.

Who is behind a token is not core's business: the check is found through the
``WEBSOCKET_TOKEN_AUTHENTICATOR`` setting (a dotted path to ``(token) -> SocketIdentity or
None``), the way DRF finds its authentication classes, so core imports no app above it.
"""

import asyncio
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import validate_host
from django.utils.module_loading import import_string

from core import dependencies, metrics

logger = logging.getLogger(__name__)

UNAUTHORIZED = 4401
TRY_AGAIN_LATER = 1013
# Sent to a user's group when tokens die: {"type", "session": id} for one sign-in session
# (signed out, a refresh token reused), {"type", "all": true} for all (password changed).
SESSION_REVOKED = "session.revoked"


@dataclass(frozen=True)
class SocketIdentity:
    """Who a token stands for, as the handshake needs it."""

    user_id: int
    session: str = ""  # the sign-in session the token belongs to, if it says
    expires_at: float | None = None  # unix time: the socket closes then unless re-authenticated


def token_authenticator() -> Callable[[str], SocketIdentity | None]:
    return import_string(settings.WEBSOCKET_TOKEN_AUTHENTICATOR)


class AuthenticatedJsonWebsocketConsumer(AsyncJsonWebsocketConsumer):
    """Subclasses implement ``on_authenticated`` (join groups, greet) and, if the client may talk
    after the handshake, ``on_message``; everything before that is handled here.

    A socket lives no longer than its token: it closes with 4401 when the token expires, unless
    the client sends a fresh one first (``{"type": "auth", "token": ...}`` again, answered
    ``auth.renewed``), and at once when its sign-in session is revoked (``session.revoked`` on
    the user's group: signed out, password changed)."""

    auth_timeout_seconds: float = 10
    user_id: int | None = None
    identity: SocketIdentity | None = None
    _expiry: asyncio.TimerHandle | None = None

    async def connect(self) -> None:
        await self.accept()
        self._auth_deadline = asyncio.get_running_loop().call_later(
            self.auth_timeout_seconds, lambda: asyncio.ensure_future(self._refuse_if_silent())
        )

    async def _refuse_if_silent(self) -> None:
        if self.user_id is None:
            await self.refuse("no_auth_in_time")

    async def refuse(self, reason: str) -> None:
        """Close with 4401, and say why in the log and the metrics (never the token)."""
        metrics.WEBSOCKETS_REFUSED.labels(reason=reason).inc()
        logger.warning(
            "websocket refused",
            extra={"reason": reason, "user_id": self.user_id, "path": self.scope.get("path")},
        )
        await self.close(code=UNAUTHORIZED)

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        try:
            content = json.loads(text_data or "")
        except (ValueError, RecursionError):  # garbage, or nested past what json can parse
            if self.user_id is None:
                await self.refuse("malformed")
            return  # after the handshake, garbage is ignored rather than fatal
        if self.user_id is None:
            await self._authenticate(content)
        elif isinstance(content, dict) and content.get("type") == "auth":
            await self._renew(content)
        else:
            await self.on_message(content)

    async def _identify(self, content: Any) -> SocketIdentity | None:
        token = content.get("token") if isinstance(content, dict) else None
        if not isinstance(token, str) or content.get("type") != "auth":
            return None
        return await database_sync_to_async(token_authenticator())(token)

    def _close_at_expiry(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        assert self.identity is not None
        if self.identity.expires_at is not None:
            delay = max(self.identity.expires_at - time.time(), 0)
            self._expiry = asyncio.get_running_loop().call_later(
                delay, lambda: asyncio.ensure_future(self.refuse("token_expired"))
            )

    async def _authenticate(self, content: Any) -> None:
        try:
            identity = await self._identify(content)
            if identity is None:
                await self.refuse("bad_token")
                return
            self._auth_deadline.cancel()
            self.identity, self.user_id = identity, identity.user_id
            metrics.WEBSOCKETS_OPEN.inc()
            self._close_at_expiry()
            await self.on_authenticated(content)
        except Exception as exc:
            dependency = dependencies.down_dependency(exc)
            if dependency is None:
                raise
            # The socket's 503: "try again later" (RFC 6455's 1013), and the client reconnects
            # with last_seq, losing nothing.
            dependencies.record_unavailable(dependency, path=self.scope.get("path", ""), exc=exc)
            await self.close(code=TRY_AGAIN_LATER)

    async def _renew(self, content: Any) -> None:
        identity = await self._identify(content)
        if identity is None or identity.user_id != self.user_id:
            await self.refuse("bad_renewal")
            return
        self.identity = identity
        self._close_at_expiry()
        await self.send_json({"type": "auth.renewed", "data": {"expires_at": identity.expires_at}})

    async def session_revoked(self, message: dict[str, Any]) -> None:
        """The user's tokens died: this socket goes if it was opened with one of them."""
        if self.identity is None:
            return
        if message.get("all") or (
            message.get("session") and message["session"] == self.identity.session
        ):
            await self.refuse("session_revoked")

    async def on_authenticated(self, auth_message: dict[str, Any]) -> None:
        """The handshake succeeded (``self.user_id`` is set): join groups, answer ``auth.ok``."""
        raise NotImplementedError

    async def on_message(self, content: Any) -> None:
        """A message after the handshake. Ignored unless a subclass listens."""

    async def disconnect(self, code: int) -> None:
        for timer in (getattr(self, "_auth_deadline", None), self._expiry):
            if timer is not None:
                timer.cancel()
        if self.identity is not None:
            metrics.WEBSOCKETS_OPEN.dec()
            self.identity = None


def origin_allowed(origin: str, host: str) -> bool:
    """A browser page may open a socket from the API's own host, an origin in
    ``CORS_ALLOWED_ORIGINS``, or one matching ``CORS_ALLOWED_ORIGIN_REGEXES`` (local SPAs in
    development) — the same origins that may call the API."""
    if origin in settings.CORS_ALLOWED_ORIGINS:
        return True
    if any(re.match(pattern, origin) for pattern in settings.CORS_ALLOWED_ORIGIN_REGEXES):
        return True
    parsed = urlsplit(origin)
    return (
        bool(parsed.netloc)
        and parsed.netloc.lower() == host.lower()
        and (validate_host(parsed.hostname or "", settings.ALLOWED_HOSTS))
    )


class OriginValidator:
    """ASGI middleware for the WebSocket routes. A handshake without ``Origin`` is a native app
    or a server (auth is the bearer token in the first message, not a cookie, so there is
    nothing for another site to ride on) and goes through; a browser's ``Origin`` must be
    allowed (``origin_allowed``) or the handshake is refused with 403."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket":
            headers = dict(scope.get("headers") or [])
            origin = headers.get(b"origin")
            if origin is not None:
                value = origin.decode("latin1")
                host = headers.get(b"host", b"").decode("latin1")
                if not origin_allowed(value, host):
                    metrics.WEBSOCKETS_REFUSED.labels(reason="origin").inc()
                    logger.warning(
                        "websocket refused: origin not allowed",
                        extra={"origin": value[:200], "path": scope.get("path")},
                    )
                    return await WebsocketDenier()(scope, receive, send)
        return await self.app(scope, receive, send)
