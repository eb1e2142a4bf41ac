"""The doorbell: telling a user's open sockets, through the channel layer, that something
happened. Best effort — the channel layer is at-most-once, so what matters is stored first
(``notifications.events``) and sockets catch up from the store.

A ring is a coroutine (``group_send``) started from synchronous code. ``async_to_sync`` would give
each ring a new event loop, a new thread and — with channels-redis, whose connections belong to
a loop — a new Redis connection: at 30 chat messages a second that was a third of the web
process's time. Instead:

* in the web process, HTTP runs on threads beside the ASGI server's loop
  (``core.asgi.ThreadPoolHttp``), which tells this module that loop, and a consumer's database
  work runs on a thread its loop made (``database_sync_to_async``): a ring is handed to that
  loop and the thread goes on without waiting (the loop already holds the layer's connections,
  and the in-memory layer of the embedded mode is only safe from its own loop);
* anywhere else (a Celery worker, a management command, a test) rings go through one
  long-lived loop on a thread of this process, and the caller waits for the send, at most
  ``RING_WAIT_SECONDS``.
"""

import asyncio
import logging
import os
import threading
import time
from concurrent.futures import Future
from typing import Any

from asgiref.sync import SyncToAsync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

USER_EVENT_MESSAGE_TYPE = "user.event"
LAYER_RETRY_SECONDS = 5
RING_WAIT_SECONDS = 5


def user_group(user_id: int) -> str:
    """Short and ASCII, as channel layers require."""
    return f"user.{user_id}"


_layer_down_until = 0.0
_server_loop: asyncio.AbstractEventLoop | None = None
_own_loop: asyncio.AbstractEventLoop | None = None
_own_loop_pid = 0
_own_loop_lock = threading.Lock()


def serve_rings_from(loop: asyncio.AbstractEventLoop) -> None:
    """The ASGI server's loop, on which the web process's rings are sent from now on."""
    global _server_loop
    _server_loop = loop


def _ring_loop() -> tuple[asyncio.AbstractEventLoop, bool]:
    """The loop to send on, and whether it is the server's (then nobody waits for it)."""
    global _own_loop, _own_loop_pid
    # Code that a loop runs on a thread (sync_to_async, database_sync_to_async) rings on it.
    caller = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    if getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None) != os.getpid():
        caller = None
    for loop in (caller, _server_loop):
        if loop is not None and loop.is_running():
            return loop, True
    with _own_loop_lock:
        # A forked child (Celery's prefork pool) inherits the variable, not the thread.
        if _own_loop is None or _own_loop_pid != os.getpid() or _own_loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="rings", daemon=True).start()
            _own_loop, _own_loop_pid = loop, os.getpid()
        return _own_loop, False


def _failed(user_id: int, error: BaseException) -> None:
    global _layer_down_until
    _layer_down_until = time.monotonic() + LAYER_RETRY_SECONDS
    logger.warning(
        "ring for user %s failed; rings pause briefly",
        user_id,
        exc_info=(type(error), error, error.__traceback__),
    )


def ring(user_id: int, message: dict[str, Any]) -> None:
    """Send ``message`` to every open socket of the user. A channel-layer failure is logged,
    never raised into the operation that caused it: the sockets' poll heals a lost ring. After a
    failure the layer is left alone for a few seconds, so Redis down costs one timeout, not one
    per ring."""
    layer = get_channel_layer()
    if layer is None or time.monotonic() < _layer_down_until:
        return
    loop, on_server = _ring_loop()
    sent: Future = asyncio.run_coroutine_threadsafe(
        layer.group_send(user_group(user_id), message), loop
    )

    def done(future: Future) -> None:
        if not future.cancelled() and future.exception() is not None:
            _failed(user_id, future.exception())  # type: ignore[arg-type]

    if on_server:
        sent.add_done_callback(done)
        return
    try:
        sent.result(timeout=RING_WAIT_SECONDS)
    except Exception as error:
        sent.cancel()
        _failed(user_id, error)
