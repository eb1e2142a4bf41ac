from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from carts.models import CartItem
from products.services import catalog, stock
from products.tests.factories import make_product

pytestmark = pytest.mark.django_db


def add(client: APIClient, product, size=None, quantity=1):
    body = {"product_id": product.pk, "quantity": quantity}
    if size is not None:
        body["size_id"] = size.pk
    return client.post("/api/cart/add/", body, format="json")


def test_add_merges_the_same_product_and_size(auth_client: APIClient):
    product = make_product(sizes=[{"name": "M", "stock": 5}], price=Decimal("100.00"))
    size = product.sizes.get()

    assert add(auth_client, product, size, 2).status_code == 201
    cart = add(auth_client, product, size, 1).json()

    assert cart["item_count"] == 3
    assert cart["total"] == "300.00"
    assert cart["currency"] == "SDG"
    [line] = cart["items"]
    assert (line["size_name"], line["quantity"], line["unit_price"], line["line_total"]) == (
        "M",
        3,
        "100.00",
        "300.00",
    )
    assert line["available"] == 5
    assert line["changes"] == []


def test_a_product_without_sizes_needs_no_size_id(auth_client: APIClient):
    product = make_product(stock=2)

    assert add(auth_client, product, quantity=2).status_code == 201


def test_a_product_with_sizes_needs_one(auth_client: APIClient):
    product = make_product(sizes=[{"name": "S", "stock": 1}, {"name": "M", "stock": 1}])
    other = make_product(sizes=[{"name": "L", "stock": 1}]).sizes.get()

    assert add(auth_client, product).status_code == 400
    assert add(auth_client, product, other).status_code == 400


def test_more_than_available_is_409_out_of_stock(auth_client: APIClient):
    product = make_product(stock=2)
    add(auth_client, product, quantity=2)

    response = add(auth_client, product, quantity=1)

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "out_of_stock"
    assert body["details"]["lines"][0]["available"] == 2
    assert CartItem.objects.get().quantity == 2


def test_unavailable_products_cannot_be_added(auth_client: APIClient):
    product = make_product()
    catalog.delete_product(product=product, user=product.store.owner)

    response = add(auth_client, product)

    assert response.status_code == 400
    assert response.json()["details"] == {"product_id": ["This product is not on sale."]}


def test_changes_since_adding_are_reported(auth_client: APIClient):
    priced = make_product(name="Priced", price=Decimal("100.00"), stock=5)
    scarce = make_product(name="Scarce", stock=5)
    sold_out = make_product(name="Sold out", stock=5)
    gone = make_product(name="Gone", stock=5)
    for product, quantity in ((priced, 1), (scarce, 4), (sold_out, 1), (gone, 1)):
        add(auth_client, product, quantity=quantity)

    catalog.update_product(product=priced, user=priced.store.owner, data={"price": Decimal("120")})
    stock.set_stock(size=scarce.sizes.get(), on_hand=2, actor=None)
    stock.set_stock(size=sold_out.sizes.get(), on_hand=0, actor=None)
    catalog.delete_product(product=gone, user=gone.store.owner)

    lines = {line["product_name"]: line for line in auth_client.get("/api/cart/").json()["items"]}
    assert lines["Priced"]["changes"] == ["price_changed"]
    assert lines["Priced"]["unit_price"] == "120.00"
    assert lines["Scarce"]["changes"] == ["insufficient_stock"]
    assert lines["Sold out"]["changes"] == ["out_of_stock"]
    assert lines["Gone"]["changes"] == ["product_unavailable"]
    assert lines["Gone"]["available"] == 0


def test_a_running_offer_is_the_cart_price(auth_client: APIClient):
    now = timezone.now()
    product = make_product(
        price=Decimal("100.00"),
        offer={"price": Decimal("70.00"), "starts_at": now - timedelta(hours=1),
               "ends_at": now + timedelta(hours=1)},
    )  # fmt: skip

    cart = add(auth_client, product, quantity=2).json()

    assert cart["total"] == "140.00"


def test_expired_holds_do_not_block_adding(auth_client: APIClient):
    product = make_product(stock=1)
    size = product.sizes.get()
    stock.reserve_stock(
        lines=[stock.StockRequest(size.pk, 1)],
        until=timezone.now() - timedelta(seconds=1),
        reference="expired",
    )

    assert add(auth_client, product).status_code == 201


def test_update_and_remove_lines(auth_client: APIClient):
    product = make_product(stock=5)
    [line] = add(auth_client, product, quantity=1).json()["items"]

    changed = auth_client.put(f"/api/cart/items/{line['id']}/", {"quantity": 4}, format="json")
    too_many = auth_client.put(f"/api/cart/items/{line['id']}/", {"quantity": 6}, format="json")
    removed = auth_client.delete(f"/api/cart/items/{line['id']}/")

    assert changed.json()["item_count"] == 4
    assert too_many.status_code == 409
    assert removed.status_code == 200
    assert removed.json() == {"items": [], "total": "0.00", "currency": None, "item_count": 0}


def test_someone_elses_cart_item_is_404(auth_client: APIClient, make_auth_client):
    from accounts.tests.factories import UserFactory

    product = make_product(stock=5)
    other = make_auth_client(UserFactory())
    [line] = add(other, product).json()["items"]

    assert (
        auth_client.put(
            f"/api/cart/items/{line['id']}/", {"quantity": 2}, format="json"
        ).status_code
        == 404
    )
    assert auth_client.delete(f"/api/cart/items/{line['id']}/").status_code == 404
    assert CartItem.objects.get().quantity == 1


@pytest.mark.parametrize("quantity", [0, -1, 1001, "x", None])
def test_bad_quantities_are_400(auth_client: APIClient, quantity):
    product = make_product(stock=5)

    response = auth_client.post(
        "/api/cart/add/", {"product_id": product.pk, "quantity": quantity}, format="json"
    )

    assert response.status_code == 400


def test_cart_view_query_budget(auth_client: APIClient, django_assert_max_num_queries):
    for n in range(15):
        product = make_product(name=f"P{n}", sizes=[{"name": "S", "stock": 3}])
        add(auth_client, product, product.sizes.get())

    with django_assert_max_num_queries(6):
        response = auth_client.get("/api/cart/")

    assert len(response.json()["items"]) == 15


def test_the_cart_needs_a_signed_in_user(api_client: APIClient):
    assert api_client.get("/api/cart/").status_code == 401


def test_changing_the_quantity_of_a_product_no_longer_on_sale_is_409(auth_client: APIClient):
    product = make_product(stock=5)
    [line] = add(auth_client, product).json()["items"]
    catalog.delete_product(product=product, user=product.store.owner)

    response = auth_client.put(f"/api/cart/items/{line['id']}/", {"quantity": 2}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "product_unavailable"
    assert auth_client.delete(f"/api/cart/items/{line['id']}/").status_code == 200
