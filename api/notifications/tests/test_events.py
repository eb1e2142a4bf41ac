"""/ws/events/ over the real ASGI application and channel layer: the handshake, the Origin rules,
seq order, resuming with last_seq, and events stored by another process reaching the socket."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from accounts.tests.factories import UserFactory
from api.asgi import application
from authentication import services
from notifications import events
from notifications.consumers import EventsConsumer

pytestmark = pytest.mark.django_db(transaction=True)

SAME_HOST = [(b"origin", b"http://testserver"), (b"host", b"testserver")]


async def connect(headers=SAME_HOST) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, "/ws/events/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


@sync_to_async
def session() -> tuple[int, str]:
    user = UserFactory(is_email_verified=True)
    return user.pk, services.issue_tokens(user=user).access


push = sync_to_async(events.push_to_user)


async def authenticate(socket, access: str, **extra) -> dict:
    await socket.send_json_to({"type": "auth", "token": access, **extra})
    answer = await socket.receive_json_from(timeout=2)
    assert answer["type"] == "auth.ok", answer
    return answer["data"]


async def test_an_authenticated_socket_receives_the_users_events_in_seq_order():
    user_id, access = await session()
    socket = await connect()

    assert await authenticate(socket, access) == {"user_id": user_id, "last_seq": 0}
    await push(user_id, "cart.updated", {"item_count": 2})
    await push(user_id, "checkout.created", {"id": 5})

    assert await socket.receive_json_from(timeout=2) == {
        "type": "cart.updated",
        "seq": 1,
        "data": {"item_count": 2},
    }
    assert (await socket.receive_json_from(timeout=2))["seq"] == 2
    await socket.disconnect()


async def test_two_sessions_of_one_user_both_hear_and_others_do_not():
    user_id, access = await session()
    _, other_access = await session()
    mine_a, mine_b, theirs = await connect(), await connect(), await connect()
    for socket, token in ((mine_a, access), (mine_b, access), (theirs, other_access)):
        await authenticate(socket, token)

    await push(user_id, "checkout.created", {"id": 7})

    assert (await mine_a.receive_json_from(timeout=2))["type"] == "checkout.created"
    assert (await mine_b.receive_json_from(timeout=2))["type"] == "checkout.created"
    assert await theirs.receive_nothing(timeout=0.3)
    for socket in (mine_a, mine_b, theirs):
        await socket.disconnect()


async def test_a_socket_that_reconnects_with_last_seq_gets_exactly_what_it_missed():
    user_id, access = await session()
    socket = await connect()
    await authenticate(socket, access)
    await push(user_id, "cart.updated", {"n": 1})
    seen = await socket.receive_json_from(timeout=2)
    await socket.disconnect()

    for n in range(2, 22):  # twenty while the phone is in a tunnel
        await push(user_id, "cart.updated", {"n": n})
    socket = await connect()
    greeting = await authenticate(socket, access, last_seq=seen["seq"])
    replayed = [await socket.receive_json_from(timeout=2) for _ in range(20)]
    await push(user_id, "checkout.created", {"id": 9})
    live = await socket.receive_json_from(timeout=2)

    assert greeting["last_seq"] == 21
    assert [e["seq"] for e in replayed] == list(range(2, 22))
    assert [e["data"]["n"] for e in replayed] == list(range(2, 22))
    assert live["seq"] == 22
    assert await socket.receive_nothing(timeout=0.3)  # no duplicates
    await socket.disconnect()


async def test_resuming_from_before_what_is_kept_asks_for_a_resync(settings):
    settings.EVENTS_KEEP_HOURS = 0
    settings.EVENTS_KEEP_LAST = 2
    user_id, access = await session()
    for n in range(5):
        await push(user_id, "cart.updated", {"n": n})
    await sync_to_async(events.prune_events)()  # seqs 1-3 are gone, 4 and 5 kept

    socket = await connect()
    await authenticate(socket, access, last_seq=1)

    assert await socket.receive_json_from(timeout=2) == {"type": "resync_required"}
    assert [(await socket.receive_json_from(timeout=2))["seq"] for _ in range(2)] == [4, 5]
    await socket.disconnect()


async def test_a_position_from_another_log_asks_for_a_resync_then_goes_on_from_now():
    user_id, access = await session()
    await push(user_id, "cart.updated", {})
    socket = await connect()
    await authenticate(socket, access, last_seq=500)  # a server reset, a restored backup

    assert await socket.receive_json_from(timeout=2) == {"type": "resync_required"}
    await push(user_id, "cart.updated", {"after": True})
    assert (await socket.receive_json_from(timeout=2))["seq"] == 2
    await socket.disconnect()


async def test_an_event_stored_without_a_ring_arrives_through_the_poll(settings, monkeypatch):
    """What happens to an event a Celery worker makes in the embedded mode: the worker's
    in-memory channel layer can't reach this process, so only the stored row tells."""
    settings.EVENTS_POLL_SECONDS = 0.2
    monkeypatch.setattr(events, "ring", lambda user_id, message: None)
    user_id, access = await session()
    socket = await connect()
    await authenticate(socket, access)

    await push(user_id, "payment.succeeded", {"id": 3})
    await push(user_id, "order.status_changed", {"id": 4})

    assert [(await socket.receive_json_from(timeout=2))["type"] for _ in range(2)] == [
        "payment.succeeded",
        "order.status_changed",
    ]
    await socket.disconnect()


