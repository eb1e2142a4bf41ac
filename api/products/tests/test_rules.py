"""The catalogue's rules — on sale, the current price, the default size — have one home each
(``products.selectors``, the open store in ``stores.selectors``). Where a hot path needs one
written as SQL or in Python rather than as a queryset, its twin sits beside it; these tests hold
each twin to the rule."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from products import selectors
from products.models import Product
from products.tests.factories import make_product
from stores.models import Store
from stores.selectors import store_open, store_open_sql
from stores.tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


def _ids(sql: str, params: list) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {pk for (pk,) in cursor.fetchall()}


def test_the_written_out_on_sale_and_open_store_are_the_rule():
    live = make_product(name="Live")
    deleted = make_product(name="Deleted")
    Product.objects.filter(pk=deleted.pk).update(deleted_at=timezone.now())
    closed = make_product(name="In a closed store", store=StoreFactory(is_active=False))
    gone = make_product(name="In a deleted store", store=StoreFactory(deleted_at=timezone.now()))
    q = connection.ops.quote_name
    product, store = q(Product._meta.db_table), q(Store._meta.db_table)

    on_sale, params = selectors.on_sale_sql("p", "s")
    join = f"{product} p JOIN {store} s ON s.{q('id')} = p.{q('store_id')}"
    written = _ids(f"SELECT p.{q('id')} FROM {join} WHERE {on_sale}", params)  # noqa: S608
    open_sql, open_params = store_open_sql()
    open_written = _ids(f"SELECT {q('id')} FROM {store} WHERE {open_sql}", open_params)  # noqa: S608

    assert written == set(Product.objects.filter(selectors.on_sale()).values_list("pk", flat=True))
    assert written == {live.pk}
    assert open_written == set(Store.objects.filter(store_open()).values_list("pk", flat=True))
    assert closed.store_id not in open_written
    assert gone.store_id not in open_written


@pytest.mark.parametrize(
    ("offset", "expected"),
    [(-3600, "50.00"), (0, "35.00"), (1800, "35.00"), (3600, "50.00"), (7200, "50.00")],
)
def test_the_price_in_python_is_the_price_in_sql_at_the_offers_edges(offset, expected):
    starts = timezone.now().replace(microsecond=0) + timedelta(days=1)
    product = make_product(
        price=Decimal("50.00"),
        offer={"price": Decimal("35.00"), "starts_at": starts,
               "ends_at": starts + timedelta(hours=1)},
    )  # fmt: skip
    now = starts + timedelta(seconds=offset)

    in_sql = (
        Product.objects.filter(pk=product.pk)
        .annotate(now=selectors.current_price_expression(now))
        .values_list("now", flat=True)
        .get()
    )
    product.refresh_from_db()
    running = selectors.offer_runs(
        product.offer_starts_at.timestamp(), product.offer_ends_at.timestamp(), now.timestamp()
    )

    assert selectors.current_price(product, now) == in_sql == Decimal(expected)
    assert selectors.price_with_offer(product.price, product.offer_price, running) == in_sql
