"""Input that used to break the server answers a clear 4xx and changes nothing: JSON nested
10,000 deep, bodies past their endpoint's limit, megabyte descriptions and passwords, and a cart
whose total outgrows the order columns (which used to make the buyer's cart answer 500 for good).
"""

from decimal import Decimal

import pytest
from channels.testing import WebsocketCommunicator
from rest_framework.test import APIClient

from api.asgi import application
from carts.models import CartItem
from products.tests.factories import make_product
from stores.tests.factories import StoreFactory

pytestmark = pytest.mark.django_db

DEEP = ("[" * 10_000 + "]" * 10_000).encode()


@pytest.mark.parametrize(
    ("path", "signed_in"),
    [("/api/auth/login/", False), ("/api/auth/register/", False), ("/api/cart/add/", True),
     ("/api/stores/", True)],
)  # fmt: skip
def test_json_nested_ten_thousand_deep_is_a_400(path, signed_in, auth_client, api_client):
    client = auth_client if signed_in else api_client
    answer = client.generic("POST", path, DEEP, content_type="application/json")

    assert answer.status_code == 400
    assert answer.json()["code"] == "parse_error"
    assert "nested deeper" in answer.json()["message"]


def test_nesting_a_little_is_still_fine(auth_client):
    body = '{"product_id": 1, "quantity": 1, "x": ' + "[" * 15 + "]" * 15 + "}"
    answer = auth_client.generic("POST", "/api/cart/add/", body, content_type="application/json")
    assert answer.status_code != 500
    assert answer.json().get("message", "").find("nested") == -1


def test_a_json_body_past_a_megabyte_is_a_413(api_client: APIClient):
    body = '{"email": "a@example.com", "password": "' + "x" * (1024 * 1024) + '"}'
    answer = api_client.generic("POST", "/api/auth/login/", body, content_type="application/json")

    assert answer.status_code == 413
    assert answer.json()["code"] == "too_large"


def test_long_descriptions_and_passwords_are_refused(auth_client, user, api_client):
    store = StoreFactory(owner=user)
    product = {"store_id": store.pk, "name": "Kettle", "price": "10.00", "stock": 1,
               "description": "x" * 5001}  # fmt: skip
    too_long_product = auth_client.post("/api/products/", product, format="json")
    too_long_store = auth_client.patch(
        f"/api/stores/{store.pk}/", {"description": "x" * 2001}, format="json"
    )
    huge_password = api_client.post(
        "/api/auth/register/",
        {"email": "omer@example.com", "password": "N1le!" + "x" * 124, "first_name": "Omer",
         "last_name": "Ali", "account_type": "buyer"},
        format="json",
    )  # fmt: skip

    assert too_long_product.status_code == 400
    assert "description" in too_long_product.json()["details"]
    assert too_long_store.status_code == 400
    assert huge_password.status_code == 400
    assert "password" in huge_password.json()["details"]
    product["description"] = "x" * 5000
    assert auth_client.post("/api/products/", product, format="json").status_code == 201


def test_a_cart_too_large_to_pay_is_refused_and_stays_readable(auth_client, user, shipping_address):
    dear = make_product(name="Gold bed", price=Decimal("9999999999.99"), stock=1000)

    refused = auth_client.post(
        "/api/cart/add/", {"product_id": dear.pk, "quantity": 101}, format="json"
    )
    assert refused.status_code == 400
    assert "too large" in refused.json()["details"]["quantity"][0]
    assert CartItem.objects.count() == 0
    assert auth_client.get("/api/cart/").status_code == 200

    assert (
        auth_client.post(
            "/api/cart/add/", {"product_id": dear.pk, "quantity": 100}, format="json"
        ).status_code
        == 201
    )  # 999,999,999,999.00: the most an order holds
    more = auth_client.post("/api/cart/add/", {"product_id": dear.pk, "quantity": 1}, format="json")
    assert more.status_code == 400
    assert CartItem.objects.get().quantity == 100

    # A cart saved before these bounds (or a line whose price rose since) may hold more than
    # an order can: it stays readable, and checkout says no.
    CartItem.objects.update(quantity=101)
    cart = auth_client.get("/api/cart/")
    assert cart.status_code == 200
    assert cart.json()["total"] == "1009999999998.99"
    checkout = auth_client.post(
        "/api/cart/checkout/",
        {"shipping_address": shipping_address},
        format="json",
    )
    assert checkout.status_code == 400


async def test_a_deeply_nested_socket_message_is_refused_not_a_crash():
    socket = WebsocketCommunicator(application, "/ws/events/")
    assert (await socket.connect())[0]
    await socket.send_to(text_data=DEEP.decode())

    assert await socket.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}
    await socket.disconnect()


def test_a_query_that_names_no_parameter_reads_as_empty_and_a_bad_one_is_still_400(api_client):
    from rest_framework import serializers

    from core.serializers import QuerySerializer

    class Near(QuerySerializer):
        radius = serializers.IntegerField(required=False, min_value=1)

    class Needed(QuerySerializer):
        q = serializers.CharField()

    class Defaulted(QuerySerializer):
        sort = serializers.CharField(required=False, default="name")

    assert Near.read({"page": "2", "_": "x"}) == {}
    assert Near.read({"radius": "5"}) == {"radius": 5}
    assert Defaulted.read({}) == {"sort": "name"}
    with pytest.raises(serializers.ValidationError):
        Near.read({"radius": "0"})
    with pytest.raises(serializers.ValidationError):
        Needed.read({})
    response = api_client.get("/api/stores/?radius_km=5&_b=1")
    assert response.status_code == 400
    assert response.json()["details"] == {"radius_km": ["Needs `near`."]}
