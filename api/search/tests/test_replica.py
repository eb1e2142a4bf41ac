"""The process's copy of the search documents (search.replica): a search reads the matching
documents from it, caught up with the index log before each search; it is rebuilt when it
can't be sure to catch up, and left aside when the index is larger than allowed."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from products.services import catalog
from search import replica
from search.backends.database import DatabaseSearchBackend
from search.models import IndexLog
from search.query import Filters, SearchRequest
from search.tests.catalogue import drain, product

pytestmark = pytest.mark.django_db

backend = DatabaseSearchBackend()


@pytest.fixture(autouse=True)
def fresh_copy():
    replica.reset()
    yield
    replica.reset()


def ids(text: str, **filters) -> list[int]:
    return backend.search(SearchRequest(text=text, filters=Filters(**filters))).ids


def test_a_price_change_reaches_the_copy_with_the_next_search():
    kettle = product(name="Copper kettle", price=Decimal("100.00"))
    drain()
    assert ids("kettle", max_price=Decimal("150")) == [kettle.pk]  # the copy is built here

    catalog.update_product(
        product=kettle, user=kettle.store.owner, data={"price": Decimal("200.00")}
    )
    drain()

    assert ids("kettle", max_price=Decimal("150")) == []
    assert ids("kettle", min_price=Decimal("150")) == [kettle.pk]


def test_catching_up_reads_the_log_and_only_the_documents_it_names():
    kettle = product(name="Copper kettle")
    product(name="Steel kettle")
    drain()
    ids("kettle")  # built
    catalog.update_product(product=kettle, user=kettle.store.owner, data={"price": Decimal("7.00")})
    drain()

    with CaptureQueriesContext(connection) as caught:
        found = backend.search(SearchRequest(text="kettle", filters=Filters(max_price=Decimal(10))))

    assert found.ids == [kettle.pk]
    log_reads = [q for q in caught if "search_indexlog" in q["sql"]]
    document_reads = [q for q in caught if 'FROM "search_searchdocument"' in q["sql"]
                      or "FROM `search_searchdocument`" in q["sql"]]  # fmt: skip
    assert len(log_reads) == 1
    assert len(document_reads) == 1  # the one changed document; the rest from the copy


def test_a_product_leaving_sale_leaves_the_copy():
    kettle = product(name="Copper kettle")
    drain()
    assert ids("kettle") == [kettle.pk]

    catalog.delete_product(product=kettle, user=kettle.store.owner)
    drain()

    assert ids("kettle") == []
    copy = replica.documents()
    assert copy is not None
    assert kettle.pk not in copy


def test_a_log_that_is_not_the_one_it_followed_rebuilds_the_copy():
    kettle = product(name="Copper kettle", price=Decimal("100.00"))
    drain()
    assert ids("kettle", max_price=Decimal("150")) == [kettle.pk]
    # As after restoring a backup: the rows the copy stopped at are gone, and the document
    # changed without a log row the copy could follow.
    IndexLog.objects.all().delete()
    catalog.update_product(
        product=kettle, user=kettle.store.owner, data={"price": Decimal("300.00")}
    )
    drain()
    IndexLog.objects.all().delete()

    assert ids("kettle", max_price=Decimal("150")) == []


def test_an_idle_copy_is_rebuilt_rather_than_trusted(monkeypatch):
    kettle = product(name="Copper kettle", price=Decimal("100.00"))
    drain()
    assert ids("kettle", max_price=Decimal("150")) == [kettle.pk]
    catalog.update_product(
        product=kettle, user=kettle.store.owner, data={"price": Decimal("300.00")}
    )
    drain()
    # The rows past the one the copy stopped at are gone (only the idle time can tell).
    stopped_at = replica._replica.last
    assert stopped_at is not None
    IndexLog.objects.filter(pk__gt=stopped_at[0]).delete()
    later = replica.time.monotonic() + replica.CATCH_UP_SECONDS + 1
    monkeypatch.setattr(replica.time, "monotonic", lambda: later)

    assert ids("kettle", max_price=Decimal("150")) == []


def test_an_index_larger_than_allowed_is_read_from_the_database(settings):
    settings.SEARCH_MEMORY_DOCUMENTS = 1
    kettles = [product(name=f"Kettle {n}") for n in range(3)]
    drain()

    assert sorted(ids("kettle")) == sorted(k.pk for k in kettles)
    assert replica.documents() is None


def test_the_reconciler_prunes_the_log_after_an_hour():
    from search import feed

    kept = IndexLog.objects.create(document_id=1)
    IndexLog.objects.create(
        document_id=2,
        created_at=timezone.now() - timedelta(seconds=IndexLog.LOG_KEEP_SECONDS + 60),
    )

    feed.reconcile()

    assert list(IndexLog.objects.values_list("pk", flat=True)) == [kept.pk]
