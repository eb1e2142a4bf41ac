"""The user event stream at ``/ws/events/``.

The handshake (first-message JWT, 4401) is ``core.websocket``'s. Then:

1. the socket joins the user's group, so no doorbell rung from here on is missed;
2. it answers ``auth.ok`` with the user's newest ``last_seq``;
3. with ``last_seq`` in the auth message, it replays every stored event after it, in order —
   after ``resync_required`` if that position is older than what is kept;
4. live events follow in seq order: a doorbell carrying the next seq is sent as it is; one
   further ahead means a ring was lost, and the gap is read from the log; an old seq is a
   duplicate and dropped. The per-process poll (``EventPoll``) wakes sockets that are behind
   the log (events made in a worker, in the embedded mode; a lost ring, with Redis).

After the handshake a client may send messages that apps above registered for
(``notifications.client_messages``: ``chat.typing``); anything else is ignored. What they relay
to other sockets is ephemeral (``user.transient``: no seq, never stored).
"""

import asyncio
import logging
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from core.realtime import user_group
from core.websocket import AuthenticatedJsonWebsocketConsumer
from notifications import client_messages, events, presence

logger = logging.getLogger(__name__)

REPLAY_BATCH = 500
WAKE_MESSAGE_TYPE = "events.wake"


def _opened(user_id: int) -> int:
    """A socket of the user authenticated: they are present; their newest seq."""
    presence.mark_present([user_id])
    return events.last_seq(user_id)


class EventPoll:
    """One poll per process, whatever the number of sockets: every EVENTS_POLL_SECONDS, one
    indexed query per 500 connected users reads their newest seq, and each socket found behind
    is woken through its own channel (so it catches up in its own turn, never concurrently)."""

    sockets: dict[str, tuple[int, "EventsConsumer"]] = {}
    task: asyncio.Task | None = None

    @classmethod
    def watch(cls, consumer: "EventsConsumer") -> None:
        assert consumer.user_id is not None
        cls.sockets[consumer.channel_name] = (consumer.user_id, consumer)
        loop = asyncio.get_running_loop()
        if cls.task is None or cls.task.done() or cls.task.get_loop() is not loop:
            cls.task = loop.create_task(cls._run())

    @classmethod
    def forget(cls, consumer: "EventsConsumer") -> None:
        cls.sockets.pop(consumer.channel_name, None)
        if not cls.sockets and cls.task is not None:
            cls.task.cancel()
            cls.task = None

    @classmethod
    async def _run(cls) -> None:
        layer = get_channel_layer()
        heartbeat = 0.0
        while cls.sockets:
            await asyncio.sleep(settings.EVENTS_POLL_SECONDS)
            watched = list(cls.sockets.items())
            if time.monotonic() - heartbeat >= presence.PRESENCE_HEARTBEAT_SECONDS:
                heartbeat = time.monotonic()
                try:
                    await database_sync_to_async(presence.mark_present)(
                        [uid for _, (uid, _) in watched]
                    )
                except Exception:
                    logger.warning("presence heartbeat failed", exc_info=True)
            try:
                heads = await database_sync_to_async(events.heads)(uid for _, (uid, _) in watched)
            except Exception:  # the database away for a moment: try again next round
                logger.warning("event poll failed", exc_info=True)
                continue
            for channel_name, (user_id, consumer) in watched:
                if heads.get(user_id, 0) > consumer.sent_seq:
                    try:
                        await layer.send(channel_name, {"type": WAKE_MESSAGE_TYPE})
                    except Exception:  # a full or closed channel: the next round tries again
                        logger.warning("could not wake a socket", exc_info=True)


class EventsConsumer(AuthenticatedJsonWebsocketConsumer):
    group: str | None = None
    sent_seq: int = 0

    async def on_authenticated(self, auth_message: dict[str, Any]) -> None:
        assert self.user_id is not None
        resume = auth_message.get("last_seq")
        if resume is not None and (not isinstance(resume, int) or resume < 0):
            resume = None  # a client bug must not cost the session: start from now
        self.group = user_group(self.user_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        newest = await database_sync_to_async(_opened)(self.user_id)
        await self.send_json({"type": "auth.ok", "data": {"user_id": self.user_id,
                                                          "last_seq": newest}})  # fmt: skip
        if resume is None:
            self.sent_seq = newest
        else:
            self.sent_seq = resume
            await self._catch_up(announce_resync=True)
        EventPoll.watch(self)
        logger.info("event stream opened", extra={"user_id": self.user_id, "resume": resume})

    async def _catch_up(self, *, announce_resync: bool = False) -> None:
        """Send every stored event after ``sent_seq``, in order."""
        assert self.user_id is not None
        while True:
            replay = await database_sync_to_async(events.events_after)(
                self.user_id, self.sent_seq, limit=REPLAY_BATCH
            )
            if announce_resync and replay.resync_required:
                await self.send_json({"type": "resync_required"})
                if self.sent_seq > replay.last_seq:  # a position from another log: start afresh
                    self.sent_seq = replay.last_seq
                    return
            announce_resync = False
            for event in replay.events:
                await self.send_json(event.as_message())
                self.sent_seq = event.seq
            if len(replay.events) < REPLAY_BATCH:
                return

    async def user_event(self, message: dict[str, Any]) -> None:
        """The doorbell, carrying the event."""
        event = message["event"]
        if event["seq"] <= self.sent_seq:
            return  # already sent (replayed, or a duplicate ring)
        if event["seq"] == self.sent_seq + 1:
            await self.send_json(event)
            self.sent_seq = event["seq"]
        else:  # a ring was lost on the way: the log has what came between
            await self._catch_up()

    async def user_transient(self, message: dict[str, Any]) -> None:
        """Something that isn't kept (someone typing): sent as it is, without a seq."""
        await self.send_json(message["event"])

    async def on_message(self, content: Any) -> None:
        if isinstance(content, dict) and isinstance(content.get("type"), str):
            handler = client_messages.handler(content["type"])
            if handler is not None:
                await handler(self, content)

    async def events_wake(self, message: dict[str, Any]) -> None:
        """The poll found this socket behind the log."""
        await self._catch_up()

    async def disconnect(self, code: int) -> None:
        await super().disconnect(code)
        EventPoll.forget(self)
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)
