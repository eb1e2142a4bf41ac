from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from orders.models import Order
from orders.tests.factories import place_checkout
from payments.models import Payment, WebhookEvent
from payments.tests.helpers import DECLINED_CARD, confirm, create, signed_webhook
from products.models import Size
from products.tests.factories import make_product
from stores.tests.factories import StoreFactory

pytestmark = pytest.mark.django_db(transaction=True)


def pay(client: APIClient, user, *products) -> Payment:
    payment_id = create(client, place_checkout(user, *products)).json()["id"]
    assert confirm(client, payment_id).status_code == 200
    return Payment.objects.get(pk=payment_id)


def test_analytics_for_staff_and_for_a_store_owner(
    auth_client: APIClient, user, make_auth_client, staff_client, django_assert_max_num_queries
):
    mine, theirs = make_product(stock=20), make_product(stock=20)
    owner = make_auth_client(mine.store.owner)
    yesterday = timezone.now() - timedelta(days=1)
    with time_machine.travel(yesterday, tick=False):
        buyer = make_auth_client(user)
        pay(buyer, user, mine, theirs)  # 100 + 100, one payment
        failed = create(buyer, place_checkout(user, mine)).json()["id"]
        signed_webhook(
            APIClient(),
            {"id": "evt_f", "type": "payment.failed", "data": {"payment_id": failed}},
        )
    payment = pay(auth_client, user, mine)
    owner.post(f"/api/payments/{payment.pk}/refund/", {"amount": "30.00"}, format="json")

    with django_assert_max_num_queries(6):
        as_staff = staff_client.get("/api/payments/analytics/")
    with django_assert_max_num_queries(7):
        as_owner = owner.get("/api/payments/analytics/")

    assert as_staff.status_code == 200
    staff = as_staff.json()
    assert staff["totals"] == [
        {
            "currency": "SDG",
            "revenue": "300.00",
            "orders": 3,
            "refunded": "30.00",
            "refunds": 1,
            "net": "270.00",
            "payments_succeeded": 2,
            "payments_failed": 1,
            "success_rate": 0.6667,
        }
    ]
    assert [(d["date"], d["revenue"], d["refunded"]) for d in staff["by_day"]] == [
        (yesterday.date().isoformat(), "200.00", "0.00"),
        (timezone.now().date().isoformat(), "100.00", "30.00"),
    ]
    mine_only = as_owner.json()["totals"][0]
    assert mine_only["revenue"] == "200.00"  # their two orders, not the other store's
    assert mine_only["orders"] == 2
    assert mine_only["refunded"] == "30.00"


def test_analytics_range_and_permissions(auth_client: APIClient, make_auth_client, staff_client):
    store = StoreFactory()
    owner = make_auth_client(store.owner)
    other_store = StoreFactory()

    assert auth_client.get("/api/payments/analytics/").status_code == 403  # no store
    assert owner.get(f"/api/payments/analytics/?store={other_store.pk}").status_code == 404
    assert owner.get(f"/api/payments/analytics/?store={store.pk}").status_code == 200
    bad = staff_client.get("/api/payments/analytics/?from=2026-02-01&to=2026-01-01")
    assert bad.status_code == 400
    assert "from" in bad.json()["details"]
    assert staff_client.get(
        "/api/payments/analytics/?from=2024-01-01&to=2026-01-01"
    ).status_code == (400)
    assert staff_client.get("/api/payments/analytics/?from=yesterday").status_code == 400
    for query in ("to=0001-01-01", "from=9999-12-30&to=9999-12-31", "to="):
        assert staff_client.get(f"/api/payments/analytics/?{query}").status_code == 400, query
    empty = staff_client.get("/api/payments/analytics/?from=2020-01-01&to=2020-01-31").json()
    assert empty["from"] == "2020-01-01"
    assert empty["totals"] == []
    assert empty["by_day"] == []


# --- admin -----------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, staff_user):  # type: ignore[no-untyped-def]
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    return client


def test_admin_pages_show_payments_refunds_and_the_inbox(
    admin_client, auth_client: APIClient, user
):
    payment_id = create(auth_client, place_checkout(user)).json()["id"]
    confirm(auth_client, payment_id, DECLINED_CARD)
    signed_webhook(
        APIClient(),
        {"id": "evt_1", "type": "payment.succeeded", "data": {"payment_id": payment_id}},
    )

    for url in (
        "/admin/payments/payment/",
        f"/admin/payments/payment/{payment_id}/change/",
        "/admin/payments/refund/",
        "/admin/payments/webhookevent/",
        f"/admin/payments/webhookevent/{WebhookEvent.objects.get().pk}/change/",
    ):
        assert admin_client.get(url).status_code == 200, url
    page = admin_client.get(f"/admin/payments/payment/{payment_id}/change/").content.decode()
    assert "card_declined" in page
    assert DECLINED_CARD not in page


def test_admin_refund_action_refunds_through_the_service(admin_client, auth_client, user):
    product = make_product(stock=5)
    payment = pay(auth_client, user, product)

    response = admin_client.post(
        "/admin/payments/payment/",
        {"action": "refund_in_full", "_selected_action": [payment.pk]},
    )

    assert response.status_code == 302
    payment.refresh_from_db()
    assert payment.status == "refunded"
    assert Order.objects.get().status == "refunded"
    assert Size.objects.get(product=product).on_hand == 4  # refunded, not restocked


