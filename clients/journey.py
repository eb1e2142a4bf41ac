"""One buyer's journey through the Python client generated from the served OpenAPI document:
register, verify the email with the emailed code, add the first product to the cart, check out,
pay with the test card, and see the order paid. Run by .ci/clients against a live server:

    python journey.py <base URL> <folder of the file email backend>
"""

import re
import sys
import time
import uuid
from pathlib import Path

from sudamall_api_client import AuthenticatedClient, Client
from sudamall_api_client.api.auth import auth_register_create, auth_verify_email_create
from sudamall_api_client.api.cart import cart_add_create, cart_checkout_create
from sudamall_api_client.api.orders import orders_retrieve
from sudamall_api_client.api.payments import payments_confirm_create, payments_create_create
from sudamall_api_client.api.products import products_list
from sudamall_api_client.models import (
    AccountTypeEnum,
    CartAddRequest,
    CheckoutInputRequest,
    PaymentConfirmRequest,
    PaymentCreateRequest,
    PaymentGatewayEnum,
    RegisterRequest,
    ShippingAddressRequest,
    VerifyEmailRequest,
)
from sudamall_api_client.models.products_list_ordering import ProductsListOrdering


def code_sent_to(email: str, folder: Path, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in sorted(folder.glob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True):
            text = message.read_text(errors="replace")
            if email in text and (match := re.search(r"\b(\d{6})\b", text)):
                return match.group(1)
        time.sleep(0.2)
    raise SystemExit(f"no code emailed to {email}")


def main(base_url: str, email_folder: str) -> None:
    anonymous = Client(base_url=base_url, raise_on_unexpected_status=True)
    email = f"journey-{uuid.uuid4().hex[:8]}@example.com"

    registered = auth_register_create.sync(
        client=anonymous,
        body=RegisterRequest(email=email, password="Nile-river-2026!", first_name="Amna",
                             last_name="Osman", account_type=AccountTypeEnum.BUYER),
    )  # fmt: skip
    assert registered is not None, "registration answered nothing"
    assert not registered.user.is_email_verified
    session = auth_verify_email_create.sync(
        client=anonymous,
        body=VerifyEmailRequest(email=email, code=code_sent_to(email, Path(email_folder))),
    )
    buyer = AuthenticatedClient(base_url=base_url, token=session.access,
                                raise_on_unexpected_status=True)  # fmt: skip

    page = products_list.sync(
        client=anonymous, ordering=ProductsListOrdering.CREATED_AT, page_size=50
    )
    product = next(
        p
        for p in page.results
        if len(p.sizes) == 1 and not p.sizes[0].name and p.availability != "out_of_stock"
    )
    cart = cart_add_create.sync(
        client=buyer, body=CartAddRequest(product_id=product.id, quantity=1)
    )
    assert cart.item_count == 1, cart
    checkout = cart_checkout_create.sync(
        client=buyer,
        body=CheckoutInputRequest(
            shipping_address=ShippingAddressRequest(full_name="Amna Osman", phone="+249912345678",
                                                    line1="Street 15", city="Khartoum",
                                                    country="Sudan")
        ),
    )  # fmt: skip
    payment = payments_create_create.sync(
        client=buyer,
        body=PaymentCreateRequest(checkout_id=checkout.id, gateway=PaymentGatewayEnum.TEST),
    )
    paid = payments_confirm_create.sync(
        client=buyer,
        body=PaymentConfirmRequest(payment_id=payment.id, card_number="4242424242424242"),
    )
    order = orders_retrieve.sync(client=buyer, order_id=checkout.orders[0].id)

    assert paid.status == "succeeded", paid
    assert order.status == "paid", order
    print(f"journey: {email} bought {product.name!r} — order {order.number} {order.status}, "
          f"{order.total} {order.currency}")  # fmt: skip


if __name__ == "__main__":
    main(*sys.argv[1:3])
