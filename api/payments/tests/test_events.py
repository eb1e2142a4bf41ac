"""The buyer's open socket hears about their payment: payment.failed, then payment.succeeded."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from api.asgi import application
from authentication import services
from orders.tests.factories import place_checkout
from payments.tests.helpers import DECLINED_CARD, GOOD_CARD

pytestmark = pytest.mark.django_db(transaction=True)


async def test_payment_events_reach_the_buyers_socket():
    @sync_to_async
    def setup() -> tuple[str, int]:
        user = UserFactory(is_email_verified=True)
        return services.issue_tokens(user=user).access, place_checkout(user).pk

    access, checkout_id = await setup()
    socket = WebsocketCommunicator(
        application,
        "/ws/events/",
        headers=[(b"origin", b"http://testserver"), (b"host", b"testserver")],
    )
    assert (await socket.connect())[0]
    await socket.send_json_to({"type": "auth", "token": access})
    await socket.receive_json_from()

    @sync_to_async
    def pay(card: str) -> tuple[int, int]:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
        payment = client.post(
            "/api/payments/create/", {"checkout_id": checkout_id, "gateway": "test"}
        ).json()
        confirmed = client.post(
            "/api/payments/confirm/", {"payment_id": payment["id"], "card_number": card}
        )
        return payment["id"], confirmed.status_code

    async def receive(count: int) -> list[dict]:
        """The next ``count`` events, less the in-app notifications that come with them."""
        received: list[dict] = []
        while len(received) < count:
            event = await socket.receive_json_from(timeout=2)
            if event["type"] == "notification.created":
                notified.append(event["data"]["kind"])
            else:
                received.append(event)
        return received

    notified: list[str] = []
    declined_id, status = await pay(DECLINED_CARD)
    assert status == 402
    [failed] = await receive(1)
    paid_id, status = await pay(GOOD_CARD)
    assert status == 200
    events = await receive(2)

    assert failed["type"] == "payment.failed"
    assert failed["data"]["id"] == declined_id
    assert failed["data"]["reason"] == "card_declined"
    succeeded = next(e for e in events if e["type"] == "payment.succeeded")
    assert succeeded["data"]["id"] == paid_id
    assert succeeded["data"]["amount"] == "100.00"
    assert {e["type"] for e in events} == {"payment.succeeded", "order.status_changed"}
    # The in-app notification rides on the same log, after the event it is about.
    assert notified[0] == "payment_failed"
    await socket.disconnect()
