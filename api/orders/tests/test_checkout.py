from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from carts import selectors as cart_selectors
from carts.models import CartItem
from carts.tests.factories import fill_cart
from orders.models import Checkout, Order
from orders.services import checkout as checkout_services
from orders.services import window
from orders.tests.factories import SHIPPING_ADDRESS
from products.exceptions import OutOfStock
from products.models import Reservation, Size
from products.services import catalog, stock
from products.tests.factories import make_product
from stores.tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


def add(client: APIClient, product, quantity=1, size=None):
    body = {"product_id": product.pk, "quantity": quantity}
    if size is not None:
        body["size_id"] = size.pk
    assert client.post("/api/cart/add/", body, format="json").status_code == 201


def checkout(client: APIClient, **headers):
    return client.post(
        "/api/cart/checkout/",
        # A Sudanese number the way people type it: stored in E.164.
        {"shipping_address": {**SHIPPING_ADDRESS, "phone": "0912345678"}},
        format="json",
        headers=headers,
    )


def test_cart_checkout_makes_one_order_per_store_and_holds_the_stock(
    auth_client: APIClient, django_capture_on_commit_callbacks
):
    shop_a, shop_b = StoreFactory(name="A"), StoreFactory(name="B")
    shirt = make_product(
        store=shop_a, name="Shirt", price=Decimal("100"), sizes=[{"name": "M", "stock": 5}]
    )
    socks = make_product(store=shop_a, name="Socks", price=Decimal("10"), stock=9)
    dates = make_product(store=shop_b, name="Dates", price=Decimal("40"), stock=3)
    add(auth_client, shirt, 2, shirt.sizes.get())
    add(auth_client, socks, 3)
    add(auth_client, dates, 1)

    started = timezone.now()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = checkout(auth_client)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["total"] == "270.00"
    assert body["status"] == "pending_payment"
    assert len(body["orders"]) == 2
    by_store = {o["store"]["name"]: o for o in body["orders"]}
    assert by_store["A"]["total"] == "230.00"
    assert [
        (line["name"], line["size"], line["quantity"], line["unit_price"])
        for line in by_store["A"]["lines"]
    ] == [
        ("Shirt", "M", 2, "100.00"),
        ("Socks", "", 3, "10.00"),
    ]
    assert by_store["A"]["lines"][0]["product_version"] == 1
    assert by_store["A"]["shipping_address"]["phone"] == "+249912345678"
    assert by_store["A"]["events"][0]["to_status"] == "pending_payment"
    deadline = timezone.datetime.fromisoformat(body["payment_deadline"].replace("Z", "+00:00"))
    assert (
        timedelta(minutes=14, seconds=59) <= deadline - started <= timedelta(minutes=15, seconds=5)
    )
    assert Size.objects.get(product=shirt).reserved == 2
    assert not CartItem.objects.exists()  # bought lines leave the cart
    # After commit: the checkout.created ring and the one follow-up message (timers, email).
    assert len(callbacks) == 2


def test_checkout_names_every_short_line_and_changes_nothing(auth_client: APIClient):
    plenty = make_product(name="Plenty", stock=10)
    scarce = make_product(name="Scarce", stock=3)
    add(auth_client, plenty, 2)
    add(auth_client, scarce, 3)
    Size.objects.filter(product=scarce).update(on_hand=1)  # sold elsewhere meanwhile

    response = checkout(auth_client)

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "out_of_stock"
    assert body["details"]["lines"] == [
        {"size_id": scarce.sizes.get().pk, "requested": 3, "available": 1}
    ]
    assert not Order.objects.exists()
    assert not Reservation.objects.exists()
    assert CartItem.objects.count() == 2


def test_an_empty_cart_cannot_check_out(auth_client: APIClient):
    response = checkout(auth_client)

    assert response.status_code == 400


