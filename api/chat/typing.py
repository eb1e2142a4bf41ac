"""``{"type": "chat.typing", "conversation_id": N}`` from a client on ``/ws/events/``: relayed
to the conversation's other participants as ``chat.typing`` (never stored), at most every
CHAT_TYPING_EVERY_SECONDS per socket and conversation, and at most 5 frames a second per
socket in all. A conversation the sender isn't in, or one blocked, is ignored, as are malformed
messages; past a rate the client gets an error frame with ``retry_after``."""

import time
from typing import Any

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from chat.models import Conversation, Side
from core.realtime import user_group

FRAMES_PER_SECOND = 5
MAX_REMEMBERED = 200


def _recipients(user_id: int, conversation_id: int) -> tuple[str, list[int]] | None:
    conversation = Conversation.objects.filter(pk=conversation_id).select_related("store").first()
    if conversation is None:
        return None
    from chat.services import pair_blocked, store_members

    if pair_blocked(buyer_id=conversation.buyer_id, store_id=conversation.store_id):
        return None
    owners = store_members(conversation.store)
    if user_id == conversation.buyer_id:
        return Side.BUYER, owners
    if user_id in owners:
        return Side.STORE, [conversation.buyer_id]
    return None


async def handle(consumer: Any, content: dict[str, Any]) -> None:
    conversation_id = content.get("conversation_id")
    if not isinstance(conversation_id, int) or isinstance(conversation_id, bool):
        return
    sent: dict[int, float] = consumer.__dict__.setdefault("_typing_sent", {})
    now = time.monotonic()
    # However many conversations a socket names, it is answered at most FRAMES_PER_SECOND
    # times a second (each costs a database read), and remembers at most MAX_REMEMBERED.
    window = consumer.__dict__.setdefault("_typing_window", [now, 0])
    if now - window[0] >= 1:
        window[0], window[1] = now, 0
    window[1] += 1
    if window[1] > FRAMES_PER_SECOND:
        retry = round(max(0.1, 1 - (now - window[0])), 1)
        await consumer.send_json({"type": "error", "code": "throttled", "retry_after": retry})
        return
    if len(sent) > MAX_REMEMBERED:
        sent.clear()
    wait = sent.get(conversation_id, 0) + settings.CHAT_TYPING_EVERY_SECONDS - now
    if wait > 0:
        await consumer.send_json(
            {"type": "error", "code": "throttled", "retry_after": round(wait, 1)}
        )
        return
    sent[conversation_id] = now
    found = await database_sync_to_async(_recipients)(consumer.user_id, conversation_id)
    if found is None:
        return
    side, recipients = found
    event = {
        "type": "chat.typing",
        "data": {
            "conversation_id": conversation_id,
            "role": side,
            "expires_in": settings.CHAT_TYPING_EXPIRES_SECONDS,
        },
    }
    layer = get_channel_layer()
    for user_id in recipients:
        try:
            await layer.group_send(user_group(user_id), {"type": "user.transient", "event": event})
        except Exception:  # best effort: a typing dot isn't worth an error
            return
