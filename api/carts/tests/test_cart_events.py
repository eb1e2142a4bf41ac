"""A change made in one session reaches the user's other open sessions as cart.updated."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from api.asgi import application
from authentication import services
from products.tests.factories import make_product

pytestmark = pytest.mark.django_db(transaction=True)


async def test_another_sessions_cart_change_arrives_as_cart_updated():
    @sync_to_async
    def setup() -> tuple[str, int]:
        user = UserFactory(is_email_verified=True)
        return services.issue_tokens(user=user).access, make_product(stock=5).pk

    access, product_id = await setup()
    phone = WebsocketCommunicator(
        application,
        "/ws/events/",
        headers=[(b"origin", b"http://testserver"), (b"host", b"testserver")],
    )
    assert (await phone.connect())[0]
    await phone.send_json_to({"type": "auth", "token": access})
    await phone.receive_json_from()

    @sync_to_async
    def add_from_the_laptop() -> int:
        laptop = APIClient()
        laptop.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
        body = {"product_id": product_id, "quantity": 2}
        return laptop.post("/api/cart/add/", body, format="json").status_code

    assert await add_from_the_laptop() == 201
    event = await phone.receive_json_from(timeout=2)

    assert event["type"] == "cart.updated"
    assert event["data"]["item_count"] == 2
    assert event["data"]["items"][0]["product_id"] == product_id
    await phone.disconnect()
