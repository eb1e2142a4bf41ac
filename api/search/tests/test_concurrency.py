"""The feed under concurrency, on MariaDB (SQLite serialises writers): edits committed while
drains run in other workers all reach the index, and each change is applied once."""

import pytest

from core.tests.concurrency import race
from products.models import Product
from products.services import catalog
from search import feed
from search.models import IndexChange, SearchDocument
from search.tests.catalogue import product

pytestmark = [pytest.mark.mariadb, pytest.mark.django_db(transaction=True)]

EDITORS = 16
EDITS = 5


def test_edits_racing_drains_all_reach_the_index():
    made = [product(name=f"Lamp {n}") for n in range(EDITORS)]
    feed.drain()

    def work(index: int) -> int:
        if index >= EDITORS:  # two workers draining while the owners edit
            applied = 0
            for _ in range(10):
                applied += feed.drain(batch=7)
            return applied
        item = Product.objects.select_related("store__owner").get(pk=made[index].pk)
        for edit in range(EDITS):
            catalog.update_product(
                product=item, user=item.store.owner, data={"name": f"Lantern {index}.{edit}"}
            )
        return 0

    results = race(EDITORS + 2, work)
    feed.drain()  # whatever was committed after the racing drains finished

    assert not [r for r in results if isinstance(r, Exception)]
    assert IndexChange.objects.count() == 0
    indexed = dict(SearchDocument.objects.values_list("pk", "name"))
    assert indexed == {p.pk: f"Lantern {n}.{EDITS - 1}" for n, p in enumerate(made)}
