import threading

import pytest
from django.db import connection, connections
from django.db.models import Sum

from products.models import Size, StockMovement
from products.services import stock
from products.tests.factories import make_product

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "mysql", reason="needs real parallel connections (MariaDB tier)"
    ),
    pytest.mark.django_db(transaction=True),
]


def test_concurrent_adjustments_all_land_and_the_ledger_matches():
    size = make_product(stock=0).sizes.get()
    workers, each = 8, 5
    start = threading.Barrier(workers)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            start.wait(timeout=10)
            for _ in range(each):
                stock.adjust_stock(size=size, delta=1, actor=None, reason="adjustment")
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    size.refresh_from_db()
    assert size.on_hand == workers * each
    ledger = StockMovement.objects.filter(size=size).aggregate(total=Sum("on_hand_delta"))["total"]
    assert ledger == size.on_hand


def test_concurrent_removals_never_take_stock_below_zero():
    size = make_product(stock=10).sizes.get()
    workers = 15
    start = threading.Barrier(workers)
    outcomes: list[str] = []

    def work() -> None:
        try:
            start.wait(timeout=10)
            stock.adjust_stock(size=size, delta=-1, actor=None, reason="adjustment")
            outcomes.append("ok")
        except stock.StockBelowReserved:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    size = Size.objects.get(pk=size.pk)
    assert outcomes.count("ok") == 10
    assert outcomes.count("refused") == 5
    assert size.on_hand == 0
