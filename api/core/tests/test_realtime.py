"""The doorbell from synchronous code: on the loop it is handed (the web process's), without
waiting; elsewhere on one long-lived loop, waited for; a failing layer is logged and left alone
for a while, never raised into the caller."""

import asyncio
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from core import realtime


class RecordingLayer:
    """A channel layer at its group_send: records which loop and thread each send ran on; a
    send can be held until released, or fail."""

    def __init__(self, *, fail: bool = False) -> None:
        self.fail = fail
        self.sent: list[tuple[str, dict[str, Any], asyncio.AbstractEventLoop]] = []
        self.release = threading.Event()
        self.release.set()
        self.arrived = threading.Event()

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        while not self.release.is_set():
            await asyncio.sleep(0.01)
        if self.fail:
            raise ConnectionError("the channel layer is down")
        self.sent.append((group, message, asyncio.get_running_loop()))
        self.arrived.set()


@pytest.fixture
def layer(monkeypatch: pytest.MonkeyPatch) -> RecordingLayer:
    recording = RecordingLayer()
    monkeypatch.setattr(realtime, "get_channel_layer", lambda: recording)
    monkeypatch.setattr(realtime, "_layer_down_until", 0.0)
    monkeypatch.setattr(realtime, "_server_loop", None)
    return recording


@pytest.fixture
def server_loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


def test_a_ring_from_a_request_thread_goes_to_the_server_loop_without_waiting(
    layer: RecordingLayer, server_loop: asyncio.AbstractEventLoop
) -> None:
    realtime.serve_rings_from(server_loop)
    layer.release.clear()  # the send can't finish yet

    realtime.ring(7, {"type": "user.event"})  # returns: nobody waits for the server's loop

    assert layer.sent == []
    layer.release.set()
    assert layer.arrived.wait(5)
    assert layer.sent == [("user.7", {"type": "user.event"}, server_loop)]


def test_rings_elsewhere_share_one_loop_and_are_sent_before_ring_returns(
    layer: RecordingLayer,
) -> None:
    realtime.ring(1, {"type": "a"})
    realtime.ring(2, {"type": "b"})

    assert [(group, message) for group, message, _ in layer.sent] == [
        ("user.1", {"type": "a"}),
        ("user.2", {"type": "b"}),
    ]
    first_loop, second_loop = (loop for _, _, loop in layer.sent)
    assert first_loop is second_loop
    assert first_loop.is_running()


def test_a_failing_layer_is_logged_not_raised_and_left_alone_for_a_while(
    layer: RecordingLayer, caplog: pytest.LogCaptureFixture
) -> None:
    layer.fail = True

    with caplog.at_level(logging.WARNING, logger="core.realtime"):
        realtime.ring(3, {"type": "user.event"})
    layer.fail = False
    realtime.ring(3, {"type": "user.event"})  # within the pause: not even tried

    assert "ring for user 3 failed" in caplog.text
    assert layer.sent == []


def test_a_failing_send_on_the_server_loop_pauses_the_rings_too(
    layer: RecordingLayer, server_loop: asyncio.AbstractEventLoop
) -> None:
    realtime.serve_rings_from(server_loop)
    layer.fail = True

    realtime.ring(4, {"type": "user.event"})
    for _ in range(500):  # the failure lands on the server loop, a moment later
        if realtime._layer_down_until:
            break
        threading.Event().wait(0.01)

    assert realtime._layer_down_until > 0
