"""Chat over /ws/events/ with the real ASGI application and channel layer: messages arrive on
every participant's sockets, a dropped socket resumes with exactly what it missed, typing is
relayed and never stored."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from accounts.tests.factories import UserFactory
from api.asgi import application
from authentication import services as auth_services
from chat.tests.factories import conversation, send
from notifications.models import UserEvent
from stores.tests.factories import StoreFactory

pytestmark = pytest.mark.django_db(transaction=True)

NATIVE = [(b"host", b"testserver")]  # no Origin: a phone app


@sync_to_async
def setup_talk():
    buyer = UserFactory(is_email_verified=True)
    store = StoreFactory()
    talk = conversation(buyer, store)
    tokens = {
        "buyer": auth_services.issue_tokens(user=buyer).access,
        "owner": auth_services.issue_tokens(user=store.owner).access,
    }
    return talk, tokens


async def open_socket(token: str, **auth) -> tuple[WebsocketCommunicator, dict]:
    socket = WebsocketCommunicator(application, "/ws/events/", headers=NATIVE)
    connected, _ = await socket.connect()
    assert connected
    await socket.send_json_to({"type": "auth", "token": token, **auth})
    ok = await socket.receive_json_from(timeout=3)
    assert ok["type"] == "auth.ok"
    return socket, ok["data"]


async def test_a_message_reaches_the_store_and_the_senders_other_tab():
    talk, tokens = await setup_talk()
    owner, _ = await open_socket(tokens["owner"])
    other_tab, _ = await open_socket(tokens["buyer"])

    message = await sync_to_async(send)(talk, talk.buyer, "Is the karkade fresh?")

    for socket in (owner, other_tab):
        event = await socket.receive_json_from(timeout=3)
        assert event["type"] == "chat.message"
        assert event["data"]["id"] == message.pk
        assert event["data"]["body"] == "Is the karkade fresh?"
        assert event["data"]["sender"]["role"] == "buyer"
        await socket.disconnect()


async def test_a_dropped_socket_resumes_with_exactly_the_20_messages_it_missed():
    talk, tokens = await setup_talk()
    owner, hello = await open_socket(tokens["owner"])
    await owner.disconnect()

    sent = []
    for n in range(20):
        sent.append((await sync_to_async(send)(talk, talk.buyer, f"message {n}")).pk)
    resumed, _ = await open_socket(tokens["owner"], last_seq=hello["last_seq"])
    received = [await resumed.receive_json_from(timeout=3) for _ in range(20)]

    assert [e["type"] for e in received] == ["chat.message"] * 20
    assert [e["data"]["id"] for e in received] == sent
    seqs = [e["seq"] for e in received]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == 20
    assert await resumed.receive_nothing(timeout=0.3)  # once, nothing more
    await resumed.disconnect()


async def test_typing_is_relayed_to_the_other_side_throttled_and_never_stored():
    talk, tokens = await setup_talk()
    buyer, _ = await open_socket(tokens["buyer"])
    owner, _ = await open_socket(tokens["owner"])

    await buyer.send_json_to({"type": "chat.typing", "conversation_id": talk.pk})
    typing = await owner.receive_json_from(timeout=3)
    await buyer.send_json_to({"type": "chat.typing", "conversation_id": talk.pk})
    throttled = await buyer.receive_json_from(timeout=3)

    assert typing == {
        "type": "chat.typing",
        "data": {"conversation_id": talk.pk, "role": "buyer", "expires_in": 6},
    }
    assert throttled["code"] == "throttled"
    assert throttled["retry_after"] > 0
    assert await owner.receive_nothing(timeout=0.3)
    assert not await sync_to_async(UserEvent.objects.filter(type="chat.typing").exists)()
    await buyer.disconnect()
    await owner.disconnect()


async def test_typing_into_someone_elses_conversation_goes_nowhere():
    talk, tokens = await setup_talk()
    stranger = await sync_to_async(UserFactory)(is_email_verified=True)
    token = await sync_to_async(lambda: auth_services.issue_tokens(user=stranger).access)()
    intruder, _ = await open_socket(token)
    owner, _ = await open_socket(tokens["owner"])

    await intruder.send_json_to({"type": "chat.typing", "conversation_id": talk.pk})
    await intruder.send_json_to({"type": "chat.typing", "conversation_id": "1; DROP"})

    assert await owner.receive_nothing(timeout=0.5)
    await intruder.disconnect()
    await owner.disconnect()


async def test_a_flood_of_typing_frames_is_cut_to_five_a_second():
    _, tokens = await setup_talk()
    flooder, _ = await open_socket(tokens["buyer"])

    for n in range(12):
        await flooder.send_json_to({"type": "chat.typing", "conversation_id": 10_000 + n})
    answers = []
    while not await flooder.receive_nothing(timeout=0.3):
        answers.append(await flooder.receive_json_from())

    assert len(answers) == 7  # frames 6 to 12 in the same second
    assert all(a["code"] == "throttled" for a in answers)
    await flooder.disconnect()
