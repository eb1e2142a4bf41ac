"""Refunds: who may, how much, restock, the order's status, the buyer's cancellation, and the
automatic ones (late payment, duplicate payment)."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from orders.models import Checkout, Order
from orders.services import window
from orders.tests.factories import place_checkout
from payments.gateways.test import TestGateway
from payments.models import Payment, Refund
from payments.tests.helpers import confirm, create, signed_webhook, stock
from products.models import StockMovement
from products.tests.factories import make_product

pytestmark = pytest.mark.django_db(transaction=True)


def paid(client: APIClient, user, *products, quantity: int = 1) -> Payment:
    checkout = place_checkout(user, *products, quantity=quantity)
    payment_id = create(client, checkout).json()["id"]
    assert confirm(client, payment_id).status_code == 200
    return Payment.objects.get(pk=payment_id)


def refund(client: APIClient, payment: Payment, amount: str, **extra):
    return client.post(
        f"/api/payments/{payment.pk}/refund/", {"amount": amount, **extra}, format="json"
    )


def test_the_owner_refunds_in_part_then_in_full_and_the_order_becomes_refunded(
    auth_client: APIClient, user, make_auth_client
):
    product = make_product(stock=5)
    payment = paid(auth_client, user, product, quantity=2)  # 200.00
    owner = make_auth_client(product.store.owner)

    first = refund(owner, payment, "50.00", reason="scratched")

    assert first.status_code == 201, first.content
    assert first.json()["status"] == "succeeded"
    assert first.json()["amount"] == "50.00"
    payment.refresh_from_db()
    assert payment.status == "partially_refunded"
    assert str(payment.refunded_amount) == "50.00"
    assert Order.objects.get().status == "paid"

    rest = refund(owner, payment, "150.00")

    assert rest.status_code == 201
    payment.refresh_from_db()
    assert payment.status == "refunded"
    order = Order.objects.get()
    assert order.status == "refunded"
    assert order.events.last().to_status == "refunded"
    assert stock(product) == (3, 0)  # no restock asked for
    assert sum("Refund of" in m.subject for m in mail.outbox) == 2


def test_more_than_refundable_is_409_and_changes_nothing(
    auth_client: APIClient, user, make_auth_client
):
    product = make_product(stock=5)
    payment = paid(auth_client, user, product)  # 100.00
    owner = make_auth_client(product.store.owner)
    assert refund(owner, payment, "60.00").status_code == 201

    over = refund(owner, payment, "40.01", restock=True)

    assert over.status_code == 409
    assert over.json()["code"] == "refund_exceeds_refundable"
    assert over.json()["details"]["refundable"] == "40.00"
    assert Refund.objects.count() == 1
    assert stock(product) == (4, 0)  # the refused refund restocked nothing


def test_restock_returns_the_units_with_a_return_movement(
    auth_client: APIClient, user, make_auth_client
):
    product = make_product(stock=5)
    payment = paid(auth_client, user, product, quantity=3)
    owner = make_auth_client(product.store.owner)
    line = Order.objects.get().lines.get()

    response = refund(
        owner, payment, "100.00", restock=True, items=[{"line_id": line.pk, "quantity": 1}]
    )

    assert response.status_code == 201
    assert response.json()["restock"] is True
    assert stock(product) == (3, 0)
    movement = StockMovement.objects.filter(reason="return").get()
    assert movement.on_hand_delta == 1
    assert movement.reference == f"order:{line.order_id}"
    # The rest of the line, then no more than was sold.
    assert refund(owner, payment, "200.00", restock=True).status_code == 201
    assert stock(product) == (5, 0)
    assert refund(owner, payment, "0.01", restock=True).status_code == 409


def test_restocking_more_than_sold_is_409_and_refunds_nothing(
    auth_client: APIClient, user, make_auth_client
):
    product = make_product(stock=5)
    payment = paid(auth_client, user, product)
    owner = make_auth_client(product.store.owner)
    line = Order.objects.get().lines.get()

    response = refund(
        owner, payment, "10.00", restock=True, items=[{"line_id": line.pk, "quantity": 2}]
    )

    assert response.status_code == 409
    assert response.json()["code"] == "restock_exceeds_sold"
    assert not Refund.objects.exists()
    assert stock(product) == (4, 0)


def test_the_payer_cannot_refund_and_a_stranger_gets_404(
    auth_client: APIClient, user, make_auth_client
):
    payment = paid(auth_client, user)

    assert refund(auth_client, payment, "1.00").status_code == 403
    assert refund(make_auth_client(UserFactory()), payment, "1.00").status_code == 404
    assert not Refund.objects.exists()


def test_an_owner_refunds_only_their_own_stores_order(
    auth_client: APIClient, user, make_auth_client, staff_client
):
    mine, theirs = make_product(stock=5), make_product(stock=5)
    payment = paid(auth_client, user, mine, theirs)  # two stores, one payment of 200.00
    owner = make_auth_client(mine.store.owner)
    their_order = Order.objects.get(store=theirs.store)

    over = refund(owner, payment, "100.01")
    other = refund(owner, payment, "1.00", order_id=their_order.pk)
    ok = refund(owner, payment, "100.00")

    assert over.status_code == 409  # capped at their order's 100.00
    assert other.status_code == 400
    assert ok.status_code == 201
    assert ok.json()["order_id"] == Order.objects.get(store=mine.store).pk
    # Staff must say which order when a payment paid several.
    assert refund(staff_client, payment, "1.00").status_code == 400
    assert refund(staff_client, payment, "1.00", order_id=their_order.pk).status_code == 201


def test_an_open_payment_is_not_refundable(auth_client: APIClient, user, make_auth_client):
    product = make_product(stock=5)
    payment_id = create(auth_client, place_checkout(user, product)).json()["id"]

    response = refund(
        make_auth_client(product.store.owner), Payment.objects.get(pk=payment_id), "1.00"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "payment_not_refundable"


def test_a_refund_with_the_same_idempotency_key_happens_once(
    auth_client: APIClient, user, make_auth_client
):
    product = make_product(stock=5)
    payment = paid(auth_client, user, product)
    owner = make_auth_client(product.store.owner)
    url = f"/api/payments/{payment.pk}/refund/"

    first = owner.post(url, {"amount": "30.00"}, format="json", headers={"Idempotency-Key": "r1"})
    again = owner.post(url, {"amount": "30.00"}, format="json", headers={"Idempotency-Key": "r1"})
    other = owner.post(url, {"amount": "31.00"}, format="json", headers={"Idempotency-Key": "r1"})

    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert other.status_code == 422
    assert Refund.objects.count() == 1


def test_a_provider_that_is_down_leaves_the_refund_pending_and_a_retry_settles_it(
    auth_client: APIClient, user, make_auth_client, monkeypatch
):
    from payments.exceptions import PaymentGatewayError
    from payments.services import refunds

    product = make_product(stock=5)
    payment = paid(auth_client, user, product)
    owner = make_auth_client(product.store.owner)
    real_refund = TestGateway.refund

    def down(self, payment, refund):  # type: ignore[no-untyped-def]
        raise PaymentGatewayError()

    monkeypatch.setattr(TestGateway, "refund", down)
    response = refund(owner, payment, "100.00")

    assert response.status_code == 201
    assert response.json()["status"] == "pending"
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    # Pending refunds already count: nothing more can be refunded meanwhile.
    assert refund(owner, payment, "0.01").status_code == 409

    monkeypatch.setattr(TestGateway, "refund", real_refund)
    settled = refunds.process_refund(refund_id=response.json()["id"])

    assert settled.status == "succeeded"
    assert settled.attempts == 3  # tried at once, by the eager retry task, and now
    payment.refresh_from_db()
    assert payment.status == "refunded"


# --- the buyer cancels a paid order ------------------------------------------------------------


def test_a_buyer_cancelling_a_paid_order_gets_a_full_refund_and_restock(
    auth_client: APIClient, user
):
    product = make_product(stock=5)
    payment = paid(auth_client, user, product, quantity=2)
    order = Order.objects.get()

    response = auth_client.put(
        f"/api/orders/{order.pk}/status/", {"status": "cancelled", "note": "changed my mind"}
    )

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert stock(product) == (5, 0)
    payment.refresh_from_db()
    assert payment.status == "refunded"
    cancellation = payment.refunds.get()
    assert cancellation.kind == "cancellation"
    assert str(cancellation.amount) == "200.00"
    assert Checkout.objects.get().status == "paid"  # it was paid; the refund says what went back
    assert Order.objects.get().status == "cancelled"


def test_cancelling_one_of_two_paid_orders_refunds_only_its_share(
    auth_client: APIClient, user, make_auth_client
):
    first, second = make_product(stock=5), make_product(stock=5, price=Decimal("40.00"))
    payment = paid(auth_client, user, first, second)  # 100.00 + 40.00
    order = Order.objects.get(store=second.store)

    response = make_auth_client(second.store.owner).put(
        f"/api/orders/{order.pk}/status/", {"status": "cancelled", "note": "out of stock"}
    )

    assert response.status_code == 200
    payment.refresh_from_db()
    assert payment.status == "partially_refunded"
    assert str(payment.refunded_amount) == "40.00"
    assert stock(second) == (5, 0)
    assert stock(first) == (4, 0)
    assert Order.objects.get(store=first.store).status == "paid"


def test_a_shipped_order_is_not_cancelled_but_can_be_refunded(
    auth_client: APIClient, user, make_auth_client
):
    product = make_product(stock=5)
    payment = paid(auth_client, user, product)
    order = Order.objects.get()
    owner = make_auth_client(product.store.owner)
    for step in ("processing", "shipped"):
        owner.put(f"/api/orders/{order.pk}/status/", {"status": step})

    cancel = auth_client.put(f"/api/orders/{order.pk}/status/", {"status": "cancelled"})
    returned = refund(owner, payment, "100.00", restock=True, reason="returned")

    assert cancel.status_code == 409
    assert returned.status_code == 201
    assert Order.objects.get().status == "refunded"
    assert stock(product) == (5, 0)


# --- automatic refunds ------------------------------------------------------------------------


def test_a_late_payment_with_the_stock_still_free_pays_the_checkout(
    auth_client: APIClient, user, api_client: APIClient
):
    product = make_product(stock=5)
    checkout = place_checkout(user, product, quantity=2)
    payment_id = create(auth_client, checkout).json()["id"]

    with time_machine.travel(checkout.payment_deadline + timedelta(minutes=2), tick=False):
        window.expire_due_checkouts()
        assert stock(product) == (5, 0)
        response = signed_webhook(
            api_client,
            {"id": "evt_late", "type": "payment.succeeded", "data": {"payment_id": payment_id}},
        )

    assert response.status_code == 200
    assert Payment.objects.get(pk=payment_id).status == "succeeded"
    assert Checkout.objects.get().status == "paid"
    assert Order.objects.get().status == "paid"
    assert stock(product) == (3, 0)
    assert not Refund.objects.exists()


def test_a_late_payment_with_the_stock_gone_is_refunded_in_full_and_the_buyer_told(
    auth_client: APIClient, user, api_client: APIClient
):
    product = make_product(stock=2)
    checkout = place_checkout(user, product, quantity=2)
    payment_id = create(auth_client, checkout).json()["id"]

    with time_machine.travel(checkout.payment_deadline + timedelta(minutes=2), tick=False):
        window.expire_due_checkouts()
        place_checkout(UserFactory(), product, quantity=2)  # someone else takes the stock
        response = signed_webhook(
            api_client,
            {"id": "evt_late", "type": "payment.succeeded", "data": {"payment_id": payment_id}},
        )

    assert response.status_code == 200
    payment = Payment.objects.get(pk=payment_id)
    assert payment.status == "refunded"
    late = payment.refunds.get()
    assert late.kind == "late_payment"
    assert late.status == "succeeded"
    assert str(late.amount) == "200.00"
    assert Order.objects.get(checkout=checkout).status == "expired"
    assert stock(product) == (2, 2)  # the other buyer's hold, untouched
    assert any("arrived too late" in m.subject for m in mail.outbox)


def test_a_second_payment_for_a_paid_checkout_is_refunded_as_a_duplicate(
    auth_client: APIClient, user, api_client: APIClient
):
    product = make_product(stock=5)
    checkout = place_checkout(user, product)
    first = create(auth_client, checkout).json()["id"]
    second = create(auth_client, checkout).json()["id"]
    assert confirm(auth_client, first).status_code == 200

    # The provider reports the other one paid too (the buyer paid in two tabs).
    signed_webhook(
        api_client, {"id": "evt_2", "type": "payment.succeeded", "data": {"payment_id": second}}
    )

    duplicate = Payment.objects.get(pk=second)
    assert duplicate.status == "refunded"
    assert duplicate.refunds.get().kind == "duplicate"
    assert Payment.objects.get(pk=first).status == "succeeded"
    assert stock(product) == (4, 0)  # sold once


# --- only what was sold ------------------------------------------------------------------------


def test_an_order_cancelled_before_payment_cannot_be_refunded_or_restocked(
    auth_client: APIClient, user, make_auth_client, staff_client
):
    cancelled_early, paid_for = make_product(stock=5), make_product(stock=5)
    checkout = place_checkout(user, cancelled_early, paid_for)
    early = Order.objects.get(checkout=checkout, store=cancelled_early.store)
    assert (
        auth_client.put(f"/api/orders/{early.pk}/status/", {"status": "cancelled"}).status_code
        == 200
    )
    payment_id = create(auth_client, checkout).json()["id"]
    assert confirm(auth_client, payment_id).status_code == 200
    payment = Payment.objects.get(pk=payment_id)
    assert str(payment.amount) == "100.00"  # only what was left to pay

    by_its_owner = refund(
        make_auth_client(cancelled_early.store.owner), payment, "100.00", restock=True
    )
    by_staff = refund(staff_client, payment, "1.00", order_id=early.pk, restock=True)

    assert by_its_owner.status_code == 409
    assert by_its_owner.json()["code"] == "order_not_sold"
    assert by_staff.status_code == 409
    assert not Refund.objects.exists()
    assert stock(cancelled_early) == (5, 0)  # nothing returned that was never sold
    assert Order.objects.get(checkout=checkout, store=paid_for.store).status == "paid"


def test_staff_refund_a_late_payment_whose_automatic_refund_failed(
    auth_client: APIClient, user, api_client: APIClient, staff_client, monkeypatch
):
    product = make_product(stock=2)
    checkout = place_checkout(user, product, quantity=2)
    payment_id = create(auth_client, checkout).json()["id"]

    def refused(self, payment, refund):  # type: ignore[no-untyped-def]
        from payments.gateways import GatewayResult

        return GatewayResult(status="failed", message="card closed")

    with time_machine.travel(checkout.payment_deadline + timedelta(minutes=2), tick=False):
        window.expire_due_checkouts()
        place_checkout(UserFactory(), product, quantity=2)
        monkeypatch.setattr(TestGateway, "refund", refused)
        signed_webhook(
            api_client,
            {"id": "evt_late", "type": "payment.succeeded", "data": {"payment_id": payment_id}},
        )
    payment = Payment.objects.get(pk=payment_id)
    assert payment.refunds.get().status == "failed"
    monkeypatch.undo()

    # Nothing of it was sold: staff refund the payment itself.
    again = refund(staff_client, payment, "200.00", reason="retry by hand")

    assert again.status_code == 201, again.content
    assert again.json()["order_id"] is None
    assert again.json()["status"] == "succeeded"
    payment.refresh_from_db()
    assert payment.status == "refunded"
    assert Order.objects.get(checkout=checkout).status == "expired"


def test_the_sweep_retries_a_refund_whose_task_never_ran(
    auth_client: APIClient, user, make_auth_client, monkeypatch
):
    from django.utils import timezone

    from payments import tasks
    from payments.exceptions import PaymentGatewayError

    product = make_product(stock=5)
    payment = paid(auth_client, user, product)
    real_refund = TestGateway.refund

    def down(self, payment, refund):  # type: ignore[no-untyped-def]
        raise PaymentGatewayError()

    monkeypatch.setattr(TestGateway, "refund", down)
    pending = refund(make_auth_client(product.store.owner), payment, "100.00").json()
    monkeypatch.setattr(TestGateway, "refund", real_refund)

    with time_machine.travel(timezone.now() + timedelta(minutes=16), tick=False):
        swept = tasks.payments_sweep_task()

    assert swept["refunds_retried"] == 1
    assert Refund.objects.get(pk=pending["id"]).status == "succeeded"
    payment.refresh_from_db()
    assert payment.status == "refunded"


def test_a_co_seller_sees_only_their_own_refunds_on_a_shared_payment(
    auth_client: APIClient, user, make_auth_client
):
    mine, theirs = make_product(stock=5), make_product(stock=5)
    payment = paid(auth_client, user, mine, theirs)
    their_owner = make_auth_client(theirs.store.owner)
    their_order = Order.objects.get(store=theirs.store)
    assert refund(their_owner, payment, "10.00", order_id=their_order.pk).status_code == 201

    seen_by_me = make_auth_client(mine.store.owner).get(f"/api/payments/{payment.pk}/").json()
    seen_by_them = their_owner.get(f"/api/payments/{payment.pk}/").json()
    seen_by_payer = auth_client.get(f"/api/payments/{payment.pk}/").json()

    assert seen_by_me["refunds"] == []
    assert [r["amount"] for r in seen_by_them["refunds"]] == ["10.00"]
    assert [r["amount"] for r in seen_by_payer["refunds"]] == ["10.00"]


def test_a_co_seller_sees_their_own_share_of_a_shared_payment_not_the_whole(
    auth_client: APIClient, user, make_auth_client
):
    mine, theirs = make_product(stock=5), make_product(stock=5, price=Decimal("300.00"))
    payment = paid(auth_client, user, mine, theirs)  # 100.00 + 300.00
    their_owner = make_auth_client(theirs.store.owner)
    refund(their_owner, payment, "30.00", order_id=Order.objects.get(store=theirs.store).pk)

    seen_by_me = make_auth_client(mine.store.owner).get(f"/api/payments/{payment.pk}/").json()
    seen_by_them = their_owner.get(f"/api/payments/{payment.pk}/").json()
    seen_by_payer = auth_client.get(f"/api/payments/{payment.pk}/").json()

    assert (seen_by_payer["amount"], seen_by_payer["refunded_amount"]) == ("400.00", "30.00")
    assert (seen_by_me["amount"], seen_by_me["refunded_amount"]) == ("100.00", "0.00")
    assert seen_by_me["refundable_amount"] == "100.00"
    assert (seen_by_them["amount"], seen_by_them["refundable_amount"]) == ("300.00", "270.00")
    payment.refresh_from_db()
    fee_mine, fee_theirs = Decimal(seen_by_me["fee"]), Decimal(seen_by_them["fee"])
    assert abs(fee_mine + fee_theirs - payment.fee) <= Decimal("0.01")  # the fee split by share
    assert all(a["amount"] is None for a in seen_by_me["attempts"])
    assert all(a["amount"] == "400.00" for a in seen_by_payer["attempts"] if a["amount"])


def test_a_payment_for_a_cancelled_checkout_is_refunded_as_a_cancellation(
    auth_client: APIClient, user, api_client: APIClient
):
    checkout = place_checkout(user)
    payment_id = create(auth_client, checkout).json()["id"]
    order = Order.objects.get(checkout=checkout)
    auth_client.put(f"/api/orders/{order.pk}/status/", {"status": "cancelled"})

    signed_webhook(
        api_client, {"id": "evt_c", "type": "payment.succeeded", "data": {"payment_id": payment_id}}
    )

    payment = Payment.objects.get(pk=payment_id)
    assert payment.status == "refunded"
    assert payment.refunds.get().kind == "cancellation"
    subjects = [m.subject for m in mail.outbox]
    assert "Refund of 100.00 SDG" in subjects
    assert not any("too late" in s or "Payment received" in s for s in subjects)
