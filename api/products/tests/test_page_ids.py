"""The page ids of the common listings come from a hand-written statement: it must find what the
ORM's query finds, in the same order, for every ordering, filter and page."""

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from products import selectors
from products.models import Reservation
from products.services import catalog, stock
from products.tests.factories import make_category, make_product
from stores.tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue() -> dict:
    clothing = make_category("Clothing")
    make_category("Shoes", parent=clothing)
    make_category("Food")
    open_a, open_b, closed = StoreFactory(), StoreFactory(), StoreFactory()
    now = timezone.now()
    names = ["Jalabiya", "Markoub", "Dates", "Karkade", "Toub", "Sandals", "Oud", "Lantern"]
    for n, (name, slug) in enumerate(
        zip(names, itertools.cycle(["clothing", "shoes", "food", ""]))
    ):
        store = (open_a, open_b, closed)[n % 3]
        offer = None
        if n % 4 == 1:  # a running offer lists below the price
            offer = {"price": Decimal("5.00"), "starts_at": now - timedelta(hours=1),
                     "ends_at": now + timedelta(hours=1)}  # fmt: skip
        product = make_product(
            store,
            name=name,
            price=Decimal(10 + (n * 7) % 40),
            category=slug or None,
            offer=offer,
            sizes=[{"name": "S", "stock": n % 3}, {"name": "M", "stock": 0}],
        )
        if n % 3 == 1:  # its one unit held, by a hold that has expired but not been released
            size = product.sizes.get(name="S")
            stock.reserve_stock(
                lines=[stock.StockRequest(size.pk, 1)], until=now + timedelta(minutes=15)
            )
            Reservation.objects.filter(size=size).update(expires_at=now - timedelta(minutes=1))
        if n == 7:  # held and live: out of stock
            size = product.sizes.get(name="S")
            stock.reserve_stock(
                lines=[stock.StockRequest(size.pk, 1)], until=now + timedelta(minutes=15)
            )
        if n == 5:
            catalog.delete_product(product=product, user=store.owner)
    closed.is_active = False
    closed.save()
    return {"store": open_b.pk}


FILTERS = [
    {},
    {"category": "clothing"},
    {"category": "shoes"},
    {"category": "nothing-here"},
    {"min_price": Decimal("10")},
    {"max_price": Decimal("30.50")},
    {"min_price": Decimal("6"), "max_price": Decimal("40")},
    {"store": "STORE"},
    {"store": "STORE", "category": "food", "min_price": Decimal("0")},
    {"in_stock": True},
    {"in_stock": False},
    {"in_stock": True, "category": "clothing", "max_price": Decimal("45")},
]


@pytest.mark.parametrize("ordering", [None, "price", "-price", "created_at", "-created_at", "name"])
@pytest.mark.parametrize("filters", FILTERS)
def test_the_written_statement_finds_what_the_orm_finds(catalogue, filters, ordering):
    filters = {k: catalogue["store"] if v == "STORE" else v for k, v in filters.items()}
    if ordering:
        filters["ordering"] = ordering
    for store_id in (None, catalogue["store"]):
        expected = list(selectors._catalogue_ids(filters, store_id).values_list("pk", flat=True))
        for offset, limit in ((0, 100), (0, 2), (2, 3), (50, 10)):
            page = selectors._page_ids(filters, store_id, offset=offset, limit=limit)
            assert page == expected[offset : offset + limit], (filters, store_id, offset)