def test_buy_now_and_idempotent_retries(auth_client: APIClient):
    product = make_product(stock=5)
    body = {
        "items": [{"product_id": product.pk, "quantity": 2}],
        "shipping_address": SHIPPING_ADDRESS,
    }
    headers = {"Idempotency-Key": "buy-now-123"}

    first = auth_client.post("/api/orders/", body, format="json", headers=headers)
    retry = auth_client.post("/api/orders/", body, format="json", headers=headers)
    other = auth_client.post(
        "/api/orders/", {**body, "items": [{"product_id": product.pk, "quantity": 1}]},
        format="json", headers=headers,
    )  # fmt: skip

    assert first.status_code == retry.status_code == 201
    assert retry.json()["id"] == first.json()["id"]
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert other.status_code == 422
    assert Checkout.objects.count() == 1
    assert Size.objects.get(product=product).reserved == 2


def test_a_bad_address_or_item_is_400(auth_client: APIClient):
    product = make_product(stock=5)

    bad_address = auth_client.post(
        "/api/orders/",
        {"items": [{"product_id": product.pk, "quantity": 1}], "shipping_address": {"city": "X"}},
        format="json",
    )
    gone = auth_client.post(
        "/api/orders/",
        {"items": [{"product_id": 999999, "quantity": 1}], "shipping_address": SHIPPING_ADDRESS},
        format="json",
    )

    assert bad_address.status_code == 400
    assert gone.status_code == 400
    assert gone.json()["details"]["items"] == ["Line 1: product 999999 is not on sale."]


def test_the_price_charged_is_current_price_at_checkout(auth_client: APIClient):
    now = timezone.now()
    window = {"starts_at": now - timedelta(hours=1), "ends_at": now + timedelta(hours=1)}
    product = make_product(price=Decimal("100"), stock=5, offer={"price": Decimal("60"), **window})
    add(auth_client, product, 1)

    assert checkout(auth_client).json()["total"] == "60.00"


def test_expired_checkout_stock_can_be_bought_with_no_worker_running(
    auth_client: APIClient, make_auth_client
):
    from accounts.tests.factories import UserFactory

    product = make_product(stock=1)
    add(auth_client, product, 1)
    first = checkout(auth_client).json()

    later = timezone.now() + timedelta(minutes=16)
    with time_machine.travel(later, tick=False):
        someone = make_auth_client(UserFactory())
        add(someone, product, 1)  # availability doesn't count the expired hold
        second = checkout(someone)

    assert second.status_code == 201
    assert (
        Reservation.objects.get(reference=f"order:{first['orders'][0]['id']}").status == "released"
    )


def test_mark_paid_sells_the_held_stock_and_is_idempotent(auth_client: APIClient):
    product = make_product(stock=5)
    add(auth_client, product, 2)
    placed = checkout(auth_client).json()

    window.mark_checkout_paid(checkout_id=placed["id"])
    window.mark_checkout_paid(checkout_id=placed["id"])

    size = Size.objects.get(product=product)
    assert (size.on_hand, size.reserved) == (3, 0)
    assert Order.objects.get().status == "paid"
    detail = auth_client.get(f"/api/orders/{placed['orders'][0]['id']}/").json()
    assert [e["to_status"] for e in detail["events"]] == ["pending_payment", "paid"]


def test_late_payment_with_stock_still_free_is_paid(auth_client: APIClient):
    product = make_product(stock=2)
    add(auth_client, product, 2)
    placed = checkout(auth_client).json()

    with time_machine.travel(timezone.now() + timedelta(minutes=20), tick=False):
        window.expire_due_checkouts()
        window.mark_checkout_paid(checkout_id=placed["id"])

    assert Checkout.objects.get().status == "paid"
    size = Size.objects.get(product=product)
    assert (size.on_hand, size.reserved) == (0, 0)


def test_late_payment_with_stock_gone_raises_for_a_refund(auth_client: APIClient, make_auth_client):
    from accounts.tests.factories import UserFactory

    product = make_product(stock=1)
    add(auth_client, product, 1)
    placed = checkout(auth_client).json()

    with time_machine.travel(timezone.now() + timedelta(minutes=20), tick=False):
        other = make_auth_client(UserFactory())
        add(other, product, 1)
        checkout(other)
        with pytest.raises(window.LatePaymentOutOfStock):
            window.mark_checkout_paid(checkout_id=placed["id"])

    assert Checkout.objects.get(pk=placed["id"]).status != "paid"


