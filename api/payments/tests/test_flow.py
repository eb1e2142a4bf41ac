"""Paying a checkout with the test gateway, over HTTP, against the real database: create,
confirm with each of API.md's cards, the window, the access rules, cash on delivery."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from orders.models import Checkout, Order
from orders.tests.factories import place_checkout
from payments.models import Payment, PaymentAttempt
from payments.tests.helpers import (
    DECLINED_CARD,
    NO_FUNDS_CARD,
    confirm,
    create,
    stock,
)
from products.tests.factories import make_product

pytestmark = pytest.mark.django_db(transaction=True)


def test_pay_a_checkout_with_the_test_card_end_to_end(auth_client: APIClient, user):
    product = make_product(stock=5)
    checkout = place_checkout(user, product, quantity=2)

    created = create(auth_client, checkout)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "pending"
    assert body["amount"] == "200.00"
    assert body["currency"] == checkout.currency
    assert body["gateway"] == "test"
    assert body["expires_at"] is not None
    assert body["client_secret"] is None

    paid = confirm(auth_client, body["id"])
    assert paid.status_code == 200, paid.content
    assert paid.json()["status"] == "succeeded"

    assert stock(product) == (3, 0)
    assert Order.objects.get(checkout=checkout).status == "paid"
    assert Checkout.objects.get(pk=checkout.pk).status == "paid"
    assert any("Payment received" in m.subject for m in mail.outbox)
    payment = Payment.objects.get(pk=body["id"])
    # 2.9 % + 0.30 of 200.00, computed here, never taken from the client.
    assert str(payment.fee) == "6.10"
    assert str(payment.net_amount) == "193.90"


@pytest.mark.parametrize(
    ("card", "reason"), [(DECLINED_CARD, "card_declined"), (NO_FUNDS_CARD, "insufficient_funds")]
)
def test_a_declined_card_is_402_records_the_attempt_and_commits_nothing(
    auth_client: APIClient, user, card, reason
):
    product = make_product(stock=5)
    checkout = place_checkout(user, product, quantity=2)
    payment_id = create(auth_client, checkout).json()["id"]

    declined = confirm(auth_client, payment_id, card)

    assert declined.status_code == 402
    assert declined.json()["code"] == "payment_declined"
    assert declined.json()["details"]["reason"] == reason
    assert stock(product) == (5, 2)  # still held for the window, not sold
    assert Order.objects.get(checkout=checkout).status == "pending_payment"
    payment = Payment.objects.get(pk=payment_id)
    assert payment.status == "pending"
    assert payment.failure_code == reason
    attempt = payment.attempts.get(action=PaymentAttempt.Action.CONFIRM)
    assert attempt.outcome == "failed"
    assert attempt.response["card"] == {"last4": card[-4:], "brand": "visa"}
    assert card not in str(attempt.response)  # never the full number


def test_after_a_decline_another_card_pays_the_same_payment(auth_client: APIClient, user):
    product = make_product(stock=5)
    checkout = place_checkout(user, product)
    payment_id = create(auth_client, checkout).json()["id"]

    assert confirm(auth_client, payment_id, DECLINED_CARD).status_code == 402
    assert confirm(auth_client, payment_id).status_code == 200

    assert stock(product) == (4, 0)
    assert list(
        PaymentAttempt.objects.filter(payment_id=payment_id)
        .order_by("id")
        .values_list("action", "outcome")
    ) == [("create", "pending"), ("confirm", "failed"), ("confirm", "succeeded")]


def test_confirming_a_succeeded_payment_again_charges_nothing(auth_client: APIClient, user):
    checkout = place_checkout(user)
    payment_id = create(auth_client, checkout).json()["id"]
    assert confirm(auth_client, payment_id).status_code == 200

    again = confirm(auth_client, payment_id)

    assert again.status_code == 200
    assert again.json()["status"] == "succeeded"
    assert PaymentAttempt.objects.filter(payment_id=payment_id, action="confirm").count() == 1


def test_after_the_deadline_create_and_confirm_are_409_checkout_expired(
    auth_client: APIClient, user, make_auth_client
):
    product = make_product(stock=5)
    checkout = place_checkout(user, product)
    payment_id = create(auth_client, checkout).json()["id"]

    with time_machine.travel(checkout.payment_deadline + timedelta(seconds=1), tick=False):
        client = make_auth_client(user)  # the first access token has expired too
        late_create = create(client, checkout)
        late_confirm = confirm(client, payment_id)

    assert late_create.status_code == 409
    assert late_create.json()["code"] == "checkout_expired"
    assert late_confirm.status_code == 409
    assert late_confirm.json()["code"] == "checkout_expired"
    assert not PaymentAttempt.objects.filter(payment_id=payment_id, action="confirm").exists()
    assert Payment.objects.filter(checkout=checkout).count() == 1


def test_a_paid_checkout_takes_no_second_payment(auth_client: APIClient, user):
    checkout = place_checkout(user)
    assert confirm(auth_client, create(auth_client, checkout).json()["id"]).status_code == 200

    again = create(auth_client, checkout)

    assert again.status_code == 409
    assert again.json()["code"] == "checkout_not_payable"


def test_someone_elses_checkout_or_payment_is_404(auth_client: APIClient, user, make_auth_client):
    checkout = place_checkout(user)
    payment_id = create(auth_client, checkout).json()["id"]
    stranger = make_auth_client(UserFactory())

    assert create(stranger, checkout).status_code == 404
    assert confirm(stranger, payment_id).status_code == 404
    assert stranger.get(f"/api/payments/{payment_id}/").status_code == 404
    assert stranger.post(f"/api/payments/{payment_id}/refund/", {"amount": "1.00"}).status_code == (
        404
    )
    assert stranger.get("/api/payments/").json()["count"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"checkout_id": 1, "gateway": "bitcoin"}, "gateway"),
        ({"checkout_id": "x", "gateway": "test"}, "checkout_id"),
        ({"gateway": "test"}, "checkout_id"),
    ],
)
def test_bad_create_input_is_400_and_stores_nothing(auth_client: APIClient, body, field):
    response = auth_client.post("/api/payments/create/", body, format="json")

    assert response.status_code == 400
    assert field in response.json()["details"]
    assert not Payment.objects.exists()


def test_a_card_number_that_is_not_digits_is_400(auth_client: APIClient, user):
    payment_id = create(auth_client, place_checkout(user)).json()["id"]

    response = auth_client.post(
        "/api/payments/confirm/", {"payment_id": payment_id, "card_number": "4242-4242"}
    )

    assert response.status_code == 400
    assert "card_number" in response.json()["details"]


def test_the_test_gateway_is_off_unless_enabled(auth_client: APIClient, user, settings):
    settings.PAYMENT_TEST_GATEWAY_ENABLED = False

    response = create(auth_client, place_checkout(user))

    assert response.status_code == 400
    assert response.json()["code"] == "gateway_unavailable"


def test_gateways_lists_what_is_enabled_here_with_fees(auth_client: APIClient):
    gateways = auth_client.get("/api/payments/gateways/").json()

    names = [g["gateway"] for g in gateways]
    assert names == ["test", "cash_on_delivery"]  # Stripe and PayPal need keys
    assert gateways[0]["fee_on_100"] == "3.20"


def test_create_with_the_same_idempotency_key_opens_one_payment(auth_client: APIClient, user):
    checkout = place_checkout(user)

    first = create(auth_client, checkout, **{"Idempotency-Key": "pay-1"})
    second = create(auth_client, checkout, **{"Idempotency-Key": "pay-1"})

    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert second.headers["Idempotent-Replayed"] == "true"
    assert Payment.objects.filter(checkout=checkout).count() == 1


def test_events_are_pushed_to_the_buyer(auth_client: APIClient, user, monkeypatch):
    from payments.services import notify

    pushed = []
    monkeypatch.setattr(notify, "push_to_user", lambda uid, kind, data: pushed.append((uid, kind)))
    payment_id = create(auth_client, place_checkout(user)).json()["id"]

    confirm(auth_client, payment_id, DECLINED_CARD)
    confirm(auth_client, payment_id)

    assert pushed == [(user.pk, "payment.failed"), (user.pk, "payment.succeeded")]


def test_one_failed_email_per_payment_however_many_declines(auth_client: APIClient, user):
    payment_id = create(auth_client, place_checkout(user)).json()["id"]

    for _ in range(3):
        confirm(auth_client, payment_id, DECLINED_CARD)

    assert [m.subject for m in mail.outbox if "did not go through" in m.subject] == [
        "Your payment of 100.00 SDG did not go through"
    ]


def test_lists_and_details_within_query_budgets(
    auth_client: APIClient, user, make_auth_client, django_assert_max_num_queries
):
    for _ in range(3):
        payment_id = create(auth_client, place_checkout(user)).json()["id"]
        confirm(auth_client, payment_id, DECLINED_CARD)
        confirm(auth_client, payment_id)

    with django_assert_max_num_queries(5):
        listed = auth_client.get("/api/payments/?page_size=100")
    with django_assert_max_num_queries(6):
        detail = auth_client.get(f"/api/payments/{payment_id}/")

    assert listed.json()["count"] == 3
    assert [a["outcome"] for a in detail.json()["attempts"]] == ["pending", "failed", "succeeded"]
    assert detail.json()["attempts"][0]["response"] is None  # provider data is for staff


def test_the_stores_owner_and_staff_see_the_payment(
    auth_client: APIClient, user, make_auth_client, staff_client
):
    product = make_product(stock=5)
    payment_id = create(auth_client, place_checkout(user, product)).json()["id"]
    owner = make_auth_client(product.store.owner)

    seen_by_owner = owner.get(f"/api/payments/{payment_id}/")
    seen_by_staff = staff_client.get(f"/api/payments/{payment_id}/")

    assert seen_by_owner.status_code == 200
    assert seen_by_staff.status_code == 200
    assert seen_by_staff.json()["attempts"][0]["response"] is not None
    assert owner.get("/api/payments/").json()["count"] == 0  # the list is one's own payments


# --- cash on delivery ---------------------------------------------------------------------------


def test_cash_on_delivery_commits_stock_and_the_owner_collects(
    auth_client: APIClient, user, make_auth_client
):
    product = make_product(stock=5)
    checkout = place_checkout(user, product, quantity=2)

    created = create(auth_client, checkout, "cash_on_delivery")

    assert created.status_code == 201
    assert created.json()["status"] == "pending"
    assert stock(product) == (3, 0)  # sold: no money moves until the door
    order = Order.objects.get(checkout=checkout)
    assert order.status == "paid"
    payment_id = created.json()["id"]
    assert confirm(auth_client, payment_id).status_code == 409
    assert auth_client.post(f"/api/payments/{payment_id}/collect/").status_code == 404

    owner = make_auth_client(product.store.owner)
    collected = owner.post(f"/api/payments/{payment_id}/collect/")

    assert collected.status_code == 200
    assert collected.json()["status"] == "succeeded"
    assert collected.json()["collected_at"] is not None
    with time_machine.travel(timezone.now() + timedelta(hours=1), tick=False):
        from payments.tasks import payments_sweep_task

        assert payments_sweep_task()["payments_cancelled"] == 0


def test_cancelling_an_uncollected_cash_order_restocks_and_closes_the_payment(
    auth_client: APIClient, user
):
    product = make_product(stock=5)
    checkout = place_checkout(user, product, quantity=2)
    payment_id = create(auth_client, checkout, "cash_on_delivery").json()["id"]
    order = Order.objects.get(checkout=checkout)

    cancelled = auth_client.put(f"/api/orders/{order.pk}/status/", {"status": "cancelled"})

    assert cancelled.status_code == 200
    assert stock(product) == (5, 0)
    assert Payment.objects.get(pk=payment_id).status == "cancelled"
    assert not Payment.objects.get(pk=payment_id).refunds.exists()  # no money had moved


# --- the window -----------------------------------------------------------------------------------


def test_an_open_payment_is_cancelled_when_the_window_closes(auth_client: APIClient, user):
    from payments.tasks import payments_sweep_task

    product = make_product(stock=5)
    checkout = place_checkout(user, product)
    payment_id = create(auth_client, checkout).json()["id"]

    with time_machine.travel(checkout.payment_deadline + timedelta(minutes=1), tick=False):
        swept = payments_sweep_task()

    assert swept["payments_cancelled"] == 1
    payment = Payment.objects.get(pk=payment_id)
    assert payment.status == "cancelled"
    assert payment.attempts.filter(action="cancel").exists()
    closed = confirm(auth_client, payment_id)
    assert closed.status_code == 409
    assert closed.json()["code"] == "payment_closed"


def test_a_sibling_payment_is_closed_once_another_paid_the_checkout(auth_client: APIClient, user):
    from payments.tasks import payments_sweep_task

    checkout = place_checkout(user)
    first = create(auth_client, checkout).json()["id"]
    second = create(auth_client, checkout).json()["id"]
    assert confirm(auth_client, second).status_code == 200

    payments_sweep_task()

    assert Payment.objects.get(pk=first).status == "cancelled"
    assert Payment.objects.get(pk=second).status == "succeeded"


def test_cash_on_delivery_is_for_one_store(auth_client: APIClient, user):
    checkout = place_checkout(user, make_product(stock=5), make_product(stock=5))

    response = create(auth_client, checkout, "cash_on_delivery")

    assert response.status_code == 400
    assert response.json()["code"] == "gateway_unavailable"
    assert not Payment.objects.exists()
    assert Order.objects.filter(status="pending_payment").count() == 2


def test_cash_on_delivery_losing_the_race_with_expiry_leaves_nothing_open(
    auth_client: APIClient, user, monkeypatch
):
    from orders.services import window

    product = make_product(stock=5)
    checkout = place_checkout(user, product)

    def expired_meanwhile(*, checkout_id):  # type: ignore[no-untyped-def]
        raise window.LatePaymentOutOfStock()

    monkeypatch.setattr(window, "mark_checkout_paid", expired_meanwhile)
    response = create(auth_client, checkout, "cash_on_delivery")

    assert response.status_code == 409
    assert response.json()["code"] == "checkout_expired"
    assert Payment.objects.get().status == "cancelled"
    assert stock(product) == (5, 1)


def test_cancelling_a_paid_order_leaves_a_second_card_payment_for_the_sweep(
    auth_client: APIClient, user
):
    from payments.tasks import payments_sweep_task

    checkout = place_checkout(user)
    first = create(auth_client, checkout).json()["id"]
    second = create(auth_client, checkout).json()["id"]
    assert confirm(auth_client, first).status_code == 200
    order = Order.objects.get(checkout=checkout)
    assert (
        auth_client.put(f"/api/orders/{order.pk}/status/", {"status": "cancelled"}).status_code
        == 200
    )
    # Not closed behind the provider's back: the sweep cancels it there first.
    assert Payment.objects.get(pk=second).status == "pending"

    payments_sweep_task()

    closed = Payment.objects.get(pk=second)
    assert closed.status == "cancelled"
    assert closed.attempts.filter(action="cancel").exists()


def test_a_payment_closed_while_the_provider_created_it_is_cancelled_there_too(
    auth_client: APIClient, user, monkeypatch
):
    from payments.gateways.test import TestGateway

    checkout = place_checkout(user)
    real_create = TestGateway.create

    def slow_create(self, payment):  # type: ignore[no-untyped-def]
        # Meanwhile the window's sweep closed the payment (it had nothing to cancel yet).
        Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.CANCELLED)
        return real_create(self, payment)

    monkeypatch.setattr(TestGateway, "create", slow_create)
    response = create(auth_client, checkout)

    assert response.status_code == 409
    assert response.json()["code"] == "checkout_expired"
    payment = Payment.objects.get()
    assert payment.status == "cancelled"
    assert payment.provider_reference.startswith("tp_")  # known, and closed at the provider:
    assert list(payment.attempts.values_list("action", "outcome")) == [("cancel", "cancelled")]
