"""Hoarding limits: one account can no longer take a product's whole stock off sale with unpaid
checkouts, go past a store's per-buyer cap on a drop, or take stock by cash on delivery on a
brand-new account. Each refusal is a 409 with its code and changes nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from orders.models import Checkout
from orders.tests.factories import SHIPPING_ADDRESS, paid_checkout
from products.models import Size
from products.tests.factories import make_product

pytestmark = pytest.mark.django_db


def buy(client: APIClient, *lines: tuple, expect: int | None = 201):
    answer = client.post(
        "/api/orders/",
        {"items": [{"product_id": p.pk, "quantity": q} for p, q in lines],
         "shipping_address": SHIPPING_ADDRESS},
        format="json",
    )  # fmt: skip
    if expect is not None:
        assert answer.status_code == expect, answer.content
    return answer


def reserved(product) -> int:
    return Size.objects.get(product=product).reserved


def test_units_held_unpaid_are_limited_per_buyer(settings, auth_client):
    settings.HOLD_MAX_UNITS = 5
    drop = make_product(stock=3000)
    buy(auth_client, (drop, 4))

    refused = buy(auth_client, (drop, 2), expect=409)

    assert refused.json()["code"] == "hold_limit_reached"
    assert refused.json()["details"] == {"held": 4, "requested": 2, "limit": 5}
    assert reserved(drop) == 4  # nothing more held
    buy(auth_client, (drop, 1))  # up to the limit is fine


def test_open_checkouts_are_limited_per_buyer_and_free_up_when_one_ends(settings, auth_client):
    settings.HOLD_MAX_OPEN_CHECKOUTS = 2
    kettle = make_product(stock=10)
    first = buy(auth_client, (kettle, 1)).json()
    buy(auth_client, (kettle, 1))

    refused = buy(auth_client, (kettle, 1), expect=409)
    assert refused.json()["code"] == "too_many_open_checkouts"
    assert Checkout.objects.count() == 2

    order_id = first["orders"][0]["id"]
    cancelled = auth_client.put(f"/api/orders/{order_id}/status/", {"status": "cancelled"},
                                format="json")  # fmt: skip
    assert cancelled.status_code == 200
    buy(auth_client, (kettle, 1))


def test_expired_checkouts_hold_nothing(settings, auth_client):
    settings.HOLD_MAX_UNITS = 2
    kettle = make_product(stock=10)
    buy(auth_client, (kettle, 2))
    Checkout.objects.update(payment_deadline=timezone.now() - timedelta(seconds=1))

    buy(auth_client, (kettle, 2))  # the sweep hasn't run yet; the deadline has passed anyway


def test_a_store_caps_a_drop_per_buyer(auth_client, make_auth_client, user):
    from accounts.tests.factories import UserFactory

    drop = make_product(name="Limited sneakers", stock=100)
    owner = make_auth_client(drop.store.owner)
    capped = owner.patch(f"/api/products/{drop.pk}/", {"max_per_buyer": 2}, format="json")
    assert capped.status_code == 200
    assert capped.json()["max_per_buyer"] == 2
    history = owner.get(f"/api/products/{drop.pk}/history/").json()["results"][0]
    assert {"field": "max_per_buyer", "old": None, "new": 2} in history["changes"]

    buy(auth_client, (drop, 1))
    paid_checkout(user, drop)  # bought and paid: counts too
    refused = buy(auth_client, (drop, 1), expect=409)

    assert refused.json()["code"] == "purchase_limit_reached"
    assert refused.json()["details"]["products"] == [
        {"product_id": drop.pk, "limit": 2, "bought": 2, "requested": 1}
    ]
    buy(make_auth_client(UserFactory()), (drop, 2))  # another buyer has their own two
    assert reserved(drop) == 3


def pay_cash(client: APIClient, checkout_id: int):
    return client.post(
        "/api/payments/create/",
        {"checkout_id": checkout_id, "gateway": "cash_on_delivery"},
        format="json",
    )


def test_a_new_account_takes_only_so_much_by_cash_on_delivery(settings, auth_client, user):
    settings.COD_NEW_ACCOUNT_MAX_UNITS = 10
    bulk = make_product(stock=1000)
    checkout = buy(auth_client, (bulk, 11)).json()

    refused = pay_cash(auth_client, checkout["id"])

    assert refused.status_code == 409
    assert refused.json()["code"] == "cash_on_delivery_limit"
    assert refused.json()["details"]["reason"] == "new_account"
    assert Checkout.objects.get().status == Checkout.Status.PENDING_PAYMENT  # pay online instead
    online = auth_client.post(
        "/api/payments/create/", {"checkout_id": checkout["id"], "gateway": "test"}, format="json"
    )
    assert online.status_code == 201

    user.date_joined = timezone.now() - timedelta(days=settings.COD_NEW_ACCOUNT_DAYS + 1)
    user.save(update_fields=["date_joined"])
    again = buy(auth_client, (bulk, 11)).json()
    assert pay_cash(auth_client, again["id"]).status_code == 201


def test_uncollected_cash_payments_are_limited(settings, auth_client):
    settings.COD_MAX_OPEN = 2
    kettle = make_product(stock=10)
    for _ in range(2):
        assert pay_cash(auth_client, buy(auth_client, (kettle, 1)).json()["id"]).status_code == 201

    refused = pay_cash(auth_client, buy(auth_client, (kettle, 1)).json()["id"])

    assert refused.status_code == 409
    assert refused.json()["details"] == {"reason": "open_payments", "open": 2, "limit": 2}


@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True)
def test_a_buyers_concurrent_checkouts_count_each_others_holds(settings):
    from accounts.tests.factories import UserFactory
    from core.tests.concurrency import race
    from orders.limits import TooManyOpenCheckouts
    from orders.tests.factories import place_checkout

    settings.HOLD_MAX_OPEN_CHECKOUTS = 3
    buyer, kettle = UserFactory(), make_product(stock=100)

    results = race(8, lambda _: place_checkout(buyer, kettle))

    placed = [r for r in results if isinstance(r, Checkout)]
    refused = [r for r in results if isinstance(r, TooManyOpenCheckouts)]
    assert (len(placed), len(refused)) == (3, 5), results
    assert reserved(kettle) == 3
