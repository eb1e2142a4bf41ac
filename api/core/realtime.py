"""Real-time push to a user's open WebSocket sessions, through the channel layer.

Consumers of the user event stream join ``user_group(user_id)`` and forward messages of type
``user.event`` to the client as ``{"type": ..., "data": {...}}``.
"""

import logging
from collections.abc import Mapping
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from core.serialization import json_safe

logger = logging.getLogger(__name__)

USER_EVENT_MESSAGE_TYPE = "user.event"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def push_to_user(user_id: int, type: str, data: Mapping[str, Any]) -> None:
    """Send event ``type`` with ``data`` to every open session of the user, after commit.

    Inside a transaction nothing is sent until it commits, and nothing at all if it rolls back,
    so clients never hear about state that didn't happen. Delivery is best effort: a channel
    layer failure is logged, never raised into the business operation that caused the event.
    """
    # Encode now: the payload must be JSON-safe (decimals, datetimes) and must not change if
    # the caller mutates ``data`` before commit.
    payload = {
        "type": USER_EVENT_MESSAGE_TYPE,
        "event": {"type": type, "data": json_safe(data)},
    }
    transaction.on_commit(lambda: _send(user_id, type, payload))


def _send(user_id: int, type: str, payload: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(user_group(user_id), payload)
    except Exception:
        logger.exception("push of %s to user %s failed", type, user_id)
