"""Real parallel connections on MariaDB: readers filling the same product cards while owners
edit those products and the feed rebuilds them. Every answer is a 200, and once the dust settles
every product reads as it is."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from core.tests.concurrency import race
from products import cards
from products.models import Product, ProductCard
from products.services import catalog
from products.tests.factories import make_product
from search import feed
from stores.tests.factories import StoreFactory

pytestmark = [pytest.mark.mariadb, pytest.mark.django_db(transaction=True)]


def test_readers_editors_and_the_feed_racing_over_the_same_cards():
    store = StoreFactory()
    products = [make_product(store, name=f"Lamp {n}", price=Decimal("50.00")) for n in range(20)]
    ProductCard.objects.all().delete()  # every reader starts on a miss

    def work(index: int) -> object:
        if index < 4:  # owners: a new price for every product
            for product in products[index::4]:
                catalog.update_product(
                    product=Product.objects.get(pk=product.pk),
                    user=store.owner,
                    data={"price": Decimal("60.00") + index},
                )
            return ("edited", None)
        if index < 6:  # the feed's drain, rebuilding what changed
            return ("drained", feed.drain())
        response = APIClient().get("/api/products/", {"page_size": 20})
        return ("read", response.status_code)

    outcomes = race(16, work)

    assert [o for o in outcomes if isinstance(o, Exception)] == []
    assert [status for kind, status in outcomes if kind == "read"] == [200] * 10
    truth = {p.pk: f"{p.price:.2f}" for p in Product.objects.all()}
    served = {p["id"]: p["price"] for p in cards.products(list(truth))}
    assert served == truth
    assert all(price != "50.00" for price in served.values())
