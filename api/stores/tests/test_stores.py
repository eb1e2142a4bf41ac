import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from stores.models import Store
from stores.serializers import StoreSerializer
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
        with django_assert_max_num_queries(1):  # the page and its total in one statement
            assert api_client.get(f"/api/stores/?page_size={size}").json()["count"] == 34


@pytest.fixture
def varied_stores():
    """Stores that test every way a value can be shown: coordinates missing, negative, with
    trailing zeros; a phone number or none; a creation time with and without microseconds;
    names that sort with case and Arabic."""
    made = [
        StoreFactory(name="Omdurman Spices", latitude=Decimal("15.644500"),
                     longitude=Decimal("32.477700"), contact_phone="+249912345678"),
        StoreFactory(name="online only", description="", address=""),
        StoreFactory(name="Río Negro", latitude=Decimal("-41.1335"), longitude=Decimal("-71.31"),
                     contact_phone="+5492944123456"),
        StoreFactory(name="متجر الخرطوم", latitude=Decimal("0"), longitude=Decimal("-0.000001")),
    ]  # fmt: skip
    exact = timezone.make_aware(datetime.datetime(2026, 3, 1, 8, 30), datetime.UTC)
    Store.objects.filter(pk=made[1].pk).update(created_at=exact)
    return made


def serialized(stores) -> list[dict]:
    return [dict(StoreSerializer(store).data) for store in stores]


def test_a_page_of_stores_shows_each_as_the_store_serializer_does(api_client, varied_stores):
    expected = serialized(Store.objects.filter(is_active=True).order_by("name", "id"))

    first = api_client.get("/api/stores/?page_size=3").json()
    second = api_client.get("/api/stores/?page_size=3&page=2").json()

    assert first["count"] == second["count"] == 4
    assert first["results"] + second["results"] == expected
    assert first["next"] == "http://testserver/api/stores/?page=2&page_size=3"
    assert second["previous"] == "http://testserver/api/stores/?page_size=3"
    # The data tests what it should (the order by name is the database's collation).
    phones = {store["contact_phone"] for store in expected}
    latitudes = {store["latitude"] for store in expected}
    assert phones == {"+249912345678", "+5492944123456", ""}
    assert latitudes == {None, "15.644500", "-41.133500", "0.000000"}


def test_a_near_page_shows_stores_as_the_serializer_does_with_their_distance(
    api_client, varied_stores
):
    results = api_client.get("/api/stores/?near=15.5007,32.5599").json()["results"]

    located = Store.objects.exclude(latitude=None)
    expected = {row["id"]: row for row in serialized(located)}
    assert len(results) == 3
    for shown in results:
        assert {k: v for k, v in shown.items() if k != "distance_km"} == expected[shown["id"]]
    assert results[0]["name"] == "Omdurman Spices"
    assert results[0]["distance_km"] == pytest.approx(18.3, abs=0.1)


def test_an_owners_page_shows_their_closed_store_as_the_serializer_does(make_auth_client):
    owner = OwnerFactory()
    closed = StoreFactory(owner=owner, is_active=False, contact_phone="+249912345678")

    page = make_auth_client(owner).get("/api/stores/?mine=true").json()

    assert page["results"] == serialized([closed])
    assert page["results"][0]["is_active"] is False


@pytest.mark.parametrize("query", ["page=3&page_size=2", "page=0", "page=x", "page_size=0"])
def test_a_page_that_isnt_there_is_an_error_not_an_empty_page(api_client, varied_stores, query):
    response = api_client.get(f"/api/stores/?{query}")

    assert response.status_code in (400, 404)
    assert set(response.json()) == {"code", "message", "details"}


def test_the_last_page_of_stores(api_client, varied_stores):
    page = api_client.get("/api/stores/?page_size=3&page=last").json()

    assert page["count"] == 4
    assert [store["name"] for store in page["results"]] == ["متجر الخرطوم"]


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