def test_admin_replays_a_dead_letter(admin_client, auth_client, user, settings):
    payment_id = create(auth_client, place_checkout(user)).json()["id"]
    event = WebhookEvent.objects.create(
        provider="test",
        event_id="evt_dead",
        type="payment.succeeded",
        payload={"id": "evt_dead", "type": "payment.succeeded", "data": {"payment_id": payment_id}},
        status=WebhookEvent.Status.DEAD,
        attempts=6,
        last_error="PaymentNotFound",
    )

    admin_client.post(
        "/admin/payments/webhookevent/", {"action": "replay", "_selected_action": [event.pk]}
    )

    event.refresh_from_db()
    assert event.status == "processed"
    assert Payment.objects.get(pk=payment_id).status == "succeeded"


def test_payments_cannot_be_added_or_edited_in_the_admin(admin_client, auth_client, user):
    payment_id = create(auth_client, place_checkout(user)).json()["id"]

    assert admin_client.get("/admin/payments/payment/add/").status_code == 403
    admin_client.post(
        f"/admin/payments/payment/{payment_id}/change/", {"status": "succeeded", "amount": "1"}
    )

    payment = Payment.objects.get(pk=payment_id)
    assert payment.status == "pending"
    assert str(payment.amount) == "100.00"


def test_revenue_counts_only_what_was_sold(
    auth_client: APIClient, user, make_auth_client, staff_client
):
    kept, dropped, cash = make_product(stock=5), make_product(stock=5), make_product(stock=5)
    checkout = place_checkout(user, kept, dropped)
    dropped_order = Order.objects.get(checkout=checkout, store=dropped.store)
    auth_client.put(f"/api/orders/{dropped_order.pk}/status/", {"status": "cancelled"})
    assert confirm(auth_client, create(auth_client, checkout).json()["id"]).status_code == 200
    # Cash on delivery, cancelled before the cash changed hands.
    cash_checkout = place_checkout(user, cash)
    create(auth_client, cash_checkout, "cash_on_delivery")
    cash_order = Order.objects.get(checkout=cash_checkout)
    auth_client.put(f"/api/orders/{cash_order.pk}/status/", {"status": "cancelled"})

    totals = staff_client.get("/api/payments/analytics/").json()["totals"][0]

    assert totals["revenue"] == "100.00"
    assert totals["orders"] == 1
    assert totals["refunded"] == "0.00"


def test_admin_refunds_a_payment_that_sold_nothing(admin_client, auth_client, user, monkeypatch):
    from datetime import timedelta

    from orders.services import window
    from payments.gateways import GatewayResult
    from payments.gateways.test import TestGateway

    product = make_product(stock=1)
    checkout = place_checkout(user, product)
    payment_id = create(auth_client, checkout).json()["id"]
    with time_machine.travel(checkout.payment_deadline + timedelta(minutes=2), tick=False):
        window.expire_due_checkouts()
        place_checkout(make_product(stock=1).store.owner, product)  # the stock goes to someone else
        monkeypatch.setattr(TestGateway, "refund", lambda *a: GatewayResult(status="failed"))
        signed_webhook(
            APIClient(),
            {"id": "evt_late", "type": "payment.succeeded", "data": {"payment_id": payment_id}},
        )
        monkeypatch.undo()
    assert Payment.objects.get(pk=payment_id).status == "succeeded"  # its refund was refused

    admin_client.post(
        "/admin/payments/payment/", {"action": "refund_in_full", "_selected_action": [payment_id]}
    )

    assert Payment.objects.get(pk=payment_id).status == "refunded"


def test_refunding_a_duplicate_payment_gives_its_money_back_and_leaves_the_order_alone(
    admin_client, auth_client, user, monkeypatch
):
    from payments.gateways import GatewayResult
    from payments.gateways.test import TestGateway

    checkout = place_checkout(user)
    paying = create(auth_client, checkout).json()["id"]
    duplicate = create(auth_client, checkout).json()["id"]
    assert confirm(auth_client, paying).status_code == 200
    monkeypatch.setattr(TestGateway, "refund", lambda *a: GatewayResult(status="failed"))
    signed_webhook(
        APIClient(),
        {"id": "evt_dup", "type": "payment.succeeded", "data": {"payment_id": duplicate}},
    )
    monkeypatch.undo()
    assert Payment.objects.get(pk=duplicate).status == "succeeded"  # its refund was refused

    admin_client.post(
        "/admin/payments/payment/", {"action": "refund_in_full", "_selected_action": [duplicate]}
    )

    assert Payment.objects.get(pk=duplicate).status == "refunded"
    manual = Payment.objects.get(pk=duplicate).refunds.get(kind="manual")
    assert manual.order_id is None  # the duplicate paid for no order
    assert Order.objects.get().status == "paid"
    assert Payment.objects.get(pk=paying).refundable_amount == Payment.objects.get(pk=paying).amount


def test_a_refund_written_before_keys_were_stored_retries_with_its_first_key():
    from payments.gateways import refund_key
    from payments.models import Refund

    assert refund_key(Refund(pk=41, idempotency_key="")) == "sudamall-refund-41"
    assert refund_key(Refund(pk=41, idempotency_key="kept-key")) == "kept-key"
