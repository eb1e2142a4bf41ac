"""Paying with PayPal over HTTP, against the real database and a local PayPal (paypal_fake):
the order, the buyer's approval, the capture, refunds, the access token and signed webhooks."""

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core import mail
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.models import User
from orders.models import Checkout, Order
from orders.tests.factories import place_checkout
from payments.gateways import paypal as paypal_gateway
from payments.models import Payment, PaymentAttempt, Refund, WebhookEvent
from payments.tests.helpers import create, stock
from payments.tests.paypal_fake import (
    API_BASE,
    CERT_URL,
    CLIENT_ID,
    CLIENT_SECRET,
    WEBHOOK_ID,
    FakePayPal,
    paypal_time,
)
from products.models import Product
from products.tests.factories import make_product

pytestmark = pytest.mark.django_db(transaction=True)

WEBHOOK_URL = "/api/payments/webhook/paypal/"
RETURN_URL = "https://sudamall.example.com/checkout/paypal/return"
CANCEL_URL = "https://sudamall.example.com/checkout/paypal/cancel"


@pytest.fixture
def paypal(settings: Any, monkeypatch: pytest.MonkeyPatch) -> FakePayPal:
    """PayPal's sandbox, served locally through the gateway's HTTP client."""
    settings.PAYPAL_CLIENT_ID = CLIENT_ID
    settings.PAYPAL_CLIENT_SECRET = CLIENT_SECRET
    settings.PAYPAL_WEBHOOK_ID = WEBHOOK_ID
    settings.PAYPAL_API_BASE = API_BASE
    settings.PAYPAL_RETURN_URL = RETURN_URL
    settings.PAYPAL_CANCEL_URL = CANCEL_URL
    fake = FakePayPal()
    monkeypatch.setattr(paypal_gateway, "http_client", fake.client)
    return fake


def product_in(currency: str = "USD", stock: int = 5) -> Product:
    """PayPal doesn't take the store's default currency (SDG): a product priced in another."""
    product = make_product(stock=stock)
    Product.objects.filter(pk=product.pk).update(currency=currency)
    return product


def confirm(client: APIClient, payment_id: int) -> Any:
    return client.post("/api/payments/confirm/", {"payment_id": payment_id}, format="json")


def open_paypal_payment(
    client: APIClient, buyer: User, paypal: FakePayPal, currency: str = "USD"
) -> tuple[Product, Checkout, Payment]:
    """Two units of a 100.00 product, checked out and opened as a PayPal payment."""
    product = product_in(currency)
    checkout = place_checkout(buyer, product, quantity=2)
    created = create(client, checkout, "paypal")
    assert created.status_code == 201, created.content
    return product, checkout, Payment.objects.get(pk=created.json()["id"])


def pay(client: APIClient, buyer: User, paypal: FakePayPal) -> tuple[Product, Checkout, Payment]:
    product, checkout, payment = open_paypal_payment(client, buyer, paypal)
    paypal.approve(payment.provider_reference)
    paid = confirm(client, payment.pk)
    assert paid.status_code == 200, paid.content
    assert paid.json()["status"] == "succeeded"
    payment.refresh_from_db()
    return product, checkout, payment


def deliver(
    client: APIClient,
    paypal: FakePayPal,
    event: dict[str, Any],
    *,
    body: bytes | None = None,
    webhook_id: str = WEBHOOK_ID,
    **signing: Any,
) -> Any:
    """POST ``event`` to the PayPal webhook as PayPal delivers it, signed over its raw bytes.
    ``body`` sends other bytes under that signature."""
    raw = json.dumps(event).encode()
    headers = paypal.sign(raw, webhook_id=webhook_id, **signing)
    return client.generic(
        "POST",
        WEBHOOK_URL,
        raw if body is None else body,
        content_type="application/json",
        headers=headers,
    )


def assert_paid(product: Product, checkout: Checkout) -> None:
    assert stock(product) == (3, 0)
    assert Checkout.objects.get(pk=checkout.pk).status == "paid"
    assert Order.objects.get(checkout=checkout).status == "paid"


def assert_unpaid(product: Product, checkout: Checkout) -> None:
    assert stock(product) == (5, 2)  # still held for the window, not sold
    assert Checkout.objects.get(pk=checkout.pk).status == "pending_payment"
    assert Order.objects.get(checkout=checkout).status == "pending_payment"


