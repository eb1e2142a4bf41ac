"""The user event stream at ``/ws/events/``.

The client's first message must be ``{"type": "auth", "token": "<access JWT>"}``; a missing,
malformed, expired or revoked token — or none within ``AUTH_TIMEOUT_SECONDS`` — closes the socket
with code 4401. Once authenticated the socket joins the user's group and receives every event
``core.realtime.push_to_user`` sends, as ``{"type": ..., "data": {...}}``.
"""

import asyncio
import json
import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from core.realtime import user_group

logger = logging.getLogger(__name__)

UNAUTHORIZED = 4401
AUTH_TIMEOUT_SECONDS = 10


@database_sync_to_async
def _user_for_token(token: str) -> User | None:
    try:
        access = AccessToken(token)  # type: ignore[arg-type]
    except TokenError:
        return None
    user = User.objects.filter(pk=access.get("user_id"), is_active=True).first()
    if user is None or access.get("ver", 0) != user.token_version:
        return None
    return user


class EventsConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None

    async def connect(self) -> None:
        await self.accept()
        self._auth_deadline = asyncio.get_running_loop().call_later(
            AUTH_TIMEOUT_SECONDS, lambda: asyncio.ensure_future(self._refuse())
        )

    async def _refuse(self) -> None:
        if self.group is None:
            await self.close(code=UNAUTHORIZED)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        token = content.get("token") if isinstance(content, dict) else None
        if not isinstance(token, str) or content.get("type") != "auth":
            await self.close(code=UNAUTHORIZED)
            return
        user = await _user_for_token(token)
        if user is None:
            await self.close(code=UNAUTHORIZED)
            return
        self._auth_deadline.cancel()
        self.group = user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.send_json({"type": "auth.ok", "data": {"user_id": user.pk}})
        logger.info("event stream opened", extra={"user_id": user.pk})

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        if self.group is not None:
            return  # the stream is server to client; anything else the client says is ignored
        try:
            content = json.loads(text_data or "")
        except ValueError:
            await self.close(code=UNAUTHORIZED)
            return
        await self.receive_json(content)

    async def user_event(self, message: dict[str, Any]) -> None:
        await self.send_json(message["event"])

    async def disconnect(self, code: int) -> None:
        deadline = getattr(self, "_auth_deadline", None)
        if deadline is not None:
            deadline.cancel()
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)
