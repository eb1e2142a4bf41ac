from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from orders.models import Order
from orders.services import window
from orders.tests.factories import place_checkout
from products.tests.factories import make_product

pytestmark = pytest.mark.django_db


def test_expire_checkouts_command_with_dry_run():
    product = make_product(stock=5)
    place_checkout(None, product)
    out = StringIO()

    with time_machine.travel(timezone.now() + timedelta(minutes=16), tick=False):
        call_command("expire_checkouts", "--dry-run", stdout=out)
        assert Order.objects.get().status == "pending_payment"
        call_command("expire_checkouts", stdout=out)

    assert "1 checkout(s) would expire." in out.getvalue()
    assert "1 checkout(s) expired." in out.getvalue()
    assert Order.objects.get().status == "expired"


def test_admin_actions_go_through_the_services(client):
    admin = User.objects.create_superuser("boss@example.com", password="x-Pass-1234")
    client.force_login(admin)
    product = make_product(stock=5)
    checkout = place_checkout(None, product)
    window.mark_checkout_paid(checkout_id=checkout.pk)
    order = checkout.orders.get()

    client.post(
        "/admin/orders/order/", {"action": "move_to_processing", "_selected_action": [order.pk]}
    )
    refused = client.post(
        "/admin/orders/order/", {"action": "move_to_delivered", "_selected_action": [order.pk]}
    )

    order.refresh_from_db()
    assert order.status == "processing"
    assert refused.status_code == 302
    assert order.events.last().actor == admin
    for url in (
        "/admin/orders/order/",
        f"/admin/orders/order/{order.pk}/change/",
        "/admin/orders/checkout/",
    ):
        assert client.get(url).status_code == 200, url


def test_admin_sweep_action(client):
    client.force_login(User.objects.create_superuser("boss@example.com", password="x-Pass-1234"))
    product = make_product(stock=5)
    checkout = place_checkout(None, product)

    with time_machine.travel(timezone.now() + timedelta(minutes=16), tick=False):
        client.post(
            "/admin/orders/checkout/", {"action": "expire_due", "_selected_action": [checkout.pk]}
        )

    assert Order.objects.get().status == "expired"
