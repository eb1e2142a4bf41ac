"""Search as it runs: a real web process, a real Celery worker draining the feed, and real
client software (httpx; ``websockets`` without an Origin, as a native app connects)."""

import asyncio
import json
import time

import httpx
import pytest

from core.tests.stack import running_stack, services_configured

pytestmark = pytest.mark.integration

MAKE_PRODUCT = """
from decimal import Decimal
from accounts.models import User
from products.services import catalog
from stores.models import Store
owner = User.objects.get(pk=1)
store = Store.objects.create(owner=owner, name="متجر أم درمان", slug="omdurman-it")
product = catalog.create_product(user=owner, store=store, data={
    "name": "مَرْكُوب جلد ثعبان", "description": "handmade", "price": Decimal("4500"), "stock": 3})
print(product.pk)
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
def test_a_product_made_in_one_process_is_found_through_the_worker_and_the_socket(tmp_path, mode):
    import websockets

    with running_stack(mode, tmp_path) as stack:
        product_id = int(stack.manage("shell", "-c", MAKE_PRODUCT).strip().splitlines()[-1])

        found: list[int] = []
        deadline = time.monotonic() + 30  # the worker drains it within seconds
        while time.monotonic() < deadline and not found:
            body = httpx.get(stack.base_url + "/api/search/products/", params={"q": "مركوب"}).json()
            found = [p["id"] for p in body["results"]]
            if not found:
                time.sleep(0.5)

        async def autocomplete() -> dict:
            url = stack.base_url.replace("http://", "ws://") + "/ws/autocomplete/"
            async with websockets.connect(url) as socket:  # no Origin header
                await socket.send(json.dumps({"query": "مرك", "size": 5}))
                return json.loads(await asyncio.wait_for(socket.recv(), 10))

        answer = asyncio.run(autocomplete())

        assert found == [product_id], stack.logs()
        assert body["backend"] == "database"
        assert answer["suggestions"][0] == {
            "text": "مَرْكُوب جلد ثعبان",
            "kind": "product",
            "id": str(product_id),
        }
