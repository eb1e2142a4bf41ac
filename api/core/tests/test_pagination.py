import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("core.tests.urls")]


def test_list_is_paginated_with_count_next_previous_results(api_client: APIClient):
    UserFactory.create_batch(25)

    body = api_client.get("/t/users/").json()

    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 25
    assert len(body["results"]) == 20
    assert body["previous"] is None
    assert body["next"].endswith("/t/users/?page=2")


def test_page_size_is_honoured_and_capped_at_100(api_client: APIClient):
    UserFactory.create_batch(105)

    assert len(api_client.get("/t/users/?page_size=5").json()["results"]) == 5
    assert len(api_client.get("/t/users/?page_size=1000").json()["results"]) == 100


def test_page_past_the_end_is_404_in_the_error_shape(api_client: APIClient):
    UserFactory.create_batch(3)

    response = api_client.get("/t/users/?page=9")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_list_query_count_does_not_grow_with_page_size(
    api_client: APIClient, django_assert_max_num_queries
):
    UserFactory.create_batch(100)

    for page_size in (1, 20, 100):
        with django_assert_max_num_queries(2):  # count + page
            api_client.get(f"/t/users/?page_size={page_size}")


@pytest.mark.parametrize("query", ["page=", "page=abc", "page=0", "page_size=", "page_size=-3"])
def test_malformed_paging_parameters_are_400(api_client: APIClient, query: str):
    UserFactory.create_batch(3)

    response = api_client.get(f"/t/users/?{query}")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