def test_expiry_releases_stock_and_expires_orders(auth_client: APIClient):
    product = make_product(stock=3)
    add(auth_client, product, 3)
    placed = checkout(auth_client).json()

    assert window.expire_checkout(checkout_id=placed["id"]) is False  # not yet due
    with time_machine.travel(timezone.now() + timedelta(minutes=15, seconds=1), tick=False):
        assert window.expire_checkout(checkout_id=placed["id"]) is True
        assert window.expire_checkout(checkout_id=placed["id"]) is False

    size = Size.objects.get(product=product)
    assert (size.on_hand, size.reserved) == (3, 0)
    assert Order.objects.get().status == "expired"
    assert Checkout.objects.get().status == "expired"


@pytest.mark.slow  # ten thousand rows
def test_the_sweep_expires_ten_thousand_units_in_a_fixed_number_of_statements(
    django_assert_max_num_queries, settings
):
    from accounts.tests.factories import UserFactory

    settings.HOLD_MAX_UNITS, settings.HOLD_MAX_OPEN_CHECKOUTS = 10_000, 100  # one hoarder

    buyer = UserFactory()
    sizes = [make_product(stock=10_000).sizes.get() for _ in range(4)]
    for size in sizes:
        for _ in range(25):  # 100 checkouts, 100 orders, 10 000 units held
            checkout_services.place_checkout(
                buyer=buyer,
                lines=[checkout_services.LineRequest(size.product_id, None, 100)],
                shipping_address=SHIPPING_ADDRESS,
            )

    later = timezone.now() + timedelta(minutes=16)
    # +3: the buyers are told in three statements however many (notifications.events.push_many)
    # +1: their emails written to the task outbox in one statement (core.outbox.enqueue_many)
    # +2: the products back on sale reported to the search feed (their ids, one INSERT)
    # +10: their order_status notifications, however many (notifications.services.notify_many:
    # the keys already used, the dispatches, their ids, the in-app rows, their ids, 3 for their
    # notification.created events, their emails' outbox rows)
    with time_machine.travel(later, tick=False), django_assert_max_num_queries(32):
        expired = window.expire_due_checkouts()

    assert expired == 100
    assert (
        sum(Size.objects.filter(pk__in=[s.pk for s in sizes]).values_list("reserved", flat=True))
        == 0
    )
    assert not Order.objects.exclude(status="expired").exists()


def test_own_products_cannot_be_bought(make_auth_client):
    product = make_product(stock=5)
    owner = make_auth_client(product.store.owner)

    response = owner.post(
        "/api/orders/",
        {
            "items": [{"product_id": product.pk, "quantity": 1}],
            "shipping_address": SHIPPING_ADDRESS,
        },
        format="json",
    )

    assert response.status_code == 400


def test_deleted_size_in_cart_blocks_checkout(auth_client: APIClient):
    product = make_product(sizes=[{"name": "S", "stock": 3}, {"name": "M", "stock": 3}])
    small = product.sizes.get(name="S")
    add(auth_client, product, 1, small)
    catalog.update_product(
        product=product, user=product.store.owner, data={"sizes": [{"name": "M"}]}
    )

    assert checkout(auth_client).status_code == 400


def test_checking_out_a_three_line_cart_stays_within_budget(
    auth_client: APIClient, django_assert_max_num_queries
):
    for n in range(3):
        product = make_product(name=f"P{n}", sizes=[{"name": "M", "stock": 4}])
        add(auth_client, product, 1, product.sizes.get())

    # The buyer (1), the cart's lines (1), their products and live sizes (2); then, in the
    # transaction (a savepoint pair here, 2): the buyer's row locked and what they hold read (2,
    # orders.limits), the checkout, its orders, lines, their numbers and events (5), the stock
    # held (5, products.services.stock: the sizes locked with what they hold, the expired holds,
    # the counters, the holds and the ledger), the cart's lines removed (1), checkout.created on
    # the buyer's event log (2, notifications.events) and one outbox message for everything after
    # commit (1, core.outbox: follow_up_checkout). The answer is made from what was written.
    with django_assert_max_num_queries(22):
        response = checkout(auth_client)

    assert response.status_code == 201


