"""The doorbell: telling a user's open sockets, through the channel layer, that something
happened. Best effort — the channel layer is at-most-once, so what matters is stored first
(``notifications.events``) and sockets catch up from the store."""

import logging
import time
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

USER_EVENT_MESSAGE_TYPE = "user.event"


def user_group(user_id: int) -> str:
    """Short and ASCII, as channel layers require."""
    return f"user.{user_id}"


_layer_down_until = 0.0
LAYER_RETRY_SECONDS = 5


def ring(user_id: int, message: dict[str, Any]) -> None:
    """Send ``message`` to every open socket of the user now. A channel-layer failure is logged,
    never raised into the operation that caused it: the sockets' poll heals a lost ring. After a
    failure the layer is left alone for a few seconds, so Redis down costs one timeout, not one
    per ring."""
    global _layer_down_until
    layer = get_channel_layer()
    if layer is None or time.monotonic() < _layer_down_until:
        return
    try:
        async_to_sync(layer.group_send)(user_group(user_id), message)
    except Exception:
        _layer_down_until = time.monotonic() + LAYER_RETRY_SECONDS
        logger.warning("ring for user %s failed; rings pause briefly", user_id, exc_info=True)
