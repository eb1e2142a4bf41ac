from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from products.models import (
    Category,
    Product,
    ProductCard,
    ProductVersion,
    Size,
    StockMovement,
    Tag,
)
from products.serializers import CategorySerializer, TagSerializer
from products.tests.factories import make_category, make_product
from search import feed
from stores.tests.factories import OwnerFactory, StoreFactory

pytestmark = pytest.mark.django_db


def create_body(store, **extra):
    return {
        "store_id": store.pk,
        "name": "Leather sandals",
        "description": "Hand made in Omdurman",
        "price": "250.00",
        "sizes": [{"name": "40", "stock": 3}, {"name": "41", "stock": 0}],
        "tags": ["Leather", "summer"],
        **extra,
    }


def test_owner_lists_a_product_with_sizes_and_stock(make_auth_client):
    store = StoreFactory()
    make_category("Shoes")

    response = make_auth_client(store.owner).post(
        "/api/products/", create_body(store, category="shoes"), format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["current_price"] == "250.00"
    assert body["currency"] == "SDG"
    assert body["store"] == {"id": store.pk, "name": store.name}
    assert body["category"] == {"slug": "shoes", "name": "Shoes"}
    assert body["tags"] == ["Leather", "summer"]
    assert [(s["name"], s["available"]) for s in body["sizes"]] == [("40", 3), ("41", 0)]
    assert body["availability"] == "low_stock"
    assert body["version"] == 1
    ledger = StockMovement.objects.filter(reason="initial").values_list("on_hand_delta", flat=True)
    assert list(ledger) == [3]


def test_a_product_without_sizes_gets_one_default_size(make_auth_client):
    store = StoreFactory()
    body = create_body(store, stock=25)
    del body["sizes"]

    response = make_auth_client(store.owner).post("/api/products/", body, format="json")

    assert [(s["name"], s["available"]) for s in response.json()["sizes"]] == [("", 25)]
    assert response.json()["availability"] == "in_stock"


def test_sizes_and_stock_together_are_400(make_auth_client):
    store = StoreFactory()
    response = make_auth_client(store.owner).post(
        "/api/products/", create_body(store, stock=4), format="json"
    )
    assert response.status_code == 400


def test_buyers_and_other_owners_cannot_list_products(make_auth_client, auth_client):
    store = StoreFactory()

    assert auth_client.post("/api/products/", create_body(store), format="json").status_code == 403
    other = make_auth_client(OwnerFactory())
    assert other.post("/api/products/", create_body(store), format="json").status_code == 403
    missing = other.post("/api/products/", create_body(store, store_id=999999), format="json")
    assert missing.status_code == 400
    assert not Product.objects.exists()


@pytest.mark.parametrize("offer_price", ["250.00", "300.00"])
def test_an_offer_at_or_above_the_price_is_400(make_auth_client, offer_price):
    store = StoreFactory()
    now = timezone.now()
    offer = {
        "price": offer_price,
        "starts_at": now.isoformat(),
        "ends_at": (now + timedelta(days=1)).isoformat(),
    }

    response = make_auth_client(store.owner).post(
        "/api/products/", create_body(store, offer=offer), format="json"
    )

    assert response.status_code == 400
    assert response.json()["details"] == {"offer": ["The offer price must be below the price."]}


def test_offer_window_boundaries(api_client: APIClient):
    start = timezone.now().replace(microsecond=0) + timedelta(days=1)
    end = start + timedelta(days=2)
    product = make_product(
        price=Decimal("100.00"),
        offer={"price": Decimal("80.00"), "starts_at": start, "ends_at": end},
    )

    def current_price_at(moment) -> str:
        with time_machine.travel(moment, tick=False):
            return api_client.get(f"/api/products/{product.pk}/").json()["current_price"]

    assert current_price_at(start - timedelta(seconds=1)) == "100.00"
    assert current_price_at(start) == "80.00"
    assert current_price_at(end - timedelta(seconds=1)) == "80.00"
    assert current_price_at(end) == "100.00"
    assert current_price_at(end + timedelta(days=1)) == "100.00"


def test_others_cannot_change_or_delete_a_product(make_auth_client):
    product = make_product(name="Original")
    stranger = make_auth_client(OwnerFactory())

    assert (
        stranger.patch(
            f"/api/products/{product.pk}/", {"name": "Hacked"}, format="json"
        ).status_code
        == 403
    )
    assert (
        stranger.put(
            f"/api/products/{product.pk}/", {"name": "Hacked", "price": "1.00"}, format="json"
        ).status_code
        == 403
    )
    assert stranger.delete(f"/api/products/{product.pk}/").status_code == 403
    product.refresh_from_db()
    assert (product.name, product.deleted_at, product.version) == ("Original", None, 1)


def test_soft_delete_hides_the_product_but_keeps_its_history(make_auth_client, api_client):
    product = make_product()
    owner = make_auth_client(product.store.owner)

    assert owner.delete(f"/api/products/{product.pk}/").status_code == 204

    assert api_client.get(f"/api/products/{product.pk}/").status_code == 404
    assert owner.get(f"/api/products/{product.pk}/").status_code == 404
    assert api_client.get("/api/products/").json()["count"] == 0
    history = owner.get(f"/api/products/{product.pk}/history/").json()["results"]
    assert history[0]["changes"] == [{"field": "deleted", "old": False, "new": True}]
    assert Product.objects.filter(pk=product.pk).exists()


def test_put_replaces_details_and_patch_changes_some(make_auth_client):
    product = make_product(name="Old", description="Old text")
    owner = make_auth_client(product.store.owner)

    put = owner.put(
        f"/api/products/{product.pk}/", {"name": "New", "price": "90.00"}, format="json"
    )
    assert put.status_code == 200
    assert (put.json()["name"], put.json()["price"]) == ("New", "90.00")
    missing = owner.put(f"/api/products/{product.pk}/", {"name": "Only name"}, format="json")
    assert missing.status_code == 400
    patched = owner.patch(f"/api/products/{product.pk}/", {"description": "Better"}, format="json")
    assert (patched.json()["name"], patched.json()["description"]) == ("New", "Better")


def test_setting_stock_below_what_checkouts_hold_is_409(make_auth_client):
    from products.models import Reservation

    product = make_product(sizes=[{"name": "M", "stock": 5}])
    size = product.sizes.get()
    Size.objects.filter(pk=size.pk).update(reserved=3)
    Reservation.objects.create(
        size=size, quantity=3, expires_at=timezone.now() + timedelta(minutes=10)
    )

    response = make_auth_client(product.store.owner).patch(
        f"/api/products/{product.pk}/",
        {"sizes": [{"id": size.pk, "name": "M", "stock": 2}]},
        format="json",
    )

    assert response.status_code == 409
    assert response.json()["code"] == "stock_below_reserved"
    size.refresh_from_db()
    assert size.on_hand == 5


def test_sizes_are_replaced_as_a_list(make_auth_client):
    product = make_product(sizes=[{"name": "S", "stock": 1}, {"name": "M", "stock": 2}])
    small, medium = product.sizes.order_by("position")

    response = make_auth_client(product.store.owner).patch(
        f"/api/products/{product.pk}/",
        {"sizes": [{"id": medium.pk, "name": "M", "stock": 4}, {"name": "L", "stock": 6}]},
        format="json",
    )

    assert [(s["name"], s["available"]) for s in response.json()["sizes"]] == [("M", 4), ("L", 6)]
    small.refresh_from_db()
    assert small.deleted_at is not None


def test_list_filters(api_client: APIClient):
    clothing = make_category("Clothing")
    make_category("Shoes", parent=clothing)
    make_category("Food")
    store = StoreFactory()
    now = timezone.now()
    running = {"starts_at": now - timedelta(hours=1), "ends_at": now + timedelta(hours=1)}
    sandals = make_product(
        store=store,
        name="Sandals",
        price=Decimal("250"),
        category="shoes",
        tags=["summer"],
        sizes=[{"name": "41", "stock": 2}],
        offer={"price": Decimal("200"), **running},
    )
    jacket = make_product(
        store=store, name="Jacket", price=Decimal("900"), category="clothing", stock=0
    )
    dates = make_product(
        name="Dates", description="Sweet Sudanese dates", price=Decimal("40"), category="food"
    )
    feed.drain()  # the worker's part: ?search= reads the search index

    def ids(query: str) -> list[int]:
        response = api_client.get(f"/api/products/?{query}")
        assert response.status_code == 200, response.content
        return [p["id"] for p in response.json()["results"]]

    assert set(ids("category=clothing")) == {sandals.pk, jacket.pk}  # includes subcategories
    assert ids("category=shoes") == [sandals.pk]
    assert ids("category=unknown") == []
    assert ids("tag=summer") == [sandals.pk]
    assert set(ids(f"store={store.pk}")) == {sandals.pk, jacket.pk}
    assert ids("search=sudanese") == [dates.pk]
    assert set(ids("min_price=100&max_price=220")) == {sandals.pk}  # on current_price
    assert ids("has_offer=true") == [sandals.pk]
    assert ids("in_stock=false") == [jacket.pk]
    assert set(ids("in_stock=true")) == {sandals.pk, dates.pk}
    assert ids("size=41") == [sandals.pk]
    assert ids("ordering=price") == [dates.pk, sandals.pk, jacket.pk]
    assert ids("ordering=-price") == [jacket.pk, sandals.pk, dates.pk]
    assert ids("ordering=name") == [dates.pk, jacket.pk, sandals.pk]
    assert api_client.get("/api/products/?ordering=popularity").status_code == 400
    assert api_client.get("/api/products/?min_price=abc").status_code == 400


def test_list_and_detail_query_budgets(make_auth_client, django_assert_max_num_queries):
    from products.services import catalog

    buyer = OwnerFactory()
    client = make_auth_client(buyer)
    make_category("All")
    for n in range(100):
        product = make_product(
            name=f"P{n}",
            category="all",
            tags=["a", "b"],
            sizes=[{"name": "S", "stock": 1}, {"name": "M", "stock": 2}],
        )
        if n % 3 == 0:
            catalog.add_favorite(user=buyer, product=product)

    # The first reads build the product cards (3 queries + storing them); later ones read them.
    # Signed in: the user, the count, the open stores, the page's ids, the cards, the sizes,
    # the favourites — whatever the page size.
    for budget in (13, 7):
        for page_size in (1, 20, 100):
            with django_assert_max_num_queries(budget):
                response = client.get(f"/api/products/?page_size={page_size}")
            results = response.json()["results"]
            assert len(results) == page_size
            assert all(p["is_favorite"] == (int(p["name"][1:]) % 3 == 0) for p in results)
            assert {len(p["sizes"]) for p in results} == {2}
    ProductCard.objects.filter(product=product).delete()
    for budget in (10, 4):
        with django_assert_max_num_queries(budget):
            assert client.get(f"/api/products/{product.pk}/").json()["is_favorite"] is True
    with django_assert_max_num_queries(8):
        client.get("/api/accounts/me/favorites/?page_size=100")


def test_is_favorite_and_favourites(make_auth_client, auth_client):
    liked, other = make_product(name="Liked"), make_product(name="Other")

    assert auth_client.post(f"/api/products/{liked.pk}/favorite/").status_code == 201
    assert auth_client.post(f"/api/products/{liked.pk}/favorite/").status_code == 200
    listed = {
        p["name"]: p["is_favorite"] for p in auth_client.get("/api/products/").json()["results"]
    }
    assert listed == {"Liked": True, "Other": False}
    favorites = auth_client.get("/api/accounts/me/favorites/").json()
    assert [p["name"] for p in favorites["results"]] == ["Liked"]

    make_auth_client(liked.store.owner).delete(f"/api/products/{liked.pk}/")
    assert auth_client.get("/api/accounts/me/favorites/").json()["count"] == 0
    assert auth_client.delete(f"/api/products/{liked.pk}/favorite/").status_code == 204
    assert auth_client.delete(f"/api/products/{other.pk}/favorite/").status_code == 204
    assert auth_client.post("/api/products/999999/favorite/").status_code == 404


def test_history_is_for_the_owner_and_staff_only(make_auth_client, auth_client, staff_client):
    product = make_product()

    assert auth_client.get(f"/api/products/{product.pk}/history/").status_code == 404
    assert staff_client.get(f"/api/products/{product.pk}/history/").status_code == 200
    owner = make_auth_client(product.store.owner).get(f"/api/products/{product.pk}/history/")
    assert owner.json()["count"] == 1
    assert owner.json()["results"][0]["snapshot"]["name"] == "Cotton jalabiya"


def test_categories_and_tags_are_public(api_client: APIClient):
    parent = make_category("Clothing")
    make_category("Shoes", parent=parent)
    make_product(tags=["wool"])

    categories = api_client.get("/api/categories/").json()["results"]
    assert [(c["slug"], c["parent"]) for c in categories] == [
        ("clothing", None),
        ("shoes", "clothing"),
    ]
    assert [t["name"] for t in api_client.get("/api/tags/").json()["results"]] == ["wool"]


def test_a_page_of_categories_shows_each_as_the_serializer_does_in_tree_order(
    api_client: APIClient, django_assert_num_queries
):
    clothing = make_category("Clothing")
    food = make_category("Food")
    make_category("Shoes", parent=clothing)
    make_category("Spices", parent=food)
    make_category("عطور")
    tree = Category.objects.select_related("parent").order_by("path")

    with django_assert_num_queries(1):  # the page and its total in one statement
        first = api_client.get("/api/categories/?page_size=3").json()
    second = api_client.get("/api/categories/?page_size=3&page=2").json()

    assert first["count"] == 5
    assert first["results"] + second["results"] == CategorySerializer(tree, many=True).data
    shown = [c["slug"] for c in first["results"] + second["results"]]
    assert shown.index("shoes") == shown.index("clothing") + 1  # right under its parent
    assert shown.index("spices") == shown.index("food") + 1


def test_a_page_of_tags_shows_each_as_the_serializer_does_by_name(
    api_client: APIClient, django_assert_num_queries
):
    make_product(tags=["wool", "Cotton", "قطن", "linen"])

    with django_assert_num_queries(1):
        first = api_client.get("/api/tags/?page_size=2").json()
    rest = api_client.get("/api/tags/?page_size=2&page=2").json()

    assert first["count"] == 4
    expected = TagSerializer(Tag.objects.order_by("name"), many=True).data
    assert first["results"] + rest["results"] == expected
    assert expected[-1]["name"] == "قطن"


def test_a_closed_stores_products_are_not_on_sale(api_client: APIClient):
    product = make_product()
    product.store.is_active = False
    product.store.save()

    assert api_client.get(f"/api/products/{product.pk}/").status_code == 404
    assert api_client.get(f"/api/stores/{product.store_id}/products/").status_code == 404


def test_store_catalogue_lists_the_stores_products(api_client: APIClient):
    store = StoreFactory()
    mine = make_product(store=store)
    make_product()

    response = api_client.get(f"/api/stores/{store.pk}/products/")

    assert [p["id"] for p in response.json()["results"]] == [mine.pk]


def test_versions_are_numbered_without_gaps():
    product = make_product()
    assert list(
        ProductVersion.objects.filter(product=product).values_list("number", flat=True)
    ) == [1]


def test_store_catalogue_categories_and_tags_query_budgets(
    api_client: APIClient, django_assert_max_num_queries
):
    store = StoreFactory()
    parent = make_category("Clothing")
    for n in range(30):
        make_category(f"Sub {n}", parent=parent)
        make_product(store=store, name=f"P{n}", tags=[f"t{n}"], sizes=[{"name": "S", "stock": 1}])

    for url in (
        f"/api/stores/{store.pk}/products/?page_size=100",
        "/api/categories/?page_size=100",
        "/api/tags/?page_size=100",
    ):
        for budget in (12, 8):  # the first read of the store's catalogue builds its cards
            with django_assert_max_num_queries(budget):
                assert api_client.get(url).status_code == 200


@pytest.mark.parametrize("name", ["store", "in_stock", "ordering", "min_price", "has_offer"])
def test_a_blank_typed_filter_is_400_naming_it(api_client: APIClient, name):
    response = api_client.get(f"/api/products/?{name}=")

    assert response.status_code == 400
    assert response.json()["details"] == {name: ["A value is required."]}


def test_blank_free_text_filters_are_no_filter(api_client: APIClient):
    make_product(name="Karkade")

    response = api_client.get("/api/products/?search=&category=&tag=&size=")

    assert response.status_code == 200
    assert response.json()["count"] == 1
