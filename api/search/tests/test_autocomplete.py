"""``/ws/autocomplete/`` over the real ASGI application: anonymous, any native client, browsers
from allowed origins; suggestions as ``GET /api/search/suggest/`` gives them."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from api.asgi import application
from search.consumers import AutocompleteConsumer
from search.tests.catalogue import drain, product

pytestmark = pytest.mark.django_db(transaction=True)


@sync_to_async
def catalogue() -> int:
    made = product(name="Leather sandals")
    product(name="Samsung Galaxy S24")
    drain()
    return made.pk


async def open_socket(headers) -> WebsocketCommunicator:
    socket = WebsocketCommunicator(application, "/ws/autocomplete/", headers=headers)
    connected, _ = await socket.connect()
    assert connected
    return socket


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param([(b"host", b"api.sudamall.example")], id="native-app-no-origin"),
        pytest.param([(b"origin", b"http://testserver"), (b"host", b"testserver")], id="same-host"),
    ],
)
async def test_an_anonymous_client_gets_suggestions_as_it_types(headers):
    sandals = await catalogue()
    socket = await open_socket(headers)

    await socket.send_json_to({"query": "san", "size": 5})
    first = await socket.receive_json_from(timeout=3)
    await socket.send_json_to({"query": "sandls"})
    second = await socket.receive_json_from(timeout=3)

    assert first == {
        "query": "san",
        "suggestions": [{"text": "Leather sandals", "kind": "product", "id": str(sandals)}],
    }
    assert second["suggestions"][0]["text"] == "Leather sandals"  # a typo still finds it
    await socket.disconnect()


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ({"query": "sand", "size": 0}, "size"),
        ({"query": "sand", "size": 16}, "size"),
        ({"size": 5}, "query"),
        ({"query": "x" * 101}, "query"),
        (["not", "an", "object"], "query"),
    ],
)
async def test_bad_input_is_answered_and_the_socket_stays_open(message, field):
    await catalogue()
    socket = await open_socket([(b"host", b"testserver")])

    await socket.send_json_to(message)
    error = await socket.receive_json_from(timeout=3)
    await socket.send_json_to({"query": "galaxy"})
    after = await socket.receive_json_from(timeout=3)

    assert error["code"] == "invalid"
    assert field in error["details"]
    assert after["suggestions"][0]["text"] == "Samsung Galaxy S24"
    await socket.disconnect()


async def test_text_that_is_not_json_is_answered_too():
    socket = await open_socket([(b"host", b"testserver")])

    await socket.send_to(text_data="sand")

    assert (await socket.receive_json_from(timeout=3))["code"] == "invalid"
    await socket.disconnect()


async def test_an_idle_socket_is_closed(monkeypatch):
    monkeypatch.setattr(AutocompleteConsumer, "idle_seconds", 0.2)
    socket = await open_socket([(b"host", b"testserver")])

    assert await socket.receive_output(timeout=3) == {"type": "websocket.close", "code": 1000}


async def test_a_browser_from_another_origin_is_refused(settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://shop.example.com"]
    settings.CORS_ALLOWED_ORIGIN_REGEXES = []
    socket = WebsocketCommunicator(
        application,
        "/ws/autocomplete/",
        headers=[(b"origin", b"https://evil.example.com"), (b"host", b"testserver")],
    )

    connected, _ = await socket.connect()

    assert connected is False


async def test_the_socket_shares_the_suggest_rate(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                                   "suggest": "3/min"},
    }  # fmt: skip
    await catalogue()
    socket = await open_socket([(b"host", b"testserver")])

    answers = []
    for n in range(4):
        await socket.send_json_to({"query": f"sa{n}"})
        answers.append(await socket.receive_json_from(timeout=3))

    assert ["suggestions" in a for a in answers] == [True, True, True, False]
    assert answers[-1]["code"] == "throttled"
    assert answers[-1]["retry_after"] >= 1
    await socket.disconnect()