# --- create -----------------------------------------------------------------------------------


def test_create_opens_a_paypal_order_for_the_checkout_amount_and_returns_its_approval_url(
    auth_client: APIClient, user: User, paypal: FakePayPal
):
    product = product_in("USD")
    checkout = place_checkout(user, product, quantity=2)

    created = create(auth_client, checkout, "paypal")

    assert created.status_code == 201, created.content
    body = created.json()
    payment = Payment.objects.get(pk=body["id"])
    [call] = paypal.calls("POST", "/v2/checkout/orders")
    assert call.headers["PayPal-Request-Id"] == f"sudamall-payment-{payment.pk}-create"
    sent = call.json()
    assert sent["intent"] == "CAPTURE"
    assert sent["purchase_units"][0]["amount"] == {"currency_code": "USD", "value": "200.00"}
    assert sent["purchase_units"][0]["custom_id"] == str(payment.pk)
    context = sent["payment_source"]["paypal"]["experience_context"]
    assert (context["return_url"], context["cancel_url"]) == (RETURN_URL, CANCEL_URL)

    order = paypal.orders[payment.provider_reference]
    assert order["status"] == "PAYER_ACTION_REQUIRED"
    payer_action = next(link["href"] for link in order["links"] if link["rel"] == "payer-action")
    assert payer_action == (
        f"https://www.sandbox.paypal.com/checkoutnow?token={payment.provider_reference}"
    )
    assert body["approval_url"] == payer_action
    assert body["status"] == "pending"
    assert (body["gateway"], body["amount"], body["currency"]) == ("paypal", "200.00", "USD")
    assert_unpaid(product, checkout)


def test_a_retried_create_gets_the_same_paypal_order_back(
    auth_client: APIClient, user: User, paypal: FakePayPal
):
    _, _, payment = open_paypal_payment(auth_client, user, paypal)

    # The gateway asked again (say its first answer was lost): the same PayPal-Request-Id.
    again = paypal_gateway.PayPalGateway().create(payment)

    assert again.reference == payment.provider_reference
    assert len(paypal.orders) == 1
    assert [
        c.headers["PayPal-Request-Id"] for c in paypal.calls("POST", "/v2/checkout/orders")
    ] == [f"sudamall-payment-{payment.pk}-create"] * 2


def test_paypal_is_unavailable_without_credentials(
    auth_client: APIClient, user: User, paypal: FakePayPal, settings: Any
):
    settings.PAYPAL_CLIENT_SECRET = ""
    checkout = place_checkout(user, product_in("USD"), quantity=1)

    refused = create(auth_client, checkout, "paypal")

    assert refused.status_code == 400
    assert refused.json()["code"] == "gateway_unavailable"
    assert paypal.requests == []
    assert not Payment.objects.exists()


def test_credentials_paypal_refuses_fail_the_payment_with_502(
    auth_client: APIClient, user: User, paypal: FakePayPal, settings: Any
):
    settings.PAYPAL_CLIENT_SECRET = "not-the-secret"
    product = product_in("USD")
    checkout = place_checkout(user, product, quantity=2)

    failed = create(auth_client, checkout, "paypal")

    assert failed.status_code == 502
    assert failed.json()["code"] == "payment_gateway_error"
    assert len(paypal.token_requests) == 1
    assert paypal.calls("POST", "/v2/checkout/orders") == []
    assert Payment.objects.get().status == "failed"
    assert_unpaid(product, checkout)


def test_a_currency_paypal_does_not_take_is_refused_before_anything_is_opened(
    auth_client: APIClient, user: User, paypal: FakePayPal
):
    product = make_product(stock=5)  # priced in the store's default currency, SDG
    checkout = place_checkout(user, product, quantity=2)
    assert checkout.currency == "SDG"

    refused = create(auth_client, checkout, "paypal")

    assert refused.status_code == 400
    assert refused.json()["code"] == "gateway_unavailable"
    assert refused.json()["details"] == {"gateway": "paypal", "currency": "SDG"}
    assert paypal.calls("POST", "/v2/checkout/orders") == []
    assert not Payment.objects.exists()
    assert_unpaid(product, checkout)


