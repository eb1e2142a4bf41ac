"""Checkout and the payment window under real parallel connections (MariaDB)."""

from datetime import timedelta

import pytest
import time_machine
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from authentication import services as auth_services
from core.tests.concurrency import race
from orders.models import Checkout, Order
from orders.services import checkout as checkout_services
from orders.services import window
from orders.tests.factories import SHIPPING_ADDRESS
from products.models import Reservation
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


def test_fifty_buyers_check_out_ten_units_over_http():
    product = make_product(stock=10)
    tokens = [auth_services.issue_tokens(user=UserFactory()).access for _ in range(50)]

    def buy(index: int) -> int:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens[index]}")
        body = {
            "items": [{"product_id": product.pk, "quantity": 1}],
            "shipping_address": SHIPPING_ADDRESS,
        }
        return client.post("/api/orders/", body, format="json").status_code

    statuses = race(50, buy)

    assert sorted(statuses) == [201] * 10 + [409] * 40
    assert Order.objects.count() == 10
    assert_stock_consistent(product.sizes.get())


def test_expiry_racing_payment_lets_exactly_one_win():
    product = make_product(stock=100)
    buyer = UserFactory()
    checkouts = [
        checkout_services.place_checkout(
            buyer=buyer,
            lines=[checkout_services.LineRequest(product.pk, None, 1)],
            shipping_address=SHIPPING_ADDRESS,
        )
        for _ in range(10)
    ]
    # Just past the deadline: the payment is late but the stock is still free, so either may win.
    moment = checkouts[-1].payment_deadline + timedelta(seconds=1)

    def settle(index: int) -> str:
        checkout_id = checkouts[index // 2].pk
        with time_machine.travel(moment, tick=False):
            if index % 2:
                window.mark_checkout_paid(checkout_id=checkout_id)
                return "paid"
            return "expired" if window.expire_checkout(checkout_id=checkout_id) else "-"

    results = race(20, settle)

    assert not [r for r in results if isinstance(r, Exception)]
    for checkout in Checkout.objects.all():
        orders = list(checkout.orders.values_list("status", flat=True))
        assert orders == [checkout.status]
    paid = Checkout.objects.filter(status="paid").count()
    size = product.sizes.get()
    assert_stock_consistent(size)
    assert size.on_hand == 100 - paid
    assert Reservation.objects.filter(status="active").count() == 0


def test_a_buyer_cancelling_while_the_checkout_is_paid_does_not_deadlock():
    products = [make_product(stock=50) for _ in range(2)]
    buyer = UserFactory()
    checkouts = [
        checkout_services.place_checkout(
            buyer=buyer,
            lines=[checkout_services.LineRequest(p.pk, None, 1) for p in products],
            shipping_address=SHIPPING_ADDRESS,
        )
        for _ in range(8)
    ]
    from orders.services import transitions

    def settle(index: int) -> str:
        checkout = checkouts[index // 2]
        if index % 2:
            window.mark_checkout_paid(checkout_id=checkout.pk)
            return "paid"
        order = checkout.orders.order_by("pk").first()
        try:
            transitions.change_order_status(order=order, actor=buyer, to_status="cancelled")
        except Exception as exc:  # an InvalidTransition after payment is a fair outcome
            if getattr(exc, "code", "") != "invalid_transition":
                raise
            return "too late"
        return "cancelled"

    results = race(16, settle)

    assert not [r for r in results if isinstance(r, Exception)], results
    for product in products:
        assert_stock_consistent(product.sizes.get())
