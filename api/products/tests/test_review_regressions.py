"""Regression tests for what a review of the catalogue found."""

from datetime import timedelta

import pytest
from django.utils import timezone

from products.models import Reservation, Size, Tag
from products.tests.factories import make_product
from stores.tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


def patch(client, product, body):
    return client.patch(f"/api/products/{product.pk}/", body, format="json")


@pytest.mark.parametrize("offer", [{"price": "5.00"}, {}])
def test_an_incomplete_offer_is_400(make_auth_client, offer):
    product = make_product()

    response = patch(make_auth_client(product.store.owner), product, {"offer": offer})

    assert response.status_code == 400
    assert "offer" in response.json()["details"]


def test_huge_ids_in_filters_are_400(api_client):
    assert api_client.get(f"/api/products/?store={10**30}").status_code == 400


def test_a_size_claimed_by_id_is_not_also_matched_by_name(make_auth_client):
    product = make_product(sizes=[{"name": "S", "stock": 1}, {"name": "M", "stock": 2}])
    small = product.sizes.get(name="S")

    response = patch(
        make_auth_client(product.store.owner),
        product,
        {"sizes": [{"id": small.pk, "name": "L"}, {"name": "S", "stock": 9}]},
    )

    assert response.status_code == 200
    assert [(s["name"], s["available"]) for s in response.json()["sizes"]] == [("L", 1), ("S", 9)]


def test_a_repeated_size_id_is_400(make_auth_client):
    product = make_product(sizes=[{"name": "S", "stock": 1}])
    small = product.sizes.get()

    response = patch(
        make_auth_client(product.store.owner),
        product,
        {"sizes": [{"id": small.pk, "name": "A"}, {"id": small.pk, "name": "B"}]},
    )

    assert response.status_code == 400


def test_resending_the_same_sizes_changes_nothing(make_auth_client):
    product = make_product(sizes=[{"name": "Extra  Large", "stock": 3}])

    response = patch(
        make_auth_client(product.store.owner), product, {"sizes": [{"name": "Extra  Large"}]}
    )

    assert [(s["name"], s["available"]) for s in response.json()["sizes"]] == [("Extra Large", 3)]
    assert product.versions.count() == 1


def test_a_size_that_checkouts_hold_cannot_be_removed(make_auth_client):
    product = make_product(sizes=[{"name": "S", "stock": 8}, {"name": "M", "stock": 1}])
    small = product.sizes.get(name="S")
    Size.objects.filter(pk=small.pk).update(reserved=8)
    Reservation.objects.create(
        size=small, quantity=8, expires_at=timezone.now() + timedelta(minutes=5)
    )

    response = patch(make_auth_client(product.store.owner), product, {"sizes": [{"name": "M"}]})

    assert response.status_code == 409
    assert response.json()["code"] == "size_in_use"
    small.refresh_from_db()
    assert small.deleted_at is None


def test_tags_match_names_case_insensitively_and_keep_arabic(make_auth_client, api_client):
    Tag.objects.create(name="Red", slug="crimson")
    product = make_product()

    response = patch(
        make_auth_client(product.store.owner), product, {"tags": ["red", "أحمر", "RED"]}
    )

    assert response.status_code == 200
    assert sorted(response.json()["tags"]) == ["Red", "أحمر"]
    slug = Tag.objects.get(name="أحمر").slug
    assert api_client.get(f"/api/products/?tag={slug}").json()["count"] == 1


def test_a_store_cannot_keep_half_a_coordinate(make_auth_client):
    store = StoreFactory(latitude="15.5", longitude="32.5")

    response = make_auth_client(store.owner).patch(
        f"/api/stores/{store.pk}/", {"latitude": None}, format="json"
    )
    moved = make_auth_client(store.owner).patch(
        f"/api/stores/{store.pk}/", {"latitude": "16.0"}, format="json"
    )

    assert response.status_code == 400
    assert moved.status_code == 200
    store.refresh_from_db()
    assert (str(store.latitude), str(store.longitude)) == ("16.000000", "32.500000")