def test_amounts_in_a_currency_without_decimals_are_sent_without_them(
    auth_client: APIClient, user: User, paypal: FakePayPal
):
    product, checkout, payment = open_paypal_payment(auth_client, user, paypal, currency="JPY")
    [call] = paypal.calls("POST", "/v2/checkout/orders")
    assert call.json()["purchase_units"][0]["amount"] == {"currency_code": "JPY", "value": "200"}

    paypal.approve(payment.provider_reference)
    paid = confirm(auth_client, payment.pk)

    assert paid.status_code == 200, paid.content
    assert paid.json()["status"] == "succeeded"
    assert_paid(product, checkout)


# --- confirm (capture) --------------------------------------------------------------------------


def test_confirm_before_the_buyer_approves_asks_for_approval_and_commits_nothing(
    auth_client: APIClient, user: User, paypal: FakePayPal
):
    product, checkout, payment = open_paypal_payment(auth_client, user, paypal)

    early = confirm(auth_client, payment.pk)

    assert early.status_code == 200, early.content
    assert early.json()["status"] == "requires_action"
    assert early.json()["approval_url"] == payment.approval_url
    assert payment.approval_url.endswith(f"?token={payment.provider_reference}")
    assert (
        len(paypal.calls("POST", f"/v2/checkout/orders/{payment.provider_reference}/capture")) == 1
    )
    assert paypal.captures == {}
    assert Payment.objects.get(pk=payment.pk).capture_reference == ""
    assert_unpaid(product, checkout)


def test_confirm_after_the_buyer_approves_captures_and_pays_the_checkout(
    auth_client: APIClient, user: User, paypal: FakePayPal
):
    product, checkout, payment = open_paypal_payment(auth_client, user, paypal)
    paypal.approve(payment.provider_reference)

    paid = confirm(auth_client, payment.pk)

    assert paid.status_code == 200, paid.content
    assert paid.json()["status"] == "succeeded"
    assert_paid(product, checkout)
    [call] = paypal.calls("POST", f"/v2/checkout/orders/{payment.provider_reference}/capture")
    assert call.headers["PayPal-Request-Id"] == f"sudamall-payment-{payment.pk}-capture-1"
    capture = paypal.only_capture(payment.provider_reference)
    assert capture["amount"] == {"currency_code": "USD", "value": "200.00"}
    assert Payment.objects.get(pk=payment.pk).capture_reference == capture["id"]
    assert any("Payment received" in m.subject for m in mail.outbox)


def test_the_buyer_can_still_pay_after_confirming_too_early(
    auth_client: APIClient, user: User, paypal: FakePayPal
):
    product, checkout, payment = open_paypal_payment(auth_client, user, paypal)
    assert confirm(auth_client, payment.pk).json()["status"] == "requires_action"

    paypal.approve(payment.provider_reference)
    paid = confirm(auth_client, payment.pk)

    assert paid.status_code == 200, paid.content
    assert paid.json()["status"] == "succeeded"
    assert_paid(product, checkout)


def test_a_declined_funding_source_is_402_and_the_payment_stays_open(
    auth_client: APIClient, user: User, paypal: FakePayPal
):
    product, checkout, payment = open_paypal_payment(auth_client, user, paypal)
    paypal.approve(payment.provider_reference, instrument_declined=True)

    declined = confirm(auth_client, payment.pk)

    assert declined.status_code == 402, declined.content
    assert declined.json()["code"] == "payment_declined"
    assert declined.json()["details"]["reason"] == "instrument_declined"
    payment.refresh_from_db()
    assert (payment.status, payment.failure_code) == ("pending", "instrument_declined")
    assert paypal.captures == {}
    assert_unpaid(product, checkout)

    # PayPal's answer: send the buyer back to choose another funding source, then capture again.
    paypal.approve(payment.provider_reference)
    paid = confirm(auth_client, payment.pk)

    assert paid.status_code == 200, paid.content
    assert paid.json()["status"] == "succeeded"
    assert_paid(product, checkout)


