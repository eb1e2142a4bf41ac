from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from stores.models import Store
from stores.tests.factories import OwnerFactory, StoreFactory

pytestmark = pytest.mark.django_db

# Known places and their great-circle distances from central Khartoum (15.5007, 32.5599), by the
# haversine formula on a 6371 km sphere: Omdurman 18.3 km, Wad Madani 159.9 km,
# Port Sudan 673.0 km, Cairo 1622.8 km.
KHARTOUM = (15.5007, 32.5599)
PLACES = {
    "Port Sudan": (19.6158, 37.2164),
    "Omdurman": (15.6445, 32.4777),
    "Cairo": (30.0444, 31.2357),
    "Wad Madani": (14.4012, 33.5199),
}


@pytest.fixture
def places():
    return {
        name: StoreFactory(name=name, latitude=Decimal(str(lat)), longitude=Decimal(str(lng)))
        for name, (lat, lng) in PLACES.items()
    }


def names(response) -> list[str]:
    return [store["name"] for store in response.json()["results"]]


def test_near_orders_by_great_circle_distance(api_client: APIClient, places):
    response = api_client.get("/api/stores/?near=15.5007,32.5599")

    assert response.status_code == 200
    assert names(response) == ["Omdurman", "Wad Madani", "Port Sudan", "Cairo"]
    distances = [store["distance_km"] for store in response.json()["results"]]
    assert distances == pytest.approx([18.3, 159.9, 673.0, 1622.8], abs=0.1)


def test_radius_keeps_only_nearby_stores(api_client: APIClient, places):
    response = api_client.get("/api/stores/?near=15.5007,32.5599&radius_km=200")

    assert names(response) == ["Omdurman", "Wad Madani"]


def test_stores_without_coordinates_are_left_out_of_near(api_client: APIClient, places):
    StoreFactory(name="Online only")

    assert "Online only" not in names(api_client.get("/api/stores/?near=15.5,32.5"))
    assert "distance_km" not in api_client.get("/api/stores/").json()["results"][0]


@pytest.mark.parametrize(
    "query", ["near=abc", "near=95,10", "near=10,190", "radius_km=5", "near=1,2&radius_km=-1"]
)
def test_bad_near_queries_are_400(api_client: APIClient, query: str):
    assert api_client.get(f"/api/stores/?{query}").status_code == 400


def test_store_list_query_budget(api_client: APIClient, places, django_assert_max_num_queries):
    StoreFactory.create_batch(30)
    for size in (1, 20, 100):
        with django_assert_max_num_queries(2):
            api_client.get(f"/api/stores/?page_size={size}&near=15.5,32.5")


def test_business_owner_opens_a_store(make_auth_client):
    owner = OwnerFactory()

    response = make_auth_client(owner).post(
        "/api/stores/",
        {"name": "Nile Shoes", "latitude": "15.500700", "longitude": "32.559900"},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["slug"] == "nile-shoes"
    assert Store.objects.get().owner == owner


def test_a_buyer_cannot_open_a_store(auth_client: APIClient):
    response = auth_client.post("/api/stores/", {"name": "Nope"}, format="json")

    assert response.status_code == 403
    assert not Store.objects.exists()


def test_only_the_owner_changes_or_closes_a_store(make_auth_client):
    store = StoreFactory(name="Mine")
    stranger = make_auth_client(OwnerFactory())

    assert (
        stranger.patch(f"/api/stores/{store.pk}/", {"name": "Theirs"}, format="json").status_code
        == 403
    )
    assert stranger.delete(f"/api/stores/{store.pk}/").status_code == 403
    store.refresh_from_db()
    assert (store.name, store.is_active) == ("Mine", True)

    owner = make_auth_client(store.owner)
    assert (
        owner.patch(f"/api/stores/{store.pk}/", {"name": "Still mine"}, format="json").json()[
            "name"
        ]
        == "Still mine"
    )
    assert owner.delete(f"/api/stores/{store.pk}/").status_code == 204
    assert APIClient().get(f"/api/stores/{store.pk}/").status_code == 404


def test_half_a_coordinate_is_400(make_auth_client):
    response = make_auth_client(OwnerFactory()).post(
        "/api/stores/", {"name": "X", "latitude": "15.5"}, format="json"
    )

    assert response.status_code == 400


def test_register_a_business_owner_with_a_store(api_client: APIClient):
    response = api_client.post(
        "/api/auth/register/",
        {
            "email": "owner@example.com",
            "password": "Nile-river-2026!",
            "first_name": "Omar",
            "last_name": "Hassan",
            "account_type": "business_owner",
            "store": {"name": "Omar's Market", "latitude": "15.5", "longitude": "32.5"},
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    assert Store.objects.get().owner.email == "owner@example.com"


def test_a_buyer_registering_with_a_store_is_400(api_client: APIClient):
    response = api_client.post(
        "/api/auth/register/",
        {
            "email": "buyer@example.com",
            "password": "Nile-river-2026!",
            "first_name": "A",
            "last_name": "B",
            "account_type": "buyer",
            "store": {"name": "Nope"},
        },
        format="json",
    )

    assert response.status_code == 400
    assert not Store.objects.exists()
    assert not UserFactory._meta.model.objects.exists()


def test_an_owner_lists_their_own_stores_including_inactive_ones(make_auth_client, api_client):
    owner = UserFactory(account_type="business_owner")
    open_shop = StoreFactory(owner=owner, name="Omdurman Spices")
    closed_shop = StoreFactory(owner=owner, name="Atbara Leather", is_active=False)
    StoreFactory(name="Somebody else's")
    client = make_auth_client(owner)

    mine = client.get("/api/stores/?mine=true").json()
    public = client.get("/api/stores/").json()
    me = client.get("/api/accounts/me/").json()

    assert [s["id"] for s in mine["results"]] == [closed_shop.pk, open_shop.pk]  # by name
    assert closed_shop.pk not in [s["id"] for s in public["results"]]
    assert me["stores"] == [
        {"id": closed_shop.pk, "name": "Atbara Leather", "slug": closed_shop.slug},
        {"id": open_shop.pk, "name": "Omdurman Spices", "slug": open_shop.slug},
    ]
    assert api_client.get("/api/stores/?mine=true").status_code == 401
    assert client.get("/api/stores/?mine=maybe").status_code == 400


def test_a_deleted_store_leaves_the_owners_list(make_auth_client):
    owner = UserFactory(account_type="business_owner")
    store = StoreFactory(owner=owner)
    client = make_auth_client(owner)
    assert client.delete(f"/api/stores/{store.pk}/").status_code == 204

    assert client.get("/api/stores/?mine=true").json()["count"] == 0
    assert client.get("/api/accounts/me/").json()["stores"] == []
