"""The catalogue's cost doesn't grow with it: at 100,000 products MariaDB answers a page of the
list by walking an index and stopping at the page — no temporary table, no sort of the whole
catalogue — for the default and name orderings and a category; and counts from an index alone.
Price ordering included: it walks the stored listed price (``services/offers.py``)."""

import pytest
from django.db import connection

from products import selectors
from products.models import Category, Product
from products.tests.factories import make_category, make_product
from stores.tests.factories import StoreFactory

pytestmark = [pytest.mark.mariadb, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def large_catalogue() -> Category:
    stores = [StoreFactory() for _ in range(12)]
    StoreFactory(is_active=False)  # a closed store's products are not on sale
    categories = [make_category(f"Category {n}") for n in range(20)]
    category = categories[0]
    make_product(stores[0], name="seed", category=category.slug)
    low, count = min(s.pk for s in stores), len(stores)
    first = min(c.pk for c in categories)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO products_product (created_at, updated_at, name, description, price, "
            "listed_price, currency, version, deleted_at, category_id, store_id) "
            "SELECT NOW(6) - INTERVAL seq SECOND, NOW(6), CONCAT('Product ', seq), '', "
            "10 + (seq * 7919) %% 5000, 10 + (seq * 7919) %% 5000, 'SDG', 1, "
            "IF(seq %% 50 = 0, NOW(6), NULL), "
            "%s + seq %% 20, %s + seq %% %s FROM seq_1_to_100000",
            [first, low, count],
        )
        cursor.execute("ANALYZE TABLE products_product, stores_store, products_category")
    return category


def plan(queryset) -> list[str]:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        columns = [c[0] for c in cursor.description]
        return [
            f"{row['table']} {row['type']} {row['key']} {row['Extra'] or ''}"
            for row in (dict(zip(columns, values, strict=True)) for values in cursor.fetchall())
        ]


@pytest.mark.parametrize("ordering", ["-created_at", "created_at", "name", "price", "-price"])
def test_a_page_walks_an_index_at_100000_products(large_catalogue, ordering):
    assert Product.objects.count() > 100_000

    by_category = {"ordering": ordering, "category": large_catalogue.slug}
    for filters in ({"ordering": ordering}, by_category):
        ids = selectors._catalogue_ids(filters, None).values_list("pk", flat=True)
        steps = plan(ids[4000:4020])  # a deep page too
        assert not [s for s in steps if "temporary" in s or "filesort" in s], steps
        assert steps[0].startswith("products_product"), steps  # read products first


def test_the_count_reads_an_index_only(large_catalogue):
    count = selectors._catalogue_ids({}, None, for_count=True).order_by()
    steps = plan(count.values("pk"))

    assert not [s for s in steps if "temporary" in s or "filesort" in s], steps
    assert any("product_store_live" in s and "Using index" in s for s in steps), steps
    assert selectors._catalogue_count({}, None) == 98_000 + 1  # 2 % deleted; the seed product
