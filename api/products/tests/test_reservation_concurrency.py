"""Real parallel connections on MariaDB: buyers racing for the same stock."""

import random
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone

from core.tests.concurrency import race
from products.exceptions import OutOfStock
from products.models import Reservation
from products.services import stock
from products.services.stock import StockRequest
from products.tests.factories import make_product
from products.tests.helpers import assert_stock_consistent

pytestmark = [
    pytest.mark.mariadb,
    pytest.mark.django_db(transaction=True),
]


def run_in_threads(count: int, work) -> list[str]:  # type: ignore[no-untyped-def]
    """Each racer's outcome: ok, out_of_stock, or the database error (a deadlock) it hit."""

    def outcome(index: int) -> str:
        try:
            work(index)
        except OutOfStock:
            return "out_of_stock"
        except OperationalError as exc:
            return f"db_error {exc.args[0]}"
        return "ok"

    return race(count, outcome)


def test_fifty_buyers_race_for_ten_units():
    size = make_product(stock=10).sizes.get()
    until = timezone.now() + timedelta(minutes=15)

    outcomes = run_in_threads(
        50,
        lambda i: stock.reserve_stock(
            lines=[StockRequest(size.pk, 1)], until=until, reference=f"buyer:{i}"
        ),
    )

    assert outcomes.count("ok") == 10
    assert outcomes.count("out_of_stock") == 40
    assert_stock_consistent(size)
    assert size.reserved == 10


def test_carts_locking_in_opposite_orders_do_not_deadlock():
    first = make_product(stock=1000).sizes.get()
    second = make_product(stock=1000).sizes.get()
    until = timezone.now() + timedelta(minutes=15)

    def buy(index: int) -> None:
        lines = [StockRequest(first.pk, 1), StockRequest(second.pk, 1)]
        random.Random(index).shuffle(lines)
        for _ in range(5):
            stock.reserve_stock(lines=lines, until=until, reference=f"cart:{index}")

    outcomes = run_in_threads(12, buy)

    assert outcomes == ["ok"] * 12
    assert_stock_consistent(first, second)
    assert (first.reserved, second.reserved) == (60, 60)


def test_sales_and_releases_racing_keep_the_counters_right():
    size = make_product(stock=40).sizes.get()
    until = timezone.now() + timedelta(minutes=15)
    for i in range(20):
        stock.reserve_stock(lines=[StockRequest(size.pk, 2)], until=until, reference=f"c:{i}")

    def settle(index: int) -> None:
        # Each checkout is both committed and released by racing workers: one must win.
        reference = f"c:{index // 2}"
        if index % 2:
            stock.commit_reservations(reference=reference)
        else:
            stock.release_reservations(reference=reference)

    outcomes = run_in_threads(40, settle)

    assert outcomes == ["ok"] * 40
    assert_stock_consistent(size)
    committed = Reservation.objects.filter(status="committed").count()
    released = Reservation.objects.filter(status="released").count()
    assert committed + released == 20
    assert size.on_hand == 40 - 2 * committed
    assert size.reserved == 0
