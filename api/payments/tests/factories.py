"""Payments made through the services."""

from accounts.models import User
from orders.tests.factories import place_checkout
from payments.models import Payment
from payments.services import create
from products.models import Product


def open_payment(
    buyer: User, *products: Product, quantity: int = 1, gateway: str = "test"
) -> Payment:
    """A new checkout and its payment, not yet confirmed."""
    checkout = place_checkout(buyer, *products, quantity=quantity)
    return create.create_payment(payer=buyer, checkout_id=checkout.pk, gateway=gateway)
