import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from orders.services import window
from orders.tests.factories import SHIPPING_ADDRESS
from products.models import Size
from products.tests.factories import make_product
from stores.tests.factories import OwnerFactory

pytestmark = pytest.mark.django_db


def buy(client: APIClient, *products, quantity=1) -> dict:
    response = client.post(
        "/api/orders/",
        {
            "items": [{"product_id": p.pk, "quantity": quantity} for p in products],
            "shipping_address": SHIPPING_ADDRESS,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()


def move(client: APIClient, order_id: int, to: str, note: str = ""):
    return client.put(
        f"/api/orders/{order_id}/status/", {"status": to, "note": note}, format="json"
    )


def test_order_list_and_detail_within_budget(
    auth_client: APIClient, django_assert_max_num_queries, settings
):
    settings.HOLD_MAX_OPEN_CHECKOUTS = 20  # one buyer with many unpaid orders, to list them
    for n in range(12):
        buy(auth_client, make_product(name=f"P{n}", stock=3), make_product(stock=3))

    with django_assert_max_num_queries(6):
        listed = auth_client.get("/api/orders/?page_size=100")
    order_id = listed.json()["results"][0]["id"]
    with django_assert_max_num_queries(6):
        detail = auth_client.get(f"/api/orders/{order_id}/")

    assert listed.json()["count"] == 24
    assert detail.json()["number"].startswith("SM-")


def test_someone_elses_order_is_404(auth_client: APIClient, make_auth_client):
    placed = buy(make_auth_client(UserFactory()), make_product(stock=3))
    order_id = placed["orders"][0]["id"]

    assert auth_client.get(f"/api/orders/{order_id}/").status_code == 404
    assert move(auth_client, order_id, "cancelled").status_code == 404
    assert auth_client.get("/api/orders/").json()["count"] == 0


def test_the_store_owner_fulfils_and_the_buyer_sees_every_step(
    auth_client: APIClient, make_auth_client
):
    product = make_product(stock=3)
    placed = buy(auth_client, product)
    order_id = placed["orders"][0]["id"]
    owner = make_auth_client(product.store.owner)

    early = move(owner, order_id, "processing")
    assert early.status_code == 409
    assert early.json()["code"] == "invalid_transition"

    window.mark_checkout_paid(checkout_id=placed["id"])
    for step in ("processing", "shipped", "delivered"):
        assert move(owner, order_id, step, note=f"now {step}").status_code == 200

    events = auth_client.get(f"/api/orders/{order_id}/").json()["events"]
    assert [(e["from_status"], e["to_status"]) for e in events] == [
        ("", "pending_payment"),
        ("pending_payment", "paid"),
        ("paid", "processing"),
        ("processing", "shipped"),
        ("shipped", "delivered"),
    ]
    assert events[-1]["actor"] == {"role": "store", "display_name": product.store.name}
    assert events[-1]["note"] == "now delivered"


def test_a_buyer_cannot_ship_and_an_owner_cannot_skip_steps(
    auth_client: APIClient, make_auth_client
):
    product = make_product(stock=3)
    placed = buy(auth_client, product)
    order_id = placed["orders"][0]["id"]
    window.mark_checkout_paid(checkout_id=placed["id"])

    assert move(auth_client, order_id, "shipped").status_code == 409
    assert move(make_auth_client(product.store.owner), order_id, "delivered").status_code == 409
    owner = make_auth_client(product.store.owner)
    assert move(owner, order_id, "refunded").status_code == 409  # refunds move it, not people
    assert move(owner, order_id, "processing").status_code == 200
    assert move(owner, order_id, "shipped").status_code == 200
    assert move(auth_client, order_id, "cancelled").status_code == 409  # shipped: too late


def test_the_buyer_cancels_while_pending_payment_and_stock_returns(auth_client: APIClient):
    product = make_product(stock=3)
    placed = buy(auth_client, product, quantity=2)
    order_id = placed["orders"][0]["id"]

    response = move(auth_client, order_id, "cancelled", note="changed my mind")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    size = Size.objects.get(product=product)
    assert (size.on_hand, size.reserved) == (3, 0)
    assert move(auth_client, order_id, "pending_payment").status_code == 409


def test_the_stores_orders_are_for_its_owner(auth_client: APIClient, make_auth_client):
    product = make_product(stock=3)
    buy(auth_client, product)
    url = f"/api/stores/{product.store_id}/orders/"

    assert make_auth_client(product.store.owner).get(url).json()["count"] == 1
    assert make_auth_client(OwnerFactory()).get(url).status_code == 403
    assert auth_client.get(url).status_code == 403


@pytest.mark.parametrize("status", ["shipping", "", None])
def test_unknown_statuses_are_400(auth_client: APIClient, status):
    placed = buy(auth_client, make_product(stock=3))

    assert move(auth_client, placed["orders"][0]["id"], status).status_code == 400


def test_emails_on_placed_shipped_delivered_cancelled_and_expired(
    auth_client: APIClient, make_auth_client, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    import time_machine
    from django.core import mail
    from django.utils import timezone

    product = make_product(name="Kettle", stock=5)
    owner = make_auth_client(product.store.owner)
    with django_capture_on_commit_callbacks(execute=True):
        placed = buy(auth_client, product)
        window.mark_checkout_paid(checkout_id=placed["id"])
        order_id = placed["orders"][0]["id"]
        for step in ("processing", "shipped", "delivered"):
            move(owner, order_id, step)
        cancelled = buy(auth_client, product)
        move(auth_client, cancelled["orders"][0]["id"], "cancelled")
        buy(auth_client, product)
    with (
        time_machine.travel(timezone.now() + timedelta(minutes=16), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        window.expire_due_checkouts()

    subjects = [m.subject for m in mail.outbox]
    assert subjects.count("Your order is reserved — pay within 15 minutes") == 3
    number = placed["orders"][0]["number"]
    assert f"Order {number} is on its way" in subjects
    assert f"Order {number} was delivered" in subjects
    assert f"Order {cancelled['orders'][0]['number']} was cancelled" in subjects
    assert sum("expired unpaid" in s for s in subjects) == 1
    assert "1 x Kettle" in mail.outbox[0].body


def test_cancelling_one_order_of_a_checkout_leaves_the_rest_payable(auth_client: APIClient):
    first, second = make_product(stock=3), make_product(stock=3)
    placed = buy(auth_client, first, second)
    cancelled_id, kept_id = (o["id"] for o in placed["orders"])

    move(auth_client, cancelled_id, "cancelled")
    window.mark_checkout_paid(checkout_id=placed["id"])

    from orders.models import Checkout, Order

    assert Order.objects.get(pk=cancelled_id).status == "cancelled"
    assert Order.objects.get(pk=kept_id).status == "paid"
    checkout = Checkout.objects.get(pk=placed["id"])
    assert checkout.total == Order.objects.get(pk=kept_id).total
    a, b = (Size.objects.get(product=p) for p in (first, second))
    assert (a.on_hand, a.reserved, b.on_hand, b.reserved) == (3, 0, 2, 0)


def test_cancelling_every_order_cancels_the_checkout(auth_client: APIClient):
    placed = buy(auth_client, make_product(stock=3))

    move(auth_client, placed["orders"][0]["id"], "cancelled")

    from orders.models import Checkout

    assert Checkout.objects.get(pk=placed["id"]).status == "cancelled"
    with pytest.raises(window.LatePaymentOutOfStock):
        window.mark_checkout_paid(checkout_id=placed["id"])


def test_a_checkout_too_large_for_the_total_columns_is_400(auth_client: APIClient):
    from decimal import Decimal

    product = make_product(price=Decimal("9999999999.99"), stock=1000)

    response = auth_client.post(
        "/api/orders/",
        {
            "items": [{"product_id": product.pk, "quantity": 1000}],
            "shipping_address": SHIPPING_ADDRESS,
        },
        format="json",
    )

    assert response.status_code == 400
    assert Size.objects.get(product=product).reserved == 0


def test_the_sweep_emails_only_the_orders_it_expired(
    auth_client: APIClient, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    import time_machine
    from django.core import mail
    from django.utils import timezone

    placed = buy(auth_client, make_product(stock=3), make_product(stock=3))
    cancelled, kept = placed["orders"]
    move(auth_client, cancelled["id"], "cancelled")
    mail.outbox.clear()

    with (
        time_machine.travel(timezone.now() + timedelta(minutes=16), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        window.expire_due_checkouts()

    assert [m.subject for m in mail.outbox] == [f"Order {kept['number']} expired unpaid"]


def test_store_orders_query_budget(
    auth_client: APIClient, make_auth_client, django_assert_max_num_queries, settings
):
    from stores.tests.factories import StoreFactory

    settings.HOLD_MAX_OPEN_CHECKOUTS = 20  # one buyer with many unpaid orders, to list them
    store = StoreFactory()
    for n in range(10):
        buy(auth_client, make_product(store=store, name=f"P{n}", stock=3))
    owner = make_auth_client(store.owner)

    with django_assert_max_num_queries(7):  # + the store lookup for the ownership check
        response = owner.get(f"/api/stores/{store.pk}/orders/?page_size=100")

    assert response.json()["count"] == 10
