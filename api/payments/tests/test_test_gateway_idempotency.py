"""A declined confirm's Idempotency-Key stays bound to that confirm: the same card again runs
again; another card under the same key is a 422, never taken for the same request."""

import pytest

from orders.tests.factories import place_checkout

pytestmark = pytest.mark.django_db

DECLINED, GOOD = "4000000000000002", "4242424242424242"


def confirm(client, payment_id: int, card: str, key: str = "confirm-1"):
    return client.post(
        "/api/payments/confirm/",
        {"payment_id": payment_id, "card_number": card},
        format="json",
        headers={"Idempotency-Key": key},
    )


def test_another_card_under_a_declined_confirms_key_is_a_422(auth_client, user):
    checkout = place_checkout(user)
    payment = auth_client.post(
        "/api/payments/create/", {"checkout_id": checkout.pk, "gateway": "test"}, format="json"
    ).json()

    declined = confirm(auth_client, payment["id"], DECLINED)
    same_again = confirm(auth_client, payment["id"], DECLINED)
    other_card = confirm(auth_client, payment["id"], GOOD)

    assert declined.status_code == same_again.status_code == 402
    assert other_card.status_code == 422
    assert other_card.json()["code"] == "idempotency_key_reused"
    assert confirm(auth_client, payment["id"], GOOD, key="confirm-2").status_code == 200
