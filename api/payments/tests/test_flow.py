import pytest
from django.core import mail
from rest_framework.test import APIClient

from orders.models import Checkout, Order
from payments.tests.helpers import confirm, create, place
from products.models import Size
from products.tests.factories import make_product

pytestmark = pytest.mark.django_db(transaction=True)


def test_pay_a_checkout_with_the_test_card_end_to_end(auth_client: APIClient, user):
    product = make_product(stock=5)
    checkout = place(user, product, quantity=2)

    created = create(auth_client, checkout)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "pending"
    assert body["amount"] == "200.00"
    assert body["currency"] == checkout.currency
    assert body["gateway"] == "test"
    assert body["expires_at"] is not None

    paid = confirm(auth_client, body["id"])
    assert paid.status_code == 200, paid.content
    assert paid.json()["status"] == "succeeded"

    size = Size.objects.get(product=product)
    assert (size.on_hand, size.reserved) == (3, 0)
    assert Order.objects.get(checkout=checkout).status == "paid"
    assert Checkout.objects.get(pk=checkout.pk).status == "paid"
    assert any("Payment received" in m.subject for m in mail.outbox)
