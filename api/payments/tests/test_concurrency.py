"""Payments under real parallel connections (MariaDB): duplicate webhooks, double clicks,
success racing expiry, refunds racing for the last of the money."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.db.models import Sum
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from core.tests.concurrency import race
from orders.models import Checkout, Order
from orders.services import transitions, window
from orders.tests.factories import place_checkout
from payments.gateways import test as test_gateway
from payments.models import Payment, PaymentAttempt, Refund, WebhookEvent
from payments.services import cash as cash_services
from payments.services import create as create_services
from payments.services import refunds
from payments.services import settle as settle_services
from payments.tests.factories import open_payment
from payments.tests.helpers import GOOD_CARD
from products.models import Size
from products.tests.factories import make_product
from products.tests.helpers import assert_stock_consistent

pytestmark = [
    pytest.mark.mariadb,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def _one_buyer_may_hold_many(settings):
    """These races give one buyer many checkouts at once; the hoarding limits aren't their
    subject (orders/tests/test_limits.py races those)."""
    settings.HOLD_MAX_UNITS = settings.HOLD_MAX_OPEN_CHECKOUTS = settings.COD_MAX_OPEN = 10_000


def webhook(event: dict) -> int:
    body = json.dumps(event).encode()
    signature = test_gateway.sign(body, settings.PAYMENT_TEST_WEBHOOK_SECRET)
    return (
        APIClient()
        .generic(
            "POST",
            "/api/payments/webhook/",
            body,
            content_type="application/json",
            headers={"X-Signature": signature},
        )
        .status_code
    )


def test_the_same_event_delivered_eight_times_at_once_is_stored_and_applied_once():
    product = make_product(stock=5)
    buyer = UserFactory()
    payment = open_payment(buyer, product, quantity=2)
    event = {"id": "evt_dup", "type": "payment.succeeded", "data": {"payment_id": payment.pk}}

    statuses = race(8, lambda _: webhook(event))

    assert statuses == [200] * 8
    assert WebhookEvent.objects.count() == 1
    assert PaymentAttempt.objects.filter(payment=payment, action="webhook").count() == 1
    size = Size.objects.get(product=product)
    assert (size.on_hand, size.reserved) == (3, 0)
    assert_stock_consistent(size)


def test_a_double_clicked_confirm_charges_once(make_auth_client):
    product = make_product(stock=5)
    buyer = UserFactory()
    payment = open_payment(buyer, product)
    clients = [make_auth_client(buyer) for _ in range(6)]

    def click(index: int) -> int:
        return (
            clients[index]
            .post(
                "/api/payments/confirm/",
                {"payment_id": payment.pk, "card_number": GOOD_CARD},
                format="json",
            )
            .status_code
        )

    statuses = race(6, click)

    # Each click either charged, found the charge done, or was told another is in flight.
    assert set(statuses) <= {200, 409}
    assert 200 in statuses
    charges = PaymentAttempt.objects.filter(payment=payment, action="confirm", outcome="succeeded")
    assert charges.count() == 1
    assert Payment.objects.get(pk=payment.pk).status == "succeeded"
    assert Size.objects.get(product=product).on_hand == 4


def test_success_and_failure_events_racing_end_with_the_money_recorded():
    product = make_product(stock=20)
    buyer = UserFactory()
    payments = [open_payment(buyer, product) for _ in range(5)]

    def deliver(index: int) -> int:
        payment = payments[index // 2]
        kind = "payment.succeeded" if index % 2 else "payment.failed"
        return webhook({"id": f"evt_{index}", "type": kind, "data": {"payment_id": payment.pk}})

    statuses = race(10, deliver)

    assert statuses == [200] * 10
    for payment in Payment.objects.all():
        # Whichever came first, the provider's success is the truth and the checkout is paid.
        assert payment.status == "succeeded"
        assert Checkout.objects.get(pk=payment.checkout_id).status == "paid"
    size = Size.objects.get(product=product)
    assert size.on_hand == 15
    assert_stock_consistent(size)


def test_success_racing_the_expiry_sweep_settles_each_checkout_once():
    product = make_product(stock=100)
    buyer = UserFactory()
    payments = [open_payment(buyer, product) for _ in range(8)]
    moment = payments[-1].expires_at + timedelta(seconds=1)

    def settle(index: int) -> str:
        payment = payments[index // 2]
        with time_machine.travel(moment, tick=False):
            if index % 2:
                settle_services.record_success(payment_id=payment.pk)
                return "paid"
            window.expire_checkout(checkout_id=payment.checkout_id)
            return "expired"

    results = race(16, settle)

    assert not [r for r in results if isinstance(r, Exception)]
    # Late but the stock was free: every checkout ends paid (re-reserved if expiry came first).
    assert set(Checkout.objects.values_list("status", flat=True)) == {"paid"}
    assert set(Order.objects.values_list("status", flat=True)) == {"paid"}
    assert not Refund.objects.exists()
    size = Size.objects.get(product=product)
    assert size.on_hand == 92
    assert_stock_consistent(size)


def test_two_refunds_racing_for_the_last_of_a_payment_leave_it_never_over_refunded():
    product = make_product(stock=5)
    buyer = UserFactory()
    payment = open_payment(buyer, product)  # 100.00
    settle_services.record_success(payment_id=payment.pk)
    owner = product.store.owner

    def take(index: int) -> str:
        try:
            refunds.create_refund(payment=payment, actor=owner, amount=Decimal("60.00"))
        except refunds.RefundExceedsRefundable:
            return "409"
        return "201"

    results = race(6, take)

    assert sorted(results) == ["201"] + ["409"] * 5
    payment.refresh_from_db()
    assert payment.refunded_amount == Decimal("60.00")
    assert payment.status == "partially_refunded"


def test_a_buyer_cancelling_while_the_owner_refunds_refunds_at_most_once():
    product = make_product(stock=50)
    buyer = UserFactory()
    payments = []
    for _ in range(5):
        payment = open_payment(buyer, product)
        settle_services.record_success(payment_id=payment.pk)
        payments.append(payment)
    owner = product.store.owner

    def settle(index: int) -> str:
        payment = payments[index // 2]
        order = Order.objects.get(checkout_id=payment.checkout_id)
        try:
            if index % 2:
                transitions.change_order_status(order=order, actor=buyer, to_status="cancelled")
                return "cancelled"
            refunds.create_refund(
                payment=payment, actor=owner, amount=Decimal("100.00"), restock=True
            )
            return "refunded"
        except Exception as exc:  # the loser is refused: already refunded, or not cancellable
            return type(exc).__name__

    results = race(10, settle)

    assert "OperationalError" not in results  # no deadlock
    for payment in Payment.objects.all():
        total = payment.refunds.filter(status="succeeded").aggregate(t=Sum("amount"))["t"]
        assert total == Decimal("100.00")
        assert payment.status == "refunded"
    size = Size.objects.get(product=product)
    assert size.on_hand == 50  # every unit back exactly once
    assert_stock_consistent(size)


def test_success_racing_the_beat_sweep_settles_each_checkout_once():
    product = make_product(stock=100)
    buyer = UserFactory()
    payments = [open_payment(buyer, product) for _ in range(8)]
    moment = payments[-1].expires_at + timedelta(seconds=1)

    def settle(index: int) -> str:
        with time_machine.travel(moment, tick=False):
            if index < 8:
                settle_services.record_success(payment_id=payments[index].pk)
                return "paid"
            # The sweep skips checkouts a payment holds locked, and takes the rest at once.
            return f"swept {window.expire_due_checkouts()}"

    results = race(10, settle)

    assert not [r for r in results if isinstance(r, Exception)]
    assert set(Checkout.objects.values_list("status", flat=True)) == {"paid"}
    assert set(Payment.objects.values_list("status", flat=True)) == {"succeeded"}
    assert not Refund.objects.exists()  # the stock was free: every late payment re-reserved
    size = Size.objects.get(product=product)
    assert size.on_hand == 92
    assert_stock_consistent(size)


def test_collecting_cash_while_the_buyer_cancels_settles_each_order_one_way():
    product = make_product(stock=50)
    buyer = UserFactory()
    owner = product.store.owner
    payments = []
    for _ in range(5):
        checkout = place_checkout(buyer, product)
        payments.append(
            create_services.create_payment(
                payer=buyer, checkout_id=checkout.pk, gateway="cash_on_delivery"
            )
        )

    def settle(index: int) -> str:
        payment = payments[index // 2]
        try:
            if index % 2:
                cash_services.collect_cash(payment=payment, actor=owner)
                return "collected"
            order = Order.objects.get(checkout_id=payment.checkout_id)
            transitions.change_order_status(order=order, actor=buyer, to_status="cancelled")
            return "cancelled"
        except Exception as exc:  # the loser is refused
            return type(exc).__name__

    results = race(10, settle)

    assert "OperationalError" not in results  # no deadlock
    for payment in Payment.objects.all():
        order = Order.objects.get(checkout_id=payment.checkout_id)
        if payment.status == "cancelled":  # cancelled first: nothing to collect, stock back
            assert order.status == "cancelled"
            assert not payment.refunds.exists()
        else:  # collected first, then maybe cancelled: the cash goes back
            assert payment.status in ("succeeded", "refunded")
            assert payment.collected_at is not None
            assert (order.status == "cancelled") == (payment.status == "refunded")
    size = Size.objects.get(product=product)
    assert size.on_hand == 50 - Order.objects.exclude(status="cancelled").count()
    assert_stock_consistent(size)