def test_a_confirm_retried_after_a_lost_capture_answer_finds_the_capture(
    auth_client: APIClient, user: User, paypal: FakePayPal
):
    product, checkout, payment = open_paypal_payment(auth_client, user, paypal)
    paypal.approve(payment.provider_reference)
    capture_path = f"/v2/checkout/orders/{payment.provider_reference}/capture"
    paypal.drop_response("POST", capture_path)
    lost = confirm(auth_client, payment.pk)
    assert lost.status_code == 502
    assert_unpaid(product, checkout)

    retried = confirm(auth_client, payment.pk)

    assert retried.status_code == 200, retried.content
    assert retried.json()["status"] == "succeeded"
    assert_paid(product, checkout)
    capture = paypal.only_capture(payment.provider_reference)  # captured once, not twice
    assert Payment.objects.get(pk=payment.pk).capture_reference == capture["id"]
    # The second try is a new request (its own id): PayPal answers ORDER_ALREADY_CAPTURED and
    # the gateway reads the capture from the order.
    assert [c.headers["PayPal-Request-Id"] for c in paypal.calls("POST", capture_path)] == [
        f"sudamall-payment-{payment.pk}-capture-1",
        f"sudamall-payment-{payment.pk}-capture-2",
    ]


# --- refunds ----------------------------------------------------------------------------------


def test_the_store_owner_refunds_part_of_a_paypal_payment_against_its_capture(
    auth_client: APIClient,
    user: User,
    paypal: FakePayPal,
    make_auth_client: Callable[[User], APIClient],
):
    product, _, payment = pay(auth_client, user, paypal)
    owner = make_auth_client(product.store.owner)

    refunded = owner.post(
        f"/api/payments/{payment.pk}/refund/",
        {"amount": "50.00", "reason": "One jalabiya came back"},
        format="json",
    )

    assert refunded.status_code == 201, refunded.content
    assert refunded.json()["status"] == "succeeded"
    refund = Refund.objects.get(pk=refunded.json()["id"])
    [call] = paypal.calls("POST", f"/v2/payments/captures/{payment.capture_reference}/refund")
    assert call.headers["PayPal-Request-Id"] == f"sudamall-refund-{refund.pk}"
    assert call.json()["amount"] == {"currency_code": "USD", "value": "50.00"}
    assert refund.provider_reference in paypal.refunds
    assert paypal.captures[payment.capture_reference]["status"] == "PARTIALLY_REFUNDED"
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("partially_refunded", Decimal("50.00"))


# --- the access token -----------------------------------------------------------------------


def test_the_access_token_is_fetched_once_and_reused_across_calls(
    auth_client: APIClient,
    user: User,
    paypal: FakePayPal,
    make_auth_client: Callable[[User], APIClient],
):
    product, _, payment = pay(auth_client, user, paypal)
    make_auth_client(product.store.owner).post(
        f"/api/payments/{payment.pk}/refund/", {"amount": "10.00"}, format="json"
    )

    [token_request] = paypal.token_requests
    assert token_request.headers["Authorization"].startswith("Basic ")
    assert token_request.form() == {"grant_type": ["client_credentials"]}
    assert [c.path for c in paypal.api_requests] == [
        "/v2/checkout/orders",
        f"/v2/checkout/orders/{payment.provider_reference}/capture",
        f"/v2/payments/captures/{payment.capture_reference}/refund",
    ]
    [token] = paypal.tokens
    assert {c.bearer for c in paypal.api_requests} == {token}


def test_an_expired_token_is_renewed_once_and_the_call_retried(
    auth_client: APIClient, user: User, paypal: FakePayPal
):
    product, checkout, payment = open_paypal_payment(auth_client, user, paypal)
    first = paypal.calls("POST", "/v2/checkout/orders")[0].bearer
    paypal.revoke_tokens()  # its 9 hours are up
    paypal.approve(payment.provider_reference)

    paid = confirm(auth_client, payment.pk)

    assert paid.status_code == 200, paid.content
    assert paid.json()["status"] == "succeeded"
    assert_paid(product, checkout)
    assert len(paypal.token_requests) == 2
    captures = paypal.calls("POST", f"/v2/checkout/orders/{payment.provider_reference}/capture")
    [renewed] = paypal.tokens
    assert [c.bearer for c in captures] == [first, renewed]
    assert cache.get(paypal_gateway.TOKEN_CACHE_KEY) == renewed


def test_a_token_paypal_keeps_refusing_is_renewed_only_once(
    auth_client: APIClient, user: User, paypal: FakePayPal
):
    paypal.refuse_every_token = True
    checkout = place_checkout(user, product_in("USD"), quantity=2)

    failed = create(auth_client, checkout, "paypal")

    assert failed.status_code == 502
    assert len(paypal.token_requests) == 2
    assert len(paypal.calls("POST", "/v2/checkout/orders")) == 2
    assert Payment.objects.get().status == "failed"