@pytest.mark.slow  # ten thousand rows
def test_the_sweep_releases_ten_thousand_reservations_in_a_fixed_number_of_statements(
    django_assert_max_num_queries,
):
    from accounts.tests.factories import UserFactory
    from orders.models import OrderLine

    buyer = UserFactory()
    product = make_product(stock=20_000)
    size = product.sizes.get()
    version = product.versions.get()
    past = timezone.now() - timedelta(minutes=1)
    checkouts = Checkout.objects.bulk_create(
        [Checkout(buyer=buyer, total=Decimal("1"), currency="SDG", payment_deadline=past,
                  shipping_address=SHIPPING_ADDRESS) for _ in range(10_000)]
    )  # fmt: skip
    orders = Order.objects.bulk_create(
        [Order(checkout=c, store=product.store, buyer=buyer, number=f"B-{c.pk}",
               total=Decimal("1"), currency="SDG", payment_deadline=past,
               shipping_address=SHIPPING_ADDRESS) for c in checkouts]
    )  # fmt: skip
    OrderLine.objects.bulk_create(
        [OrderLine(order=o, product=product, product_version=version, size=size, name="x",
                   unit_price=Decimal("1"), quantity=1, line_total=Decimal("1")) for o in orders]
    )  # fmt: skip
    Reservation.objects.bulk_create(
        [Reservation(size=size, quantity=1, expires_at=past, reference=o.stock_reference)
         for o in orders]
    )  # fmt: skip
    Size.objects.filter(pk=size.pk).update(reserved=10_000)

    # + batched event/ledger inserts, +1 for the emails' outbox rows, +10 for the buyers'
    # notifications in a fixed number of statements (notifications.services.notify_many)
    with django_assert_max_num_queries(27 + 10_000 // 1000):
        expired = window.expire_due_checkouts()

    assert expired == 10_000
    assert Size.objects.get(pk=size.pk).reserved == 0
    assert not Reservation.objects.filter(status="active").exists()
    assert Order.objects.filter(status="expired").count() == 10_000


def test_the_expiring_warning_waits_for_its_time(auth_client: APIClient, user):
    from notifications.models import UserEvent
    from orders import tasks

    product = make_product(stock=2)
    add(auth_client, product, 1)
    placed = checkout(auth_client).json()

    tasks.warn_checkout_expiring_task(checkout_id=placed["id"])  # 15 minutes early: nothing
    with time_machine.travel(timezone.now() + timedelta(minutes=10, seconds=1), tick=False):
        tasks.warn_checkout_expiring_task(checkout_id=placed["id"])

    warnings = UserEvent.objects.filter(user=user, type="checkout.expiring")
    assert [e.data["id"] for e in warnings] == [placed["id"]]


def test_the_warning_sets_the_expiry_task_only_for_an_unpaid_checkout(auth_client, user):
    from core.models import OutboxMessage
    from orders import tasks

    product = make_product(stock=5)
    add(auth_client, product, 1)
    unpaid = checkout(auth_client).json()
    add(auth_client, product, 1)
    paid = checkout(auth_client).json()
    window.mark_checkout_paid(checkout_id=paid["id"])
    OutboxMessage.objects.all().delete()

    with time_machine.travel(timezone.now() + timedelta(minutes=10, seconds=1), tick=False):
        assert tasks.warn_checkout_expiring_task(checkout_id=unpaid["id"]) is True
        assert tasks.warn_checkout_expiring_task(checkout_id=paid["id"]) is False

    deadline = Checkout.objects.get(pk=unpaid["id"]).payment_deadline
    assert list(OutboxMessage.objects.values_list("task", "kwargs", "eta")) == [
        ("orders.tasks.expire_checkout_task", {"checkout_id": unpaid["id"]}, deadline)
    ]


def test_checking_out_the_cart_takes_its_lines_through_the_carts_app():
    buyer = UserFactory()
    sandals, dates = make_product(name="Sandals", stock=3), make_product(name="Dates", stock=3)
    fill_cart(buyer, sandals, dates, quantity=2)

    checkout = checkout_services.place_checkout_from_cart(
        buyer=buyer, shipping_address=SHIPPING_ADDRESS
    )

    assert sorted(line.name for o in checkout.orders.all() for line in o.lines.all()) == [
        "Dates",
        "Sandals",
    ]
    assert cart_selectors.cart_summary(user=buyer)["item_count"] == 0


def test_a_cart_checkout_that_fails_keeps_the_cart():
    buyer = UserFactory()
    sandals = make_product(name="Sandals", stock=3)
    fill_cart(buyer, sandals, quantity=3)
    # Two sold at the counter meanwhile.
    stock.adjust_stock(size=sandals.sizes.get(), delta=-2, actor=None, reason="adjustment")

    with pytest.raises(OutOfStock):
        checkout_services.place_checkout_from_cart(buyer=buyer, shipping_address=SHIPPING_ADDRESS)

    assert cart_selectors.cart_summary(user=buyer)["item_count"] == 3


def test_the_checkout_answer_is_what_reading_it_back_gives(auth_client: APIClient, user):
    import json

    from rest_framework.renderers import JSONRenderer

    from orders import selectors
    from orders.serializers import CheckoutSerializer

    shop = StoreFactory(name="Two lines")
    for n in range(4):
        product = make_product(
            store=shop if n < 2 else None, name=f"P{n}", price=Decimal("12.5") + n,
            sizes=[{"name": "M", "stock": 4}, {"name": "L", "stock": 3}],
        )  # fmt: skip
        add(auth_client, product, 2, product.sizes.get(name="L"))
    catalog.update_product(
        product=product, user=product.store.owner, data={"name": "P3, renamed"}
    )  # its second version
    add(auth_client, make_product(name="Plain", stock=5), 1)

    response = checkout(auth_client)

    assert response.status_code == 201
    stored = selectors.get_checkout_for_user(checkout_id=response.json()["id"], user=user)
    assert response.json() == json.loads(JSONRenderer().render(CheckoutSerializer(stored).data))
    assert [len(o["lines"]) for o in response.json()["orders"]] == [2, 1, 1, 1]
    assert response.json()["orders"][2]["lines"][0]["product_version"] == 2


def test_the_follow_up_sets_the_timers_and_tells_the_buyer_once(auth_client: APIClient, user):
    from django.core import mail

    from core.models import OutboxMessage
    from notifications.models import Notification, UserEvent

    shop = StoreFactory(name="Kassala Dates")
    add(auth_client, make_product(store=shop, name="Ajwa", stock=5), 2)
    placed = checkout(auth_client).json()
    assert list(OutboxMessage.objects.values_list("task", "kwargs")) == [
        ("orders.tasks.follow_up_checkout_task", {"checkout_id": placed["id"]})
    ]  # what the checkout queued: one message (not run here, nothing commits in this test)
    OutboxMessage.objects.all().delete()

    assert window.follow_up_checkout(checkout_id=placed["id"]) is True
    assert window.follow_up_checkout(checkout_id=placed["id"]) is False  # a repeat

    timers = {m.task: m.eta for m in OutboxMessage.objects.all()}
    deadline = Checkout.objects.get().payment_deadline
    # One timer: the warning; it sets the expiry task (test_the_warning_sets_the_expiry_...).
    assert timers == {"orders.tasks.warn_checkout_expiring_task": deadline - timedelta(minutes=5)}
    assert [m.subject for m in mail.outbox] == ["Your order is reserved — pay within 15 minutes"]
    assert "2 x Ajwa" in mail.outbox[0].body
    assert "Kassala Dates" in mail.outbox[0].body
    assert Notification.objects.get(user=user).kind == "order_placed"
    types = UserEvent.objects.filter(user=user).order_by("seq").values_list("type", flat=True)
    assert list(types)[-2:] == ["checkout.created", "notification.created"]
