"""The search API as clients call it: /api/search/products/, /api/products/?search=, suggest,
clicks and staff analytics — shapes, bad input, budgets, privacy of the query log."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from products.tests.factories import make_category
from search.models import SearchClick, SearchQuery
from search.tests.catalogue import drain, product
from stores.tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue():
    shoes = make_category("أحذية")
    store = StoreFactory(name="متجر النيل")
    made = {
        "sandals": product(store=store, name="صندل جلد", category=shoes.slug, tags=["local"]),
        "boots": product(store=store, name="Desert boots", sizes=[{"name": "42", "stock": 1}]),
        "galaxy": product(name="Samsung Galaxy S24", price=Decimal("900")),
    }
    drain()
    return made


def test_search_answers_products_facets_backend_and_a_query_id(api_client: APIClient, catalogue):
    answer = api_client.get("/api/search/products/", {"q": "galaxi"})

    assert answer.status_code == 200
    body = answer.json()
    assert [p["id"] for p in body["results"]] == [catalogue["galaxy"].pk]
    assert body["results"][0]["current_price"] == "900.00"
    assert body["count"] == 1
    assert body["next"] is None
    assert body["backend"] == "database"
    assert body["facets"]["price"][4] == {"from": "500.00", "to": "1000.00", "count": 1}
    logged = SearchQuery.objects.get(pk=body["query_id"])
    assert (logged.text, logged.results, logged.backend) == ("galaxi", 1, "database")


def test_arabic_search_with_filters_and_pages(api_client: APIClient, catalogue):
    shoes_slug = catalogue["sandals"].category.slug
    first = api_client.get(
        "/api/search/products/", {"q": "صندل", "category": shoes_slug, "page_size": 1}
    ).json()

    assert [p["id"] for p in first["results"]] == [catalogue["sandals"].pk]
    assert first["facets"]["category"] == [
        {"value": shoes_slug, "label": "أحذية", "count": 1, "parent": None}
    ]
    assert first["facets"]["store"][0]["label"] == "متجر النيل"


def test_browsing_without_words_is_newest_first_and_not_logged(api_client: APIClient, catalogue):
    body = api_client.get("/api/search/products/").json()

    assert [p["id"] for p in body["results"]] == [
        catalogue["galaxy"].pk,
        catalogue["boots"].pk,
        catalogue["sandals"].pk,
    ]
    assert body["query_id"] is None
    assert SearchQuery.objects.count() == 0


def test_the_product_list_search_uses_the_same_engine(api_client: APIClient, catalogue):
    body = api_client.get("/api/products/", {"search": "samsng"}).json()

    assert [p["id"] for p in body["results"]] == [catalogue["galaxy"].pk]
    assert set(body) == {"count", "next", "previous", "results"}
    store = catalogue["boots"].store_id
    in_store = api_client.get(f"/api/stores/{store}/products/", {"search": "boot"}).json()
    assert [p["id"] for p in in_store["results"]] == [catalogue["boots"].pk]
    elsewhere = api_client.get(f"/api/stores/{store}/products/", {"search": "galaxy"}).json()
    assert elsewhere["count"] == 0


def test_pages_are_linked_and_past_the_end_is_404(api_client: APIClient):
    for n in range(5):
        product(name=f"Tea glass {n}")
    drain()

    page = api_client.get("/api/search/products/", {"q": "tea", "page_size": 2, "page": 2}).json()
    last = api_client.get("/api/search/products/", {"q": "tea", "page_size": 2, "page": "last"})
    beyond = api_client.get("/api/search/products/", {"q": "tea", "page_size": 2, "page": 4})

    assert page["count"] == 5
    assert len(page["results"]) == 2
    assert "page=3" in page["next"]
    assert "page_size=2" in page["previous"]
    assert last.status_code == 200, last.json()
    assert [p["name"] for p in last.json()["results"]] == ["Tea glass 4"]
    assert beyond.status_code == 404
    assert beyond.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": "x" * 101}, "q"),
        ({"q": "tea", "ordering": "random"}, "ordering"),
        ({"q": "tea", "min_price": "cheap"}, "min_price"),
        ({"q": "tea", "in_stock": "maybe"}, "in_stock"),
        ({"q": "tea", "store": "0"}, "store"),
        ({"q": "tea", "page_size": "0"}, "page_size"),
    ],
)
def test_bad_input_is_a_400_naming_the_parameter(api_client: APIClient, params, field):
    answer = api_client.get("/api/search/products/", params)

    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid"
    assert field in answer.json()["details"]
    assert SearchQuery.objects.count() == 0


@pytest.mark.parametrize("odd", ["C++", "a-b", '"', "*", "(", "%", "\\", "ـــ", "٣"])
def test_text_that_looks_like_syntax_is_a_200(api_client: APIClient, catalogue, odd):
    assert api_client.get("/api/search/products/", {"q": odd}).status_code == 200
    assert api_client.get("/api/search/suggest/", {"q": odd}).status_code == 200


def test_a_search_page_costs_a_fixed_number_of_queries(
    api_client: APIClient, django_assert_max_num_queries
):
    for n in range(30):
        product(
            name=f"Cotton jalabiya {n}", tags=["eid", f"t{n}"], sizes=[{"name": "M", "stock": 1}]
        )
    drain()

    with django_assert_max_num_queries(17):
        body = api_client.get("/api/search/products/", {"q": "jalabiya", "page_size": 30}).json()
    with django_assert_max_num_queries(17):
        api_client.get("/api/search/products/", {"q": "jalabia", "tag": "eid", "size": "m"})

    assert len(body["results"]) == 30


# --- suggestions, clicks, analytics ------------------------------------------------------------


def test_suggest(api_client: APIClient, catalogue):
    body = api_client.get("/api/search/suggest/", {"q": "صن", "size": 5}).json()

    assert body == {
        "suggestions": [{"text": "صندل جلد", "kind": "product", "id": str(catalogue["sandals"].pk)}]
    }


@pytest.mark.parametrize(
    "params", [{}, {"q": "a", "size": 0}, {"q": "a", "size": 16}, {"q": "a", "size": "x"}]
)
def test_suggest_refuses_bad_input(api_client: APIClient, params):
    answer = api_client.get("/api/search/suggest/", params)

    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid"


def test_a_click_is_recorded_once_per_result(api_client: APIClient, catalogue):
    query_id = api_client.get("/api/search/products/", {"q": "boots"}).json()["query_id"]
    click = {"query_id": query_id, "product_id": catalogue["boots"].pk, "position": 1}

    assert api_client.post("/api/search/clicks/", click).status_code == 204
    assert api_client.post("/api/search/clicks/", click).status_code == 204
    assert SearchClick.objects.filter(query_id=query_id).count() == 1


@pytest.mark.parametrize(
    ("click", "field"),
    [
        (
            {"query_id": "00000000-0000-0000-0000-000000000000", "product_id": 1, "position": 1},
            "query_id",
        ),
        ({"query_id": "nope", "product_id": 1, "position": 1}, "query_id"),
        ({"product_id": 1, "position": 1}, "query_id"),
        (
            {"query_id": "00000000-0000-0000-0000-000000000000", "product_id": 1, "position": 0},
            "position",
        ),
    ],
)
def test_a_bad_click_is_a_400(api_client: APIClient, click, field):
    answer = api_client.post("/api/search/clicks/", click, format="json")

    assert answer.status_code == 400
    assert field in answer.json()["details"]
    assert SearchClick.objects.count() == 0


def test_analytics_for_staff(
    api_client: APIClient, staff_client: APIClient, auth_client, catalogue
):
    for q in ["Boots", "boots ", "galaxy", "nothing here"]:
        api_client.get("/api/search/products/", {"q": q})
    clicked = SearchQuery.objects.filter(text="boots").first()
    SearchClick.objects.create(query=clicked, product_id=catalogue["boots"].pk, position=1)

    report = staff_client.get("/api/search/analytics/").json()

    assert report["top_queries"][0] == {"text": "boots", "searches": 2, "clicks": 1}
    assert report["zero_result_queries"] == [{"text": "nothing here", "searches": 1, "clicks": 0}]
    assert report["click_through_rate"] == 0.25
    assert [(d["searches"], d["zero_results"], d["clicks"]) for d in report["by_day"]] == [
        (4, 1, 1)
    ]
    assert auth_client.get("/api/search/analytics/").status_code == 403
    assert APIClient().get("/api/search/analytics/").status_code == 401
    assert (
        staff_client.get(
            "/api/search/analytics/", {"from": "2026-02-01", "to": "2026-01-01"}
        ).status_code
        == 400
    )


def test_the_query_log_holds_nothing_about_who_searched(auth_client: APIClient, user, catalogue):
    auth_client.get("/api/search/products/", {"q": f"boots {user.email}"})

    row = SearchQuery.objects.values().get()
    assert set(row) == {"id", "text", "results", "backend", "latency_ms", "created_at"}


@pytest.mark.parametrize(
    "params",
    [{"to": "9999-12-31"}, {"to": "0001-01-05"}, {"from": "9999-12-31", "to": "9999-12-31"}],
)
def test_analytics_dates_out_of_range_are_a_400(staff_client: APIClient, params):
    answer = staff_client.get("/api/search/analytics/", params)

    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid"


def test_the_last_page_is_one_search_in_the_log(api_client: APIClient):
    for n in range(3):
        product(name=f"Tea glass {n}")
    drain()

    api_client.get("/api/search/products/", {"q": "tea", "page_size": 2, "page": "last"})
    api_client.get("/api/products/", {"search": "tea", "page_size": 2, "page": "last"})

    assert SearchQuery.objects.count() == 2


def test_a_renamed_tag_is_searchable_by_its_new_name(api_client: APIClient):
    from products.models import Tag
    from products.services import catalog

    item = product(name="Karkade", tags=["local"])
    drain()
    tag = Tag.objects.get(name="local")
    tag.name = "handmade"
    catalog.update_tag(tag=tag)
    drain()

    found = api_client.get("/api/search/products/", {"q": "handmade"}).json()["results"]
    assert [p["id"] for p in found] == [item.pk]