async def test_a_lost_ring_is_healed_by_the_next_one():
    user_id, access = await session()
    socket = await connect()
    await authenticate(socket, access)

    real_ring = events.ring
    events.ring = lambda user_id, message: None
    try:
        await push(user_id, "cart.updated", {"lost": True})  # seq 1: its ring is lost
    finally:
        events.ring = real_ring
    await push(user_id, "cart.updated", {"lost": False})  # seq 2 rings

    got = [await socket.receive_json_from(timeout=2) for _ in range(2)]
    assert [(e["seq"], e["data"]["lost"]) for e in got] == [(1, True), (2, False)]
    await socket.disconnect()


# --- the handshake ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "first_message",
    [
        {"type": "auth"},
        {"type": "auth", "token": "not-a-jwt"},
        {"type": "subscribe", "token": "x"},
        ["auth"],
    ],
)
async def test_a_bad_first_message_closes_with_4401(first_message):
    socket = await connect()

    await socket.send_json_to(first_message)

    assert await socket.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}


async def test_text_that_is_not_json_closes_with_4401():
    socket = await connect()

    await socket.send_to(text_data="hello")

    assert await socket.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}


async def test_a_revoked_token_closes_with_4401():
    @sync_to_async
    def revoked() -> str:
        from accounts.services import revoke_all_tokens

        user = UserFactory(is_email_verified=True)
        access = services.issue_tokens(user=user).access
        revoke_all_tokens(user=user)
        return access

    socket = await connect()
    await socket.send_json_to({"type": "auth", "token": await revoked()})

    assert await socket.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}


async def test_silence_closes_with_4401(monkeypatch):
    monkeypatch.setattr(EventsConsumer, "auth_timeout_seconds", 0.1)
    socket = await connect()

    assert await socket.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}


# --- Origin: native apps send none, browsers must come from an allowed origin -------------------


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param([(b"host", b"api.sudamall.example")], id="native-app-no-origin"),
        pytest.param([], id="no-headers-at-all"),
        pytest.param(
            [(b"origin", b"https://shop.example.com"), (b"host", b"api.sudamall.example")],
            id="cors-allowed-origin",
        ),
        pytest.param(
            [(b"origin", b"http://testserver"), (b"host", b"testserver")], id="the-apis-own-host"
        ),
    ],
)
async def test_allowed_clients_get_auth_ok(headers, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://shop.example.com"]
    user_id, access = await session()
    socket = await connect(headers)

    assert (await authenticate(socket, access))["user_id"] == user_id
    await socket.disconnect()


@pytest.mark.parametrize(
    "origin",
    [
        b"https://evil.example.com",
        b"http://localhost:3000",
        b"null",
        b"https://shop.example.com.evil",
    ],
)
async def test_a_browser_from_another_origin_is_refused(origin, settings):
    """Closed before the handshake is accepted: daphne answers that with HTTP 403 (the real
    server and client are in payments/tests/test_integration.py)."""
    settings.CORS_ALLOWED_ORIGINS = ["https://shop.example.com"]
    settings.CORS_ALLOWED_ORIGIN_REGEXES = []  # production: no local development origins
    socket = WebsocketCommunicator(
        application, "/ws/events/", headers=[(b"origin", origin), (b"host", b"testserver")]
    )

    connected, _ = await socket.connect()

    assert connected is False


async def test_in_development_a_local_spa_may_open_a_socket(settings):
    settings.CORS_ALLOWED_ORIGINS = []
    settings.CORS_ALLOWED_ORIGIN_REGEXES = [r"^http://localhost(:\d+)?$"]
    user_id, access = await session()
    socket = await connect([(b"origin", b"http://localhost:5173"), (b"host", b"127.0.0.1:8000")])

    assert (await authenticate(socket, access))["user_id"] == user_id
    await socket.disconnect()


async def test_the_poll_stops_when_the_last_socket_closes():
    from notifications.consumers import EventPoll

    _, access = await session()
    socket = await connect()
    await authenticate(socket, access)
    assert EventPoll.task is not None
    task = EventPoll.task

    await socket.disconnect()

    assert EventPoll.task is None
    # a poll caught in a database read finishes it first (the thread can't be interrupted)
    await asyncio.wait({task}, timeout=10)
    assert task.cancelled() or task.done()
