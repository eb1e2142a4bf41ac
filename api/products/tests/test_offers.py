"""Lists order and filter by a stored listed price that follows offers' starts and ends: each
write sets it, a flip scheduled for the boundary's second (and the minute sweep) moves it."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from products.models import Product
from products.services import catalog, offers
from products.tasks import flip_offer_prices_task
from products.tests.factories import make_product

pytestmark = pytest.mark.django_db


def _by_price(client: APIClient, **params: str) -> list[str]:
    response = client.get("/api/products/", {"ordering": "price", **params})
    return [(p["name"], p["current_price"]) for p in response.json()["results"]]


@pytest.fixture
def scheduled(monkeypatch) -> list:
    """The flips asked of the broker, by their moment (instead of running them eagerly)."""
    moments: list = []
    monkeypatch.setattr(
        flip_offer_prices_task, "apply_async", lambda **kw: moments.append(kw["eta"])
    )
    return moments


def test_an_offer_reorders_the_price_list_at_its_start_and_end(api_client: APIClient):
    starts = timezone.now() + timedelta(hours=2)
    make_product(name="Kettle", price=Decimal("30.00"))
    lamp = make_product(
        name="Lamp",
        price=Decimal("50.00"),
        offer={"price": Decimal("20.00"), "starts_at": starts,
               "ends_at": starts + timedelta(hours=1)},
    )  # fmt: skip
    assert _by_price(api_client) == [("Kettle", "30.00"), ("Lamp", "50.00")]

    with time_machine.travel(starts + timedelta(seconds=1)):
        flip_offer_prices_task()
        assert _by_price(api_client) == [("Lamp", "20.00"), ("Kettle", "30.00")]
        assert _by_price(api_client, max_price="25") == [("Lamp", "20.00")]
    with time_machine.travel(starts + timedelta(hours=1, seconds=1)):
        flip_offer_prices_task()
        assert _by_price(api_client) == [("Kettle", "30.00"), ("Lamp", "50.00")]
        assert _by_price(api_client, min_price="40") == [("Lamp", "50.00")]
    lamp.refresh_from_db()
    assert lamp.listed_price == Decimal("50.00")


def test_a_write_lists_the_price_its_offer_gives_now(api_client: APIClient):
    now = timezone.now()
    product = make_product(name="Lamp", price=Decimal("50.00"))
    running = {"price": Decimal("45.00"), "starts_at": now - timedelta(hours=1),
               "ends_at": now + timedelta(hours=1)}  # fmt: skip

    catalog.update_product(product=product, user=product.store.owner, data={"offer": running})
    assert Product.objects.get(pk=product.pk).listed_price == Decimal("45.00")
    catalog.update_product(product=product, user=product.store.owner, data={"offer": None})
    assert Product.objects.get(pk=product.pk).listed_price == Decimal("50.00")


def test_a_write_schedules_a_flip_for_a_boundary_in_the_coming_minute(
    scheduled, django_capture_on_commit_callbacks
):
    starts = timezone.now() + timedelta(seconds=40)
    with django_capture_on_commit_callbacks(execute=True):
        make_product(
            name="Lamp",
            price=Decimal("50.00"),
            offer={"price": Decimal("20.00"), "starts_at": starts,
                   "ends_at": starts + timedelta(days=1)},
        )  # fmt: skip

    assert scheduled == [starts]  # the end is a day off: a later sweep schedules it


def test_the_sweep_schedules_the_coming_boundaries_and_repairs_missed_ones(
    scheduled, django_capture_on_commit_callbacks
):
    now = timezone.now()
    soon = now + timedelta(seconds=75)
    make_product(
        name="Soon",
        price=Decimal("50.00"),
        offer={"price": Decimal("20.00"), "starts_at": soon, "ends_at": soon + timedelta(days=1)},
    )
    missed = make_product(name="Missed", price=Decimal("50.00"))
    # An offer that started while no flip ran (written behind the services, a broker outage).
    Product.objects.filter(pk=missed.pk).update(
        offer_price=Decimal("10.00"),
        offer_starts_at=now - timedelta(minutes=5),
        offer_ends_at=now + timedelta(days=1),
    )

    with time_machine.travel(now), django_capture_on_commit_callbacks(execute=True):
        flip_offer_prices_task(sweep=True)

    assert scheduled == [soon]
    assert Product.objects.get(pk=missed.pk).listed_price == Decimal("10.00")
    assert offers.flip_due() == 0  # nothing else the clock has made wrong
