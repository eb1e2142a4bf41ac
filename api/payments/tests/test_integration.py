"""A signed webhook taken by a real daphne is processed by a real Celery worker — not eager."""

import json
import time

import httpx
import pytest

from core.tests.stack import running_stack, services_configured, staff_token
from payments.gateways import test as test_gateway

pytestmark = pytest.mark.integration

PLACE = """
from decimal import Decimal
from accounts.models import User
from orders.services.checkout import LineRequest, place_checkout
from products.services import catalog
from stores.models import Store
owner = User.objects.create_user(email="owner@example.com", password="x-Strong-pass-1")
store = Store.objects.create(owner=owner, name="Souq")
product = catalog.create_product(user=owner, store=store,
                                 data={"name": "Tea", "price": Decimal("12.50"), "stock": 3})
checkout = place_checkout(buyer=User.objects.get(pk=1), lines=[LineRequest(product.pk, None, 2)],
                          shipping_address={"full_name": "A", "phone": "+249912345678",
                                            "line1": "S", "city": "K", "country": "SD"})
print(checkout.pk)
"""


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
def test_a_signed_webhook_is_processed_by_the_worker(tmp_path, mode):
    with running_stack(mode, tmp_path) as stack:
        checkout_id = int(stack.manage("shell", "-c", PLACE).strip().splitlines()[-1])
        client = httpx.Client(
            base_url=stack.base_url,
            headers={"Authorization": f"Bearer {staff_token()}"},
            timeout=10,
        )
        created = client.post(
            "/api/payments/create/", json={"checkout_id": checkout_id, "gateway": "test"}
        )
        assert created.status_code == 201, stack.logs()
        payment_id = created.json()["id"]

        body = json.dumps(
            {"id": "evt_it_1", "type": "payment.succeeded", "data": {"payment_id": payment_id}}
        ).encode()
        secret = stack.env["PAYMENT_TEST_WEBHOOK_SECRET"]
        delivered = httpx.post(
            stack.base_url + "/api/payments/webhook/",
            content=body,
            headers={"Content-Type": "application/json",
                     "X-Signature": test_gateway.sign(body, secret)},
            timeout=10,
        )  # fmt: skip
        assert delivered.status_code == 200, stack.logs()

        deadline = time.monotonic() + 60
        while True:
            payment = client.get(f"/api/payments/{payment_id}/").json()
            if payment["status"] == "succeeded" or time.monotonic() > deadline:
                break
            stack.assert_running()
            time.sleep(0.3)

        assert payment["status"] == "succeeded", stack.logs()
        assert [a["action"] for a in payment["attempts"]] == ["create", "webhook"]
        order = client.get("/api/orders/").json()["results"][0]
        assert order["status"] == "paid"
        assert "webhook processed" in stack.logs()  # by the worker's logger
