"""HTTP under the ASGI server: Django's WSGI handler on a fixed pool of threads.

Django's own ASGI handler gives every request a new thread, and with it a new database
connection: a burst of 200 requests opened 200 connections and MariaDB refused those past its
limit (500s). Here a process runs at most ``WEB_THREADS`` requests at a time, each thread keeps
its connection (``CONN_MAX_AGE``), and so a process never holds more than ``WEB_THREADS``
connections for HTTP (plus one for its WebSockets, whose database work channels runs on one
thread). Requests beyond that wait — an asyncio queue costs nothing — and one that has waited
``WEB_QUEUE_SECONDS`` is answered 503 with ``Retry-After``, never a 500.

A request's body is read whole before it may take a thread (a slow upload must not hold one),
and refused with 413 as soon as it passes its limit: ``WEB_MAX_BODY_BYTES`` for a file upload
(multipart), Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` for anything else (JSON).

The WSGI translation itself is a2wsgi's.
"""

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from a2wsgi import WSGIMiddleware

from core import metrics, realtime

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


async def send_error(
    send: Send,
    status: int,
    code: str,
    message: str,
    *,
    headers: tuple[tuple[bytes, bytes], ...] = (),
) -> None:
    """An answer in API.md's error shape, written straight to the ASGI server."""
    body = json.dumps({"code": code, "message": message, "details": {}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyTooLarge(Exception):
    pass


class ClientGone(Exception):
    pass


async def read_body(receive: Receive, *, limit: int) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge()
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


class ThreadPoolHttp:
    def __init__(
        self,
        wsgi_app: Callable[..., Any],
        *,
        threads: int,
        queue_seconds: float,
        max_body_bytes: int,
        max_form_bytes: int | None = None,
        retry_after_seconds: int = 5,
    ) -> None:
        self.threads = threads
        self.queue_seconds = queue_seconds
        self.max_body_bytes = max_body_bytes
        self.max_form_bytes = max_form_bytes or max_body_bytes
        self.retry_after = str(retry_after_seconds).encode()
        self.wsgi = WSGIMiddleware(wsgi_app, workers=threads)
        self._slots: asyncio.Semaphore | None = None
        self.busy = 0  # requests holding a thread now

    def slots(self) -> asyncio.Semaphore:
        # Made on first use, inside the server's event loop — which also sends the rings the
        # request threads make (core.realtime).
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.threads)
            realtime.serve_rings_from(asyncio.get_running_loop())
        return self._slots

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        headers = dict(scope.get("headers", []))
        # File uploads come as multipart; every other body (JSON) is held to the smaller limit.
        multipart = headers.get(b"content-type", b"").startswith(b"multipart/form-data")
        limit = self.max_body_bytes if multipart else self.max_form_bytes
        try:
            too_large = int(headers.get(b"content-length", b"0")) > limit
        except ValueError:
            await send_error(send, 400, "bad_request", "Content-Length is not a number.")
            return
        try:
            if too_large:
                raise BodyTooLarge()
            body = await read_body(receive, limit=limit)
        except BodyTooLarge:
            logger.warning("request body too large", extra={"path": scope.get("path")})
            await send_error(send, 413, "too_large", "The request body is too large.")
            return
        except ClientGone:
            return

        queued_at = time.monotonic()
        slots = self.slots()
        try:
            await asyncio.wait_for(slots.acquire(), timeout=self.queue_seconds)
        except TimeoutError:
            metrics.REFUSED.labels(reason="queue_timeout").inc()
            logger.warning(
                "request refused: every thread busy",
                extra={
                    "status_code": 503,
                    "path": scope.get("path"),
                    "waited_ms": round((time.monotonic() - queued_at) * 1000),
                    "threads": self.threads,
                },
            )
            await send_error(
                send,
                503,
                "overloaded",
                "The server is busy; retry shortly.",
                headers=((b"retry-after", self.retry_after),),
            )
            return
        metrics.QUEUE_WAIT.observe(time.monotonic() - queued_at)
        self.busy += 1
        metrics.THREADS_BUSY.set(self.busy)
        try:
            await self.wsgi(scope, _replay(body, receive), send)  # type: ignore[arg-type]
        finally:
            self.busy -= 1
            metrics.THREADS_BUSY.set(self.busy)
            slots.release()


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body already read, then whatever the server says next (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
