"""Allowed moves live beside the status enums; services move rows only through them."""

import pytest
from django.core import checks

from core.exceptions import InvalidTransition
from orders.models import Checkout, Order
from orders.services import aftersale, window
from orders.tests.factories import paid_checkout, place_checkout
from payments.models import Payment


@pytest.mark.parametrize("model", [Checkout, Order, Payment])
def test_every_status_has_its_moves_written_down(model):
    assert set(model.TRANSITIONS) == set(model.Status.values)
    for targets in model.TRANSITIONS.values():
        assert targets <= set(model.Status.values)


@pytest.mark.parametrize(
    ("model", "frm", "to"),
    [
        (Checkout, "paid", "expired"),
        (Checkout, "cancelled", "paid"),
        (Order, "delivered", "cancelled"),
        (Payment, "refunded", "succeeded"),
        (Payment, "succeeded", "failed"),
    ],
)
def test_an_illegal_move_is_refused_and_leaves_the_status(model, frm, to):
    row = model(status=frm)

    with pytest.raises(InvalidTransition) as raised:
        row.move_to(to)

    assert row.status == frm
    assert raised.value.details == {"from": frm, "to": to}


def test_set_based_moves_only_touch_rows_that_may_move():
    assert Checkout.statuses_that_can_move_to("expired") == ["pending_payment"]
    assert set(Payment.statuses_that_can_move_to("cancelled")) == {"pending", "requires_action"}


@pytest.mark.django_db
def test_a_paid_checkout_never_expires():
    checkout = paid_checkout()

    assert window.expire_checkout(checkout_id=checkout.pk) is False
    checkout.refresh_from_db()
    assert checkout.status == "paid"


@pytest.mark.django_db
def test_moving_a_paid_order_to_expired_writes_nothing():
    checkout = paid_checkout()
    order = checkout.orders.get()

    with pytest.raises(InvalidTransition):
        window._move_orders([order], Order.Status.EXPIRED)

    order.refresh_from_db()
    assert order.status == "paid"
    assert not order.events.filter(to_status="expired").exists()


@pytest.mark.django_db
def test_a_late_payment_moves_an_expired_checkout_to_paid(time_machine):
    checkout = place_checkout()
    time_machine.move_to(checkout.payment_deadline, tick=False)
    window.expire_due_checkouts()

    window.mark_checkout_paid(checkout_id=checkout.pk)  # the stock was still free

    checkout.refresh_from_db()
    assert checkout.status == "paid"
    assert checkout.orders.get().status == "paid"


def test_startup_refuses_a_project_where_nobody_refunds_a_cancelled_paid_order(monkeypatch):
    from orders import checks as order_checks

    monkeypatch.setattr(aftersale, "_paid_order_cancelled", [])

    errors = order_checks.check_paid_order_cancelled_handler()

    assert [error.id for error in errors] == ["orders.E001"]
    assert errors[0].level == checks.ERROR


def test_the_payments_app_registers_the_refund_handler():
    from orders import checks as order_checks
    from payments.services import refunds

    assert refunds.refund_cancelled_order in aftersale.paid_order_cancelled_handlers()
    assert order_checks.check_paid_order_cancelled_handler() == []