# --- webhooks ---------------------------------------------------------------------------------


def test_a_signed_order_approved_webhook_captures_and_pays_without_a_confirm(
    api_client: APIClient, auth_client: APIClient, user: User, paypal: FakePayPal
):
    product, checkout, payment = open_paypal_payment(auth_client, user, paypal)
    paypal.approve(payment.provider_reference)

    received = deliver(api_client, paypal, paypal.order_approved_event(payment.provider_reference))

    assert received.status_code == 200, received.content
    assert received.json() == {"received": True, "duplicate": False}
    assert_paid(product, checkout)
    capture = paypal.only_capture(payment.provider_reference)
    payment.refresh_from_db()
    assert (payment.status, payment.capture_reference) == ("succeeded", capture["id"])
    assert WebhookEvent.objects.get().status == "processed"
    assert [r.url for r in paypal.requests if "/certs/" in r.url] == [CERT_URL]


def test_an_approval_for_a_checkout_paid_otherwise_is_not_captured(
    api_client: APIClient, auth_client: APIClient, user: User, paypal: FakePayPal
):
    product, checkout, payment = open_paypal_payment(auth_client, user, paypal)
    card = create(auth_client, checkout, "test").json()["id"]
    assert (
        auth_client.post(
            "/api/payments/confirm/", {"payment_id": card, "card_number": "4242424242424242"}
        ).status_code
        == 200
    )
    paypal.approve(payment.provider_reference)  # the buyer also approved at PayPal, too late

    received = deliver(api_client, paypal, paypal.order_approved_event(payment.provider_reference))

    assert received.status_code == 200
    assert paypal.captures == {}  # no money taken just to be given back less fees
    assert Payment.objects.get(pk=payment.pk).status == "pending"  # the sweep closes it
    assert WebhookEvent.objects.get().status == "ignored"
    assert stock(product) == (3, 0)


def test_a_capture_completed_webhook_delivered_twice_pays_once(
    api_client: APIClient, auth_client: APIClient, user: User, paypal: FakePayPal
):
    product, checkout, payment = open_paypal_payment(auth_client, user, paypal)
    paypal.approve(payment.provider_reference)
    # PayPal captures, but its answer never reaches us: only the webhook tells.
    paypal.drop_response("POST", f"/v2/checkout/orders/{payment.provider_reference}/capture")
    lost = confirm(auth_client, payment.pk)
    assert lost.status_code == 502
    assert Payment.objects.get(pk=payment.pk).status == "pending"
    event = paypal.capture_event(payment.provider_reference)

    first = deliver(api_client, paypal, event)
    again = deliver(api_client, paypal, event)  # a redelivery: new transmission, same event

    assert first.status_code == 200, first.content
    assert first.json() == {"received": True, "duplicate": False}
    assert again.status_code == 200, again.content
    assert again.json() == {"received": True, "duplicate": True}
    assert_paid(product, checkout)
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    assert payment.capture_reference == event["resource"]["id"]
    assert WebhookEvent.objects.filter(provider="paypal").count() == 1
    assert payment.attempts.filter(action=PaymentAttempt.Action.WEBHOOK).count() == 1
    assert sum("Payment received" in m.subject for m in mail.outbox) == 1


def test_a_capture_denied_after_success_changes_nothing(
    api_client: APIClient, auth_client: APIClient, user: User, paypal: FakePayPal
):
    product, checkout, payment = pay(auth_client, user, paypal)
    event = paypal.capture_event(payment.provider_reference, "PAYMENT.CAPTURE.DENIED")

    received = deliver(api_client, paypal, event)

    assert received.status_code == 200, received.content
    assert WebhookEvent.objects.get().status == "ignored"
    payment.refresh_from_db()
    assert (payment.status, payment.failure_code) == ("succeeded", "")
    assert_paid(product, checkout)
    assert not Refund.objects.exists()


