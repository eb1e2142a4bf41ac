"""``/ws/autocomplete/``: suggestions as the shopper types, anonymous allowed.

Send ``{"query": "sand", "size": 10}``, receive ``{"query": "sand", "suggestions": [...]}`` —
what ``GET /api/search/suggest/`` answers; the query is echoed so a client can drop answers to
what it no longer shows. Queries that arrive while one is being answered are coalesced: only
the newest is answered. Bad input gets ``{"code": "invalid", "message", "details"}`` and the
socket stays open; 60 s without a message closes it (1000).
"""

import asyncio
import json
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from core import dependencies
from core.throttles import count_hit
from core.websocket import TRY_AGAIN_LATER
from search import services
from search.serializers import SuggestionSerializer, SuggestQuerySerializer

IDLE_SECONDS = 60


def _throttled(scope: dict[str, Any]) -> int:
    """The ``suggest`` rate per client IP, shared with ``GET /api/search/suggest/``: seconds to
    wait, or 0."""
    rate = api_settings.DEFAULT_THROTTLE_RATES.get("suggest")
    if not rate:
        return 0
    limit, window = SimpleRateThrottle.parse_rate(None, rate)  # type: ignore[arg-type]
    if limit is None or window is None:
        return 0
    now = time.time()
    start = int(now // window * window)
    ip = (scope.get("client") or ["unknown"])[0]
    if count_hit(f"throttle:suggest-socket:{ip}:{start}", window) <= limit:
        return 0
    return max(1, int(start + window - now) + 1)


def _suggest(query: str, size: int) -> list[dict[str, Any]]:
    found = services.suggest(text=query, size=size)
    return list(SuggestionSerializer([s.__dict__ for s in found], many=True).data)


class AutocompleteConsumer(AsyncJsonWebsocketConsumer):
    idle_seconds: float = IDLE_SECONDS
    _idle: asyncio.TimerHandle | None = None
    _latest: dict[str, Any] | None = None
    _answering: asyncio.Task | None = None

    async def connect(self) -> None:
        await self.accept()
        self._restart_idle_timer()

    def _restart_idle_timer(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
        self._idle = asyncio.get_running_loop().call_later(
            self.idle_seconds, lambda: asyncio.ensure_future(self.close(code=1000))
        )

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        self._restart_idle_timer()
        try:
            content = json.loads(text_data or "")
        except (ValueError, RecursionError):
            await self._invalid({"query": ['Send a JSON object: {"query": ..., "size": ...}.']})
            return
        if not isinstance(content, dict):
            await self._invalid({"query": ['Send a JSON object: {"query": ..., "size": ...}.']})
            return
        data = SuggestQuerySerializer(
            data={"q": content.get("query"), "size": content.get("size", 10)}
        )
        if not data.is_valid():
            errors = dict(data.errors)
            if "q" in errors:
                errors["query"] = errors.pop("q")
            await self._invalid(errors)
            return
        wait = _throttled(self.scope)
        if wait:
            await self.send_json(
                {
                    "code": "throttled",
                    "message": "Too many suggestions asked; slow down.",
                    "details": {},
                    "retry_after": wait,
                }
            )
            return
        self._latest = dict(data.validated_data)
        if self._answering is None or self._answering.done():
            self._answering = asyncio.ensure_future(self._answer())

    async def _answer(self) -> None:
        while self._latest is not None:
            wanted, self._latest = self._latest, None
            try:
                suggestions = await database_sync_to_async(_suggest)(wanted["q"], wanted["size"])
            except Exception as exc:
                dependency = dependencies.down_dependency(exc)
                if dependency is None:
                    raise
                dependencies.record_unavailable(
                    dependency, path=self.scope.get("path", ""), exc=exc
                )
                await self.close(code=TRY_AGAIN_LATER)
                return
            if self._latest is None:  # nothing newer came in meanwhile
                await self.send_json({"query": wanted["q"], "suggestions": suggestions})

    async def _invalid(self, details: dict[str, Any]) -> None:
        await self.send_json(
            {"code": "invalid", "message": "Invalid autocomplete request.", "details": details}
        )

    async def disconnect(self, code: int) -> None:
        if self._idle is not None:
            self._idle.cancel()
        if self._answering is not None:
            self._answering.cancel()
