"""Checkouts and orders made through the services, as a buyer would make them."""

from typing import Any

from accounts.models import User
from accounts.tests.factories import UserFactory
from orders.models import Checkout
from orders.services import checkout as checkout_services
from orders.services import window
from products.models import Product
from products.tests.factories import make_product

# The one test shipping address (the root conftest's ``shipping_address`` fixture hands it out).
SHIPPING_ADDRESS: dict[str, Any] = {
    "full_name": "Amna Osman",
    "phone": "+249912345678",
    "line1": "Street 15",
    "city": "Khartoum",
    "country": "Sudan",
}


def place_checkout(buyer: User | None = None, *products: Product, quantity: int = 1) -> Checkout:
    """A checkout holding ``quantity`` of each product (one order per store); a new buyer and a
    product with 5 in stock when none are given."""
    return checkout_services.place_checkout(
        buyer=buyer or UserFactory(),
        lines=[
            checkout_services.LineRequest(p.pk, None, quantity)
            for p in products or (make_product(stock=5),)
        ],
        shipping_address=SHIPPING_ADDRESS,
    )


def paid_checkout(buyer: User | None = None, *products: Product, quantity: int = 1) -> Checkout:
    """A checkout whose payment succeeded: stock sold, orders ``paid``."""
    checkout = place_checkout(buyer, *products, quantity=quantity)
    return window.mark_checkout_paid(checkout_id=checkout.pk)
