from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import timezone

from products import selectors
from products.exceptions import StockBelowReserved
from products.models import Reservation, Size, StockMovement
from products.services import stock
from products.tests.factories import make_product

pytestmark = pytest.mark.django_db


def assert_ledger_matches(size: Size) -> None:
    size.refresh_from_db()
    totals = StockMovement.objects.filter(size=size).aggregate(
        on_hand=Sum("on_hand_delta"), reserved=Sum("reserved_delta")
    )
    assert (totals["on_hand"] or 0, totals["reserved"] or 0) == (size.on_hand, size.reserved)


def hold(size: Size, quantity: int, *, minutes: int) -> Reservation:
    """A reservation as checkout makes it: counter and ledger move together."""
    Size.objects.filter(pk=size.pk).update(reserved=size.reserved + quantity)
    size.refresh_from_db()
    StockMovement.objects.create(size=size, reason="reservation", reserved_delta=quantity)
    return Reservation.objects.create(
        size=size, quantity=quantity, expires_at=timezone.now() + timedelta(minutes=minutes)
    )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE products_size SET on_hand = -1 WHERE id = %s",
        "UPDATE products_size SET reserved = -1 WHERE id = %s",
        "UPDATE products_size SET reserved = on_hand + 1 WHERE id = %s",
    ],
)
def test_direct_sql_that_breaks_a_stock_constraint_fails(statement):
    size = make_product(stock=5).sizes.get()

    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, [size.pk])

    size.refresh_from_db()
    assert (size.on_hand, size.reserved) == (5, 0)


def test_adjustments_write_the_ledger():
    product = make_product(stock=5)
    size = product.sizes.get()
    owner = product.store.owner

    stock.adjust_stock(size=size, delta=7, actor=owner, reason="adjustment", note="delivery")
    stock.adjust_stock(size=size, delta=-2, actor=owner, reason="adjustment")
    stock.set_stock(size=size, on_hand=4, actor=owner)

    size.refresh_from_db()
    assert size.on_hand == 4
    assert list(size.movements.order_by("id").values_list("on_hand_delta", flat=True)) == [
        5,
        7,
        -2,
        -6,
    ]
    assert_ledger_matches(size)


def test_stock_cannot_go_below_live_reservations():
    size = make_product(stock=5).sizes.get()
    hold(size, 4, minutes=10)

    with pytest.raises(StockBelowReserved):
        stock.set_stock(size=size, on_hand=3, actor=None)

    size.refresh_from_db()
    assert size.on_hand == 5


def test_expired_reservations_never_count_against_availability():
    size = make_product(stock=5).sizes.get()
    hold(size, 2, minutes=10)
    hold(size, 3, minutes=-1)  # its deadline has passed; no sweep has run yet

    [live] = selectors.live_sizes().filter(pk=size.pk)

    assert live.available == 3
    # ...and stock may go down to what live reservations hold: the expired ones are released.
    stock.set_stock(size=size, on_hand=2, actor=None)
    size.refresh_from_db()
    assert (size.on_hand, size.reserved) == (2, 2)
    assert_ledger_matches(size)


def test_release_expired_reservations_is_set_based(django_assert_max_num_queries):
    sizes = [make_product(stock=50).sizes.get() for _ in range(5)]
    for size in sizes:
        for _ in range(20):
            hold(size, 1, minutes=-1)
        hold(size, 1, minutes=10)

    with django_assert_max_num_queries(8):  # however many sizes and reservations
        released = stock.release_expired_reservations()

    assert released == 100
    for size in sizes:
        size.refresh_from_db()
        assert size.reserved == 1
        assert_ledger_matches(size)
    assert Reservation.objects.filter(status="active").count() == 5