# How each delivery departs from PayPal's: keyword arguments for ``deliver``.
FORGERIES: dict[str, Callable[[], dict[str, Any]]] = {
    "signed-with-another-key": lambda: {
        "key": rsa.generate_private_key(public_exponent=65537, key_size=2048)
    },
    "body-altered-after-signing": lambda: {"tamper": True},
    "transmission-older-than-the-redelivery-period": lambda: {
        "transmission_time": paypal_time(datetime.now(UTC) - timedelta(days=5))
    },
    "cert-url-not-paypal": lambda: {"cert_url": "https://evil.example.com/cert.pem"},
    "cert-url-over-http": lambda: {"cert_url": CERT_URL.replace("https://", "http://")},
    "cert-url-not-a-url": lambda: {"cert_url": "https://[::1/cert"},
    "cert-url-bad-port": lambda: {"cert_url": CERT_URL.replace(".com/", ".com:abc/")},
    "cert-url-with-query": lambda: {"cert_url": CERT_URL + "?x=1"},
    "cert-url-climbing-out": lambda: {
        "cert_url": "https://api.sandbox.paypal.com/v1/notifications/certs/../../oauth2/token"
    },
    "cert-url-other-path": lambda: {"cert_url": "https://api.sandbox.paypal.com/v1/oauth2/token"},
    "another-webhook-id": lambda: {"webhook_id": "8PT597110X687430L"},
}


@pytest.mark.parametrize("forgery", list(FORGERIES), ids=list(FORGERIES))
def test_a_delivery_that_does_not_verify_is_400_and_stores_nothing(
    api_client: APIClient, auth_client: APIClient, user: User, paypal: FakePayPal, forgery: str
):
    product, checkout, payment = open_paypal_payment(auth_client, user, paypal)
    paypal.approve(payment.provider_reference)
    event = paypal.order_approved_event(payment.provider_reference)
    signing = FORGERIES[forgery]()
    body = None
    if signing.pop("tamper", False):
        body = json.dumps({**event, "summary": "An order has been approved by buyer!"}).encode()
    if "cert_url" in signing:
        paypal.cert_urls.add(signing["cert_url"])  # served there, even PayPal's own certificate

    refused = deliver(api_client, paypal, event, body=body, **signing)

    assert refused.status_code == 400, refused.content
    assert refused.json()["code"] == "invalid_signature"
    assert not WebhookEvent.objects.exists()
    assert paypal.captures == {}
    assert_unpaid(product, checkout)
    assert all(r.url == CERT_URL for r in paypal.requests if "cert" in r.url)  # never fetched

    # The same event, delivered as PayPal delivers it, goes through.
    accepted = deliver(api_client, paypal, event)
    assert accepted.status_code == 200, accepted.content
    assert_paid(product, checkout)


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, text="<html>maintenance</html>"),  # a proxy's page, not PayPal's JSON
        httpx.Response(200, json=["not", "an", "object"]),
        httpx.Response(200, json={"scope": "x"}),  # no access_token
    ],
    ids=["html", "json-list", "no-token"],
)
def test_a_garbled_paypal_answer_is_502_and_the_payment_failed_not_a_500(
    auth_client: APIClient, user: User, paypal: FakePayPal, monkeypatch: Any, answer: Any
):
    checkout = place_checkout(user, product_in("USD"), quantity=2)
    garbled = httpx.Client(transport=httpx.MockTransport(lambda request: answer))
    monkeypatch.setattr(paypal_gateway, "http_client", garbled)

    response = create(auth_client, checkout, "paypal")

    assert response.status_code == 502
    assert response.json()["code"] == "payment_gateway_error"
    assert Payment.objects.get().status == "failed"


def test_an_approval_arriving_while_the_buyer_confirms_is_retried_not_dropped(
    api_client: APIClient, auth_client: APIClient, user: User, paypal: FakePayPal
):
    from datetime import timedelta

    from django.utils import timezone

    from payments import tasks

    product, checkout, payment = open_paypal_payment(auth_client, user, paypal)
    paypal.approve(payment.provider_reference)
    # The buyer's confirm holds the lease (and then, say, dies before capturing).
    Payment.objects.filter(pk=payment.pk).update(
        confirming_until=timezone.now() + timedelta(seconds=60)
    )

    received = deliver(api_client, paypal, paypal.order_approved_event(payment.provider_reference))

    assert received.status_code == 200
    stored = WebhookEvent.objects.get()
    assert stored.status == "failed"  # to be retried, not "ignored"
    assert paypal.captures == {}

    Payment.objects.filter(pk=payment.pk).update(confirming_until=None)  # the lease lapsed
    tasks.process_webhook_event_task.apply(kwargs={"event_pk": stored.pk}, retries=1)

    stored.refresh_from_db()
    assert stored.status == "processed"
    assert_paid(product, checkout)
