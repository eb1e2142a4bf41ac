import pytest
from django.db.models import Sum

from core.tests.concurrency import race
from products.models import Size, StockMovement
from products.services import stock
from products.tests.factories import make_product

pytestmark = [
    pytest.mark.mariadb,
    pytest.mark.django_db(transaction=True),
]


def test_concurrent_adjustments_all_land_and_the_ledger_matches():
    size = make_product(stock=0).sizes.get()
    workers, each = 8, 5

    def work(_: int) -> None:
        for _ in range(each):
            stock.adjust_stock(size=size, delta=1, actor=None, reason="adjustment")

    assert race(workers, work) == [None] * workers
    size.refresh_from_db()
    assert size.on_hand == workers * each
    ledger = StockMovement.objects.filter(size=size).aggregate(total=Sum("on_hand_delta"))["total"]
    assert ledger == size.on_hand


def test_concurrent_removals_never_take_stock_below_zero():
    size = make_product(stock=10).sizes.get()
    workers = 15

    def work(_: int) -> str:
        try:
            stock.adjust_stock(size=size, delta=-1, actor=None, reason="adjustment")
        except stock.StockBelowReserved:
            return "refused"
        return "ok"

    outcomes = race(workers, work)

    size = Size.objects.get(pk=size.pk)
    assert outcomes.count("ok") == 10
    assert outcomes.count("refused") == 5
    assert size.on_hand == 0
