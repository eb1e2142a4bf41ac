"""The doorbell: telling a user's open sockets, through the channel layer, that something
happened. Best effort — the channel layer is at-most-once, so what matters is stored first
(``notifications.events``) and sockets catch up from the store."""

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

USER_EVENT_MESSAGE_TYPE = "user.event"


def user_group(user_id: int) -> str:
    """Short and ASCII, as channel layers require."""
    return f"user.{user_id}"


def ring(user_id: int, message: dict[str, Any]) -> None:
    """Send ``message`` to every open socket of the user now. A channel-layer failure is logged,
    never raised into the operation that caused it: the sockets' poll heals a lost ring."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(user_group(user_id), message)
    except Exception:
        logger.exception("ring for user %s failed", user_id)
