"""The search port: every search — the search page, ``?search=`` and suggestions — goes through
the backend SEARCH_BACKEND names."""

import pytest
from rest_framework.test import APIClient

from search.backends import get_backend
from search.backends.base import SearchBackend, Suggestion
from search.backends.database import DatabaseSearchBackend
from search.checks import check_search_backend
from search.query import SearchRequest, SearchResult
from search.tests.catalogue import drain, product

pytestmark = pytest.mark.django_db


class OnlyTheFirstBackend(SearchBackend):
    """A stand-in that answers every query with the lowest id, and remembers what it was asked."""

    name = "first"
    asked: list[str] = []

    def search(self, request: SearchRequest) -> SearchResult:
        from search.models import SearchDocument

        self.asked.append(request.text)
        first = SearchDocument.objects.order_by("pk").values_list("pk", flat=True)[:1]
        facets = {name: [] for name in ("category", "store", "size", "tag", "price")}
        flags = {name: {"true": 0, "false": 0} for name in ("in_stock", "has_offer")}
        return SearchResult(
            ids=list(first), count=len(first), backend=self.name, facets={**facets, **flags}
        )

    def suggest(self, text: str, *, size: int) -> list[Suggestion]:
        self.asked.append(text)
        return [Suggestion(text="first", kind="query", id=None)]


def test_the_default_backend_is_the_database_index(api_client: APIClient):
    product(name="Cotton jalabiya", description="white")
    product(name="Leather sandals", description="brown, hand-stitched")
    drain()

    names = {p["name"] for p in api_client.get("/api/products/?search=STITCHED").json()["results"]}

    assert isinstance(get_backend(), DatabaseSearchBackend)
    assert names == {"Leather sandals"}


def test_search_goes_through_the_configured_backend(api_client: APIClient, settings):
    settings.SEARCH_BACKEND = f"{__name__}.OnlyTheFirstBackend"
    first = product(name="Cotton jalabiya")
    product(name="Leather sandals")
    drain()

    listed = api_client.get("/api/products/?search=sandals").json()["results"]
    searched = api_client.get("/api/search/products/?q=sandals").json()
    suggested = api_client.get("/api/search/suggest/?q=san").json()

    assert [p["id"] for p in listed] == [first.pk]
    assert [p["id"] for p in searched["results"]] == [first.pk]
    assert searched["backend"] == "first"
    assert suggested == {"suggestions": [{"text": "first", "kind": "query", "id": None}]}
    assert OnlyTheFirstBackend.asked[-3:] == ["sandals", "sandals", "san"]


@pytest.mark.parametrize("path", ["search.backends.nowhere.Backend", "products.models.Product"])
def test_a_backend_that_does_not_load_fails_the_system_check(settings, path):
    settings.SEARCH_BACKEND = path

    assert [error.id for error in check_search_backend()] == ["search.E001"]
