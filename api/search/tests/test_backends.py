"""The search port: the backend behind ``?search=`` is the one SEARCH_BACKEND names."""

import pytest
from django.db.models import QuerySet
from rest_framework.test import APIClient

from products.tests.factories import make_product
from search.backends import get_backend
from search.backends.base import SearchBackend
from search.backends.database import DatabaseSearchBackend
from search.checks import check_search_backend

pytestmark = pytest.mark.django_db


class OnlyTheFirstBackend(SearchBackend):
    """A stand-in that answers every query with the lowest id, and remembers what it was asked."""

    name = "first"
    asked: list[tuple[str, tuple[str, ...]]] = []

    def filter(self, queryset: QuerySet, *, query: str, fields) -> QuerySet:  # type: ignore[override]
        self.asked.append((query, tuple(fields)))
        return queryset.filter(pk=queryset.order_by("pk").values("pk")[:1])


def test_the_default_backend_is_the_database_substring_match(api_client: APIClient):
    make_product(name="Cotton jalabiya", description="white")
    make_product(name="Leather sandals", description="brown, hand-stitched")

    names = {p["name"] for p in api_client.get("/api/products/?search=STITCH").json()["results"]}

    assert isinstance(get_backend(), DatabaseSearchBackend)
    assert names == {"Leather sandals"}


def test_search_goes_through_the_configured_backend(api_client: APIClient, settings):
    settings.SEARCH_BACKEND = f"{__name__}.OnlyTheFirstBackend"
    first = make_product(name="Cotton jalabiya")
    make_product(name="Leather sandals")

    results = api_client.get("/api/products/?search=sandals").json()["results"]

    assert [p["id"] for p in results] == [first.pk]
    assert OnlyTheFirstBackend.asked[-1] == ("sandals", ("name", "description"))


@pytest.mark.parametrize("path", ["search.backends.nowhere.Backend", "products.models.Product"])
def test_a_backend_that_does_not_load_fails_the_system_check(settings, path):
    settings.SEARCH_BACKEND = path

    assert [error.id for error in check_search_backend()] == ["search.E001"]
