from datetime import timedelta

import pytest
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from products import selectors
from products.exceptions import OutOfStock
from products.models import Reservation, Size, StockMovement
from products.services import catalog, stock
from products.services.stock import StockRequest
from products.tests.factories import make_product

pytestmark = pytest.mark.django_db


def later(minutes: int = 15):
    return timezone.now() + timedelta(minutes=minutes)


def counters(size: Size) -> tuple[int, int]:
    size.refresh_from_db()
    return size.on_hand, size.reserved


def assert_ledger_matches(*sizes: Size) -> None:
    for size in sizes:
        size.refresh_from_db()
        totals = StockMovement.objects.filter(size=size).aggregate(
            on_hand=Sum("on_hand_delta"), reserved=Sum("reserved_delta")
        )
        assert (totals["on_hand"] or 0, totals["reserved"] or 0) == (size.on_hand, size.reserved)


def test_reserving_holds_units_until_paid_then_sells_them():
    size = make_product(stock=5).sizes.get()

    stock.reserve_stock(lines=[StockRequest(size.pk, 2)], until=later(), reference="checkout:1")
    assert counters(size) == (5, 2)
    assert selectors.live_sizes().get(pk=size.pk).available == 3

    assert stock.commit_reservations(reference="checkout:1") == 2
    assert counters(size) == (3, 0)
    assert Reservation.objects.get().status == "committed"
    assert_ledger_matches(size)


def test_releasing_puts_units_back_on_sale():
    size = make_product(stock=5).sizes.get()
    stock.reserve_stock(lines=[StockRequest(size.pk, 4)], until=later(), reference="checkout:2")

    assert stock.release_reservations(reference="checkout:2") == 4
    assert stock.release_reservations(reference="checkout:2") == 0  # idempotent

    assert counters(size) == (5, 0)
    assert_ledger_matches(size)


def test_one_error_names_every_short_line_and_nothing_is_held():
    enough = make_product(stock=10).sizes.get()
    short = make_product(stock=1).sizes.get()
    gone = make_product(stock=9)
    gone_size = gone.sizes.get()
    catalog.delete_product(product=gone, user=gone.store.owner)

    with pytest.raises(OutOfStock) as error, transaction.atomic():
        stock.reserve_stock(
            lines=[
                StockRequest(enough.pk, 2),
                StockRequest(short.pk, 3),
                StockRequest(gone_size.pk, 1),
            ],
            until=later(),
            reference="checkout:3",
        )

    assert error.value.details == {
        "lines": [
            {"size_id": short.pk, "requested": 3, "available": 1},
            {"size_id": gone_size.pk, "requested": 1, "available": 0},
        ]
    }
    assert counters(enough) == (10, 0)
    assert not Reservation.objects.exists()


def test_lines_for_the_same_size_are_summed():
    size = make_product(stock=3).sizes.get()

    with pytest.raises(OutOfStock), transaction.atomic():
        stock.reserve_stock(
            lines=[StockRequest(size.pk, 2), StockRequest(size.pk, 2)], until=later(), reference="c"
        )


def test_stock_held_by_an_expired_checkout_can_be_bought_without_any_sweep():
    size = make_product(stock=2).sizes.get()
    stock.reserve_stock(lines=[StockRequest(size.pk, 2)], until=later(-1), reference="expired")

    stock.reserve_stock(lines=[StockRequest(size.pk, 2)], until=later(), reference="fresh")

    assert counters(size) == (2, 2)
    statuses = dict(Reservation.objects.values_list("reference", "status"))
    assert statuses == {"expired": "released", "fresh": "active"}
    assert_ledger_matches(size)
