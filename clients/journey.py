"""One buyer's journey through the Python client generated from the served OpenAPI document:
register, verify the email with the emailed code, find a product by search (a typo in it),
ask its store about it in chat, add it to the cart, check out, pay with the test card, and see
the order paid. Run by .ci/clients against a live server:

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
from sudamall_api_client.api.chat import (
    chat_conversations_create,
    chat_conversations_list,
    chat_conversations_messages_create,
    chat_conversations_messages_list,
)
from sudamall_api_client.api.newsletter import newsletter_subscribe_create
from sudamall_api_client.api.notifications import (
    notifications_list,
    notifications_preferences_retrieve,
    notifications_preferences_update,
    notifications_read_create,
    notifications_unread_count_retrieve,
)
from sudamall_api_client.api.orders import orders_retrieve
from sudamall_api_client.api.payments import payments_confirm_create, payments_create_create
from sudamall_api_client.api.products import products_list
from sudamall_api_client.api.search import search_products, search_suggest_retrieve
from sudamall_api_client.models import (
    AccountTypeEnum,
    CartAddRequest,
    CheckoutInputRequest,
    ConversationCreateRequest,
    MarkReadRequest,
    MessageCreateRequest,
    NewsletterSubscribeRequest,
    PaymentConfirmRequest,
    PaymentCreateRequest,
    PaymentGatewayEnum,
    PreferenceChangeRequest,
    PreferencesChangeRequest,
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
    # Search as a shopper types: the name with its last letter dropped (a typo, or still typing).
    words = [w for w in re.findall(r"\w+", product.name) if len(w) >= 5]
    typed = words[0][:-1] if words else product.name
    found = search_products.sync(client=anonymous, q=typed, page_size=20)
    assert found.backend == "database", found.backend
    assert product.id in [p.id for p in found.results], (typed, [p.name for p in found.results])
    assert found.facets.store, "no store facet"
    suggested = search_suggest_retrieve.sync(client=anonymous, q=typed[:3], size=5)
    assert suggested.suggestions, typed[:3]

    talk = chat_conversations_create.sync(
        client=buyer,
        body=ConversationCreateRequest(store_id=product.store.id, product_id=product.id,
                                       message="Is this still available?",
                                       client_message_id=uuid.uuid4().hex),
    )  # fmt: skip
    chat_conversations_messages_create.sync(
        client=buyer,
        conversation_id=talk.id,
        body=MessageCreateRequest(body="I can collect it today.", client_message_id="journey-2"),
    )
    history = chat_conversations_messages_list.sync(client=buyer, conversation_id=talk.id)
    inbox = chat_conversations_list.sync(client=buyer)
    assert [m.body for m in history.results] == [
        "I can collect it today.",
        "Is this still available?",
    ]
    assert inbox.results[0].product.id == product.id

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

    # The notification centre: the order and the payment, in the buyer's language (Arabic).
    centre = notifications_list.sync(client=buyer)
    kinds = [n.kind for n in centre.results]
    assert {"order_placed", "payment_succeeded"} <= set(kinds), kinds
    assert any("تم" in n.title for n in centre.results), [n.title for n in centre.results]
    assert notifications_unread_count_retrieve.sync(client=buyer).unread_count >= 2
    read = notifications_read_create.sync(client=buyer, body=MarkReadRequest(all_=True))
    assert read.unread_count == 0, read
    quieter = notifications_preferences_update.sync(
        client=buyer,
        body=PreferencesChangeRequest(
            preferences=[PreferenceChangeRequest(kind="chat_unread", email=False)]
        ),
    )
    chat = next(p for p in quieter.preferences if p.kind == "chat_unread")
    assert (chat.email, chat.in_app) == (False, True), chat
    locked = next(
        p for p in notifications_preferences_retrieve.sync(client=buyer).preferences
        if p.kind == "order_status"
    )  # fmt: skip
    assert locked.mandatory, locked
    newsletter_subscribe_create.sync(client=buyer, body=NewsletterSubscribeRequest())
    print(f"journey: {email} bought {product.name!r} — order {order.number} {order.status}, "
          f"{order.total} {order.currency}")  # fmt: skip


if __name__ == "__main__":
    main(*sys.argv[1:3])
