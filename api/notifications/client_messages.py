"""What a client may say on ``/ws/events/`` after the handshake, by message type. Apps above
register their handlers when they start (chat registers ``chat.typing``), so this app imports
none of them. A handler is ``async (consumer, content) -> None``; the consumer gives it
``user_id`` and ``send_json``."""

from collections.abc import Awaitable, Callable
from typing import Any

Handler = Callable[[Any, dict[str, Any]], Awaitable[None]]

_handlers: dict[str, Handler] = {}


def register(message_type: str, handler: Handler) -> None:
    _handlers[message_type] = handler


def handler(message_type: str) -> Handler | None:
    return _handlers.get(message_type)
