"""The first-message JWT handshake, written once for every WebSocket.

The client connects, then sends ``{"type": "auth", "token": "<access JWT>", ...}`` as its first
message. A missing, malformed, expired or revoked token — or none within
``auth_timeout_seconds`` — closes the socket with 4401. Tokens never travel in the URL (they
would land in proxy logs) nor in a cookie, so the handshake needs no CSRF protection.

Who is behind a token is not core's business: the check is found through the
``WEBSOCKET_TOKEN_AUTHENTICATOR`` setting (a dotted path to ``(token) -> user id or None``), the
way DRF finds its authentication classes, so core imports no app above it.
"""

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

UNAUTHORIZED = 4401


def token_authenticator() -> Callable[[str], int | None]:
    return import_string(settings.WEBSOCKET_TOKEN_AUTHENTICATOR)


class AuthenticatedJsonWebsocketConsumer(AsyncJsonWebsocketConsumer):
    """Subclasses implement ``on_authenticated`` (join groups, greet) and, if the client may talk
    after the handshake, ``on_message``; everything before that is handled here."""

    auth_timeout_seconds: float = 10
    user_id: int | None = None

    async def connect(self) -> None:
        await self.accept()
        self._auth_deadline = asyncio.get_running_loop().call_later(
            self.auth_timeout_seconds, lambda: asyncio.ensure_future(self._refuse_if_silent())
        )

    async def _refuse_if_silent(self) -> None:
        if self.user_id is None:
            await self.close(code=UNAUTHORIZED)

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        try:
            content = json.loads(text_data or "")
        except ValueError:
            if self.user_id is None:
                await self.close(code=UNAUTHORIZED)
            return  # after the handshake, garbage is ignored rather than fatal
        if self.user_id is None:
            await self._authenticate(content)
        else:
            await self.on_message(content)

    async def _authenticate(self, content: Any) -> None:
        token = content.get("token") if isinstance(content, dict) else None
        if not isinstance(token, str) or content.get("type") != "auth":
            await self.close(code=UNAUTHORIZED)
            return
        user_id = await database_sync_to_async(token_authenticator())(token)
        if user_id is None:
            await self.close(code=UNAUTHORIZED)
            return
        self._auth_deadline.cancel()
        self.user_id = user_id
        await self.on_authenticated(content)

    async def on_authenticated(self, auth_message: dict[str, Any]) -> None:
        """The handshake succeeded (``self.user_id`` is set): join groups, answer ``auth.ok``."""
        raise NotImplementedError

    async def on_message(self, content: Any) -> None:
        """A message after the handshake. Ignored unless a subclass listens."""

    async def disconnect(self, code: int) -> None:
        deadline = getattr(self, "_auth_deadline", None)
        if deadline is not None:
            deadline.cancel()
