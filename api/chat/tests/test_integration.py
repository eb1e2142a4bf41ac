"""Chat on a real daphne with a real worker — embedded, and on MariaDB + Redis: the buyer sends
over HTTP, the store's owner and the buyer's other tab receive it over ``websockets`` (a native
client: no Origin), the owner answers, and an owner who reconnects with ``last_seq`` gets what
it missed."""

import asyncio
import json

import httpx
import pytest

from core.tests.stack import running_stack, services_configured, token_for

pytestmark = pytest.mark.integration

PEOPLE = """
from accounts.models import User
from stores.models import Store
buyer = User.objects.create_user("amna@example.com", first_name="Amna", last_name="Osman")
owner = User.objects.create_user("omer@example.com", account_type="business")
store = Store.objects.create(owner=owner, name="Souq Omdurman", slug="souq-omdurman")
print(buyer.pk, owner.pk, store.pk)
"""


async def next_of(socket, event_type: str, message_id: int | None = None) -> dict:
    while True:
        event = json.loads(await asyncio.wait_for(socket.recv(), 10))
        if event.get("type") == event_type and message_id in (None, event["data"]["id"]):
            return event


@pytest.mark.parametrize(
    "mode",
    [
        "embedded",
        pytest.param(
            "services",
            marks=pytest.mark.skipif(
                not services_configured(), reason="needs DATABASE_URL (MariaDB) and REDIS_URL"
            ),
        ),
    ],
)
def test_a_conversation_over_http_and_real_sockets(tmp_path, mode):
    import websockets

    with running_stack(mode, tmp_path) as stack:
        buyer_id, owner_id, store_id = map(int, stack.manage("shell", "-c", PEOPLE).split()[-3:])
        buyer = {"Authorization": f"Bearer {token_for(buyer_id)}"}
        owner = {"Authorization": f"Bearer {token_for(owner_id)}"}
        ws_url = stack.base_url.replace("http://", "ws://") + "/ws/events/"

        async def open_socket(user_id: int, **auth) -> tuple[object, int]:
            socket = await websockets.connect(ws_url)
            await socket.send(json.dumps({"type": "auth", "token": token_for(user_id), **auth}))
            ok = json.loads(await socket.recv())
            assert ok["type"] == "auth.ok", ok
            return socket, ok["data"]["last_seq"]

        async def scenario() -> dict:
            store_socket, store_seq = await open_socket(owner_id)
            other_tab, _ = await open_socket(buyer_id)
            started = await asyncio.to_thread(
                httpx.post,
                stack.base_url + "/api/chat/conversations/",
                json={"store_id": store_id, "message": "هل التوصيل متاح إلى بحري؟",
                      "client_message_id": "first"},
                headers=buyer,
            )  # fmt: skip
            assert started.status_code == 201, stack.logs()
            at_store = await next_of(store_socket, "chat.message")
            at_other_tab = await next_of(other_tab, "chat.message")
            await store_socket.close()

            conversation_id = started.json()["id"]
            for n in range(3):  # while the store is away
                sent = await asyncio.to_thread(
                    httpx.post,
                    f"{stack.base_url}/api/chat/conversations/{conversation_id}/messages/",
                    json={"body": f"follow-up {n}"},
                    headers=buyer,
                )
                assert sent.status_code == 201
            back, _ = await open_socket(owner_id, last_seq=at_store["seq"])
            missed = [await next_of(back, "chat.message") for _ in range(3)]
            answer = await asyncio.to_thread(
                httpx.post,
                f"{stack.base_url}/api/chat/conversations/{conversation_id}/messages/",
                json={"body": "نعم، اليوم"},
                headers=owner,
            )
            answered = await next_of(other_tab, "chat.message", answer.json()["id"])
            await back.close()
            await other_tab.close()
            return {
                "store_seq": store_seq,
                "at_store": at_store,
                "at_other_tab": at_other_tab,
                "missed": missed,
                "answer": answer.json(),
                "answered": answered,
            }

        seen = asyncio.run(scenario())

        assert seen["at_store"]["data"]["body"] == "هل التوصيل متاح إلى بحري؟"
        assert seen["at_other_tab"]["data"]["id"] == seen["at_store"]["data"]["id"]
        assert [e["data"]["body"] for e in seen["missed"]] == [f"follow-up {n}" for n in range(3)]
        assert seen["answered"]["data"]["id"] == seen["answer"]["id"]
        assert seen["answered"]["data"]["sender"] == {
            "id": store_id, "display_name": "Souq Omdurman", "role": "store"
        }  # fmt: skip
