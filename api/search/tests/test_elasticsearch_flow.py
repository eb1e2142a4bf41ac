"""Elasticsearch end to end, over the fake node: catalogue services → feed → database index →
Elasticsearch → the search API; the cluster going down; a rebuild while owners edit."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from core.tests.concurrency import race
from products.models import Product
from products.services import catalog
from search import elastic, feed
from search.models import ElasticsearchPending
from search.tests.catalogue import product
from search.tests.fake_es import FakeCluster

pytestmark = pytest.mark.django_db

LIVE = "sudamall-products"


def test_a_product_made_through_the_catalogue_is_found_through_elasticsearch(
    es: FakeCluster, api_client: APIClient
):
    elastic.rebuild()
    sandals = product(name="صندل جلد طبيعي")
    feed.drain()

    body = api_client.get("/api/search/products/", {"q": "صندل"}).json()

    assert body["backend"] == "elasticsearch"
    assert [p["id"] for p in body["results"]] == [sandals.pk]
    assert sandals.pk in es.ids(LIVE)
    assert not ElasticsearchPending.objects.exists()


@pytest.mark.parametrize("fault", ["connection", "timeout"])
def test_with_the_cluster_down_search_answers_from_the_database_and_ready_says_degraded(
    es: FakeCluster, api_client: APIClient, fault
):
    elastic.rebuild()
    sandals = product(name="Leather sandals")
    feed.drain()
    es.fail(fault, times=None)

    searched = api_client.get("/api/search/products/", {"q": "sandls"})
    listed = api_client.get("/api/products/", {"search": "sandals"})
    suggested = api_client.get("/api/search/suggest/", {"q": "sand"})
    ready = api_client.get("/ready/")

    assert searched.status_code == 200
    assert searched.json()["backend"] == "database"
    assert [p["id"] for p in searched.json()["results"]] == [sandals.pk]
    assert [p["id"] for p in listed.json()["results"]] == [sandals.pk]
    assert suggested.json()["suggestions"][0]["text"] == "Leather sandals"
    assert ready.status_code == 200
    assert ready.json()["checks"]["search"] == "degraded"


def test_changes_made_while_the_cluster_is_down_reach_it_when_it_is_back(es: FakeCluster):
    elastic.rebuild()
    lamp = product(name="Brass lamp")
    feed.drain()
    es.fail("connection", times=None)

    catalog.update_product(product=lamp, user=lamp.store.owner, data={"name": "Copper lantern"})
    feed.drain()
    assert ElasticsearchPending.objects.filter(document_id=lamp.pk).exists()

    es.heal()
    cache.clear()  # the breaker's cooldown, passed
    feed.drain()  # the beat's drain: nothing new, but pending documents go out

    assert es.source(LIVE, lamp.pk)["name"] == "Copper lantern"
    assert not ElasticsearchPending.objects.exists()


@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True)
def test_a_hundred_edits_during_a_rebuild_lose_none(es: FakeCluster):
    """20 owners each edit their product 5 times while a rebuild loads and swaps the alias;
    every last edit is in the new index."""
    owners = 20
    made = [product(name=f"Lamp {n}") for n in range(owners)]
    feed.drain()
    elastic.rebuild()
    before = {name for name in es.indices}

    def work(index: int) -> object:
        if index == owners:
            return elastic.rebuild()
        item = Product.objects.select_related("store__owner").get(pk=made[index].pk)
        for edit in range(5):
            catalog.update_product(
                product=item, user=item.store.owner, data={"name": f"Lantern {index}.{edit}"}
            )
        return None

    results = race(owners + 1, work)
    feed.drain()

    assert not [r for r in results if isinstance(r, Exception)]
    assert es.aliases[LIVE].isdisjoint(before)  # the swap happened
    assert {pk: es.source(LIVE, pk)["name"] for pk in es.ids(LIVE)} == {
        p.pk: f"Lantern {n}.4" for n, p in enumerate(made)
    }
    assert not ElasticsearchPending.objects.exists()
