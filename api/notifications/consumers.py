"""The user event stream at ``/ws/events/``.

The handshake (first-message JWT, 4401) is ``core.websocket``'s. Once authenticated the socket
joins the user's group and receives every event ``core.realtime.push_to_user`` sends, as
``{"type": ..., "data": {...}}``; anything the client says afterwards is ignored.
"""

import logging
from typing import Any

from core.realtime import user_group
from core.websocket import AuthenticatedJsonWebsocketConsumer

logger = logging.getLogger(__name__)


class EventsConsumer(AuthenticatedJsonWebsocketConsumer):
    group: str | None = None

    async def on_authenticated(self, auth_message: dict[str, Any]) -> None:
        assert self.user_id is not None
        self.group = user_group(self.user_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.send_json({"type": "auth.ok", "data": {"user_id": self.user_id}})
        logger.info("event stream opened", extra={"user_id": self.user_id})

    async def user_event(self, message: dict[str, Any]) -> None:
        await self.send_json(message["event"])

    async def disconnect(self, code: int) -> None:
        await super().disconnect(code)
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)
