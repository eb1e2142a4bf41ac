"""Paying with Stripe, over HTTP, against the real database and the real Stripe SDK: only
Stripe's servers are replaced (``stripe_fake``), at the gateway's ``http_client``."""

import json
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from rest_framework.test import APIClient

from orders.models import Checkout, Order
from orders.tests.factories import place_checkout
from payments.gateways import stripe as stripe_gateway
from payments.gateways import to_minor_units
from payments.models import Payment, PaymentAttempt, Refund, WebhookEvent
from payments.services.expiry import expire_payment
from payments.tests.helpers import create, stock
from payments.tests.stripe_fake import SECRET_KEY, WEBHOOK_SECRET, FakeStripe, sign
from products.models import Product
from products.tests.factories import make_product

RETURN_URL = "https://sudamall.example.com/checkout/stripe/return"
WEBHOOK_URL = "/api/payments/webhook/stripe/"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def stripe_fake(settings: Any, monkeypatch: pytest.MonkeyPatch) -> FakeStripe:
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_VERSION = ""
    settings.STRIPE_RETURN_URL = RETURN_URL
    fake = FakeStripe()
    monkeypatch.setattr(stripe_gateway, "http_client", fake.client)
    # The SDK sleeps 0.5-2 s between its retries; the retries are what the tests look at.
    monkeypatch.setattr(stripe_gateway._HttpxClient, "_sleep_time_seconds", lambda self, n: 0.0)
    return fake


def confirm(client: APIClient, payment_id: int, payment_method: str | None = None) -> Any:
    body: dict[str, Any] = {"payment_id": payment_id}
    if payment_method is not None:
        body["payment_method"] = payment_method
    return client.post("/api/payments/confirm/", body, format="json")


def deliver(
    client: APIClient,
    event: dict[str, Any],
    *,
    secret: str = WEBHOOK_SECRET,
    timestamp: int | None = None,
    body: bytes | None = None,
) -> Any:
    """POST ``event`` to the Stripe webhook as Stripe does: signed over the exact bytes (or, to
    tamper, signed over the event but delivering ``body``)."""
    raw = json.dumps(event).encode()
    return client.generic(
        "POST",
        WEBHOOK_URL,
        raw if body is None else body,
        content_type="application/json",
        headers={"Stripe-Signature": sign(raw, secret, timestamp)},
    )


@pytest.fixture
def product(db: None) -> Product:
    return make_product(stock=5)


@pytest.fixture
def payment(
    auth_client: APIClient, user: Any, product: Product, stripe_fake: FakeStripe
) -> Payment:
    """A Stripe payment of 200.00 SDG (two units), its intent open at Stripe."""
    created = create(auth_client, place_checkout(user, product, quantity=2), "stripe")
    assert created.status_code == 201, created.content
    return Payment.objects.get(pk=created.json()["id"])


# --- create -----------------------------------------------------------------------------------


def test_create_opens_an_intent_for_the_checkout_total_in_minor_units(
    auth_client: APIClient, user: Any, product: Product, stripe_fake: FakeStripe
):
    checkout = place_checkout(user, product, quantity=2)

    created = create(auth_client, checkout, "stripe")

    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["status"], body["amount"], body["currency"]) == ("pending", "200.00", "SDG")
    [sent] = stripe_fake.calls("POST", "/v1/payment_intents")
    intent = stripe_fake.intent(Payment.objects.get(pk=body["id"]).provider_reference)
    assert body["client_secret"] == intent["client_secret"]
    assert sent.params["amount"] == "20000"
    assert sent.params["currency"] == "sdg"
    assert sent.params["metadata"] == {"payment_id": str(body["id"]),
                                       "checkout_id": str(checkout.pk)}  # fmt: skip
    assert sent.params["automatic_payment_methods"] == {"enabled": "true",
                                                        "allow_redirects": "always"}  # fmt: skip
    assert sent.idempotency_key == f"sudamall-payment-{body['id']}-create"
    assert sent.headers["Authorization"] == f"Bearer {SECRET_KEY}"
    assert stock(product) == (5, 2)  # held for the window, not sold


def test_stripe_is_off_without_a_secret_key(
    auth_client: APIClient, user: Any, stripe_fake: FakeStripe, settings: Any
):
    settings.STRIPE_SECRET_KEY = ""

    response = create(auth_client, place_checkout(user), "stripe")

    assert response.status_code == 400
    assert response.json()["code"] == "gateway_unavailable"
    assert stripe_fake.requests == []


def test_stripe_unreachable_on_create_is_502_and_the_payment_is_failed(
    auth_client: APIClient, user: Any, product: Product, stripe_fake: FakeStripe
):
    checkout = place_checkout(user, product, quantity=2)
    stripe_fake.drop_next(3)  # the first try and the SDK's two retries

    response = create(auth_client, checkout, "stripe")

    assert response.status_code == 502
    assert response.json()["code"] == "payment_gateway_error"
    payment = Payment.objects.get(checkout=checkout)
    assert (payment.status, payment.failure_code) == ("failed", "gateway_error")
    tries = stripe_fake.calls("POST", "/v1/payment_intents")
    assert len(tries) == 3
    assert {t.idempotency_key for t in tries} == {f"sudamall-payment-{payment.pk}-create"}
    assert stripe_fake.intents == {}
    assert Checkout.objects.get(pk=checkout.pk).status == "pending_payment"
    assert stock(product) == (5, 2)


def test_a_dropped_connection_is_retried_with_the_same_key_and_opens_one_intent(
    auth_client: APIClient, user: Any, stripe_fake: FakeStripe
):
    stripe_fake.drop_next(1)

    response = create(auth_client, place_checkout(user), "stripe")

    assert response.status_code == 201, response.content
    tries = stripe_fake.calls("POST", "/v1/payment_intents")
    assert [t.status for t in tries] == [None, 200]
    assert tries[0].idempotency_key == tries[1].idempotency_key
    assert len(stripe_fake.intents) == 1


def test_a_stripe_500_is_retried_with_the_same_key_and_opens_one_intent(
    auth_client: APIClient, user: Any, stripe_fake: FakeStripe
):
    stripe_fake.fail_next(500)

    response = create(auth_client, place_checkout(user), "stripe")

    assert response.status_code == 201, response.content
    tries = stripe_fake.calls("POST", "/v1/payment_intents")
    assert [t.status for t in tries] == [500, 200]
    assert tries[0].idempotency_key == tries[1].idempotency_key
    assert len(stripe_fake.intents) == 1


def test_a_rejected_secret_key_is_502_and_not_retried(
    auth_client: APIClient, user: Any, stripe_fake: FakeStripe, settings: Any
):
    settings.STRIPE_SECRET_KEY = "sk_test_revoked_key_000000000000"

    response = create(auth_client, place_checkout(user), "stripe")

    assert response.status_code == 502
    assert response.json()["code"] == "payment_gateway_error"
    assert [r.status for r in stripe_fake.requests] == [401]
    assert stripe_fake.intents == {}


# --- confirm ----------------------------------------------------------------------------------


def test_confirming_with_a_good_card_pays_the_checkout_and_commits_stock(
    auth_client: APIClient, payment: Payment, product: Product, stripe_fake: FakeStripe
):
    paid = confirm(auth_client, payment.pk, "pm_card_visa")

    assert paid.status_code == 200, paid.content
    assert paid.json()["status"] == "succeeded"
    assert paid.json()["client_secret"] is None  # closed: nothing left for Stripe.js to do
    assert stock(product) == (3, 0)
    assert Order.objects.get(checkout=payment.checkout_id).status == "paid"
    assert Checkout.objects.get(pk=payment.checkout_id).status == "paid"
    [sent] = stripe_fake.calls("POST", "/v1/payment_intents/{id}/confirm")
    assert sent.path == f"/v1/payment_intents/{payment.provider_reference}/confirm"
    assert sent.params == {"payment_method": "pm_card_visa", "return_url": RETURN_URL}
    assert sent.idempotency_key == f"sudamall-payment-{payment.pk}-confirm-1"
    payment.refresh_from_db()
    assert (
        payment.capture_reference == stripe_fake.intent(payment.provider_reference)["latest_charge"]
    )


def test_a_declined_card_is_402_commits_nothing_and_another_card_pays(
    auth_client: APIClient, payment: Payment, product: Product, stripe_fake: FakeStripe
):
    declined = confirm(auth_client, payment.pk, "pm_card_chargeDeclined")

    assert declined.status_code == 402
    assert declined.json()["code"] == "payment_declined"
    assert declined.json()["details"]["reason"] == "generic_decline"
    payment.refresh_from_db()
    assert (payment.status, payment.failure_code) == ("pending", "generic_decline")
    assert stock(product) == (5, 2)
    assert Order.objects.get(checkout=payment.checkout_id).status == "pending_payment"
    attempt = payment.attempts.get(action=PaymentAttempt.Action.CONFIRM)
    assert attempt.outcome == "failed"
    assert payment.provider_reference in json.dumps(attempt.response)
    assert stripe_fake.intent(payment.provider_reference)["client_secret"] not in json.dumps(
        attempt.response
    )

    # The same payment method again is a new try at Stripe, not a replay of the stored decline.
    again = confirm(auth_client, payment.pk, "pm_card_chargeDeclined")
    assert again.status_code == 402
    calls = stripe_fake.calls("POST", "/v1/payment_intents/{id}/confirm")
    assert [c.idempotency_key for c in calls] == [
        f"sudamall-payment-{payment.pk}-confirm-1",
        f"sudamall-payment-{payment.pk}-confirm-2",
    ]

    retried = confirm(auth_client, payment.pk, "pm_card_visa")

    assert retried.status_code == 200, retried.content
    assert retried.json()["status"] == "succeeded"
    assert stock(product) == (3, 0)
    assert Order.objects.get(checkout=payment.checkout_id).status == "paid"


def test_a_card_needing_3ds_answers_requires_action_then_the_buyer_finishes_it(
    auth_client: APIClient, payment: Payment, product: Product, stripe_fake: FakeStripe
):
    response = confirm(auth_client, payment.pk, "pm_card_authenticationRequired")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "requires_action"
    intent = stripe_fake.intent(payment.provider_reference)
    assert response.json()["client_secret"] == intent["client_secret"]
    assert intent["next_action"]["redirect_to_url"]["return_url"] == RETURN_URL
    assert stock(product) == (5, 2)

    stripe_fake.complete_action(payment.provider_reference)  # 3-D Secure passed in the browser
    done = confirm(auth_client, payment.pk)

    assert done.status_code == 200, done.content
    assert done.json()["status"] == "succeeded"
    assert stock(product) == (3, 0)


def test_confirm_without_a_payment_method_reads_what_stripe_js_did(
    auth_client: APIClient, payment: Payment, product: Product, stripe_fake: FakeStripe
):
    stripe_fake.confirm_client_side(payment.provider_reference, "pm_card_visa")

    response = confirm(auth_client, payment.pk)

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "succeeded"
    assert Checkout.objects.get(pk=payment.checkout_id).status == "paid"
    assert stock(product) == (3, 0)
    assert len(stripe_fake.calls("GET", "/v1/payment_intents/{id}")) == 1
    assert stripe_fake.calls("POST", "/v1/payment_intents/{id}/confirm") == []


def test_without_a_return_url_intents_never_redirect_so_a_server_confirm_works(
    auth_client: APIClient, user: Any, stripe_fake: FakeStripe, settings: Any
):
    settings.STRIPE_RETURN_URL = ""
    payment_id = create(auth_client, place_checkout(user), "stripe").json()["id"]

    paid = confirm(auth_client, payment_id, "pm_card_visa")

    assert paid.status_code == 200, paid.content
    assert paid.json()["status"] == "succeeded"
    [created] = stripe_fake.calls("POST", "/v1/payment_intents")
    assert created.params["automatic_payment_methods"]["allow_redirects"] == "never"
    [confirmed] = stripe_fake.calls("POST", "/v1/payment_intents/{id}/confirm")
    assert "return_url" not in confirmed.params


def test_an_answer_lost_after_stripe_charged_is_replayed_not_charged_again(
    auth_client: APIClient, payment: Payment, product: Product, stripe_fake: FakeStripe
):
    stripe_fake.lose_next_response()

    paid = confirm(auth_client, payment.pk, "pm_card_visa")

    assert paid.status_code == 200, paid.content
    assert paid.json()["status"] == "succeeded"
    tries = stripe_fake.calls("POST", "/v1/payment_intents/{id}/confirm")
    assert len(tries) == 2
    assert tries[0].idempotency_key == tries[1].idempotency_key
    assert len(stripe_fake.charges) == 1
    assert stock(product) == (3, 0)


# --- webhooks ---------------------------------------------------------------------------------


def test_a_signed_succeeded_webhook_pays_the_checkout_once_however_often_delivered(
    api_client: APIClient, payment: Payment, product: Product, stripe_fake: FakeStripe
):
    intent = stripe_fake.confirm_client_side(payment.provider_reference, "pm_card_visa")
    event = stripe_fake.event("payment_intent.succeeded", intent)

    first = deliver(api_client, event)
    again = deliver(api_client, event)  # Stripe redelivers the same event, signed anew

    assert first.status_code == 200, first.content
    assert first.json() == {"received": True, "duplicate": False}
    assert again.status_code == 200
    assert again.json() == {"received": True, "duplicate": True}
    stored = WebhookEvent.objects.get()
    assert (stored.event_id, stored.status, stored.payment_id) == (
        event["id"], "processed", payment.pk
    )  # fmt: skip
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    assert payment.capture_reference == intent["latest_charge"]
    assert Checkout.objects.get(pk=payment.checkout_id).status == "paid"
    assert stock(product) == (3, 0)
    assert payment.attempts.filter(action=PaymentAttempt.Action.WEBHOOK).count() == 1


@pytest.mark.parametrize(
    "tamper", ["wrong_secret", "stale", "altered_body", "no_header", "not_configured_here"]
)
def test_an_unverifiable_stripe_webhook_is_400_and_nothing_is_stored(
    api_client: APIClient,
    payment: Payment,
    stripe_fake: FakeStripe,
    settings: Any,
    tamper: str,
):
    failed = stripe_fake.event("payment_intent.payment_failed",
                               stripe_fake.intent(payment.provider_reference))  # fmt: skip
    succeeded = {**failed, "type": "payment_intent.succeeded"}
    if tamper == "wrong_secret":
        response = deliver(api_client, succeeded, secret="whsec_someone_else")
    elif tamper == "stale":
        response = deliver(api_client, succeeded, timestamp=int(time.time()) - 301)
    elif tamper == "altered_body":
        # Signed by Stripe as payment_failed, delivered saying payment_intent.succeeded.
        response = deliver(api_client, failed, body=json.dumps(succeeded).encode())
    elif tamper == "no_header":
        response = api_client.generic("POST", WEBHOOK_URL, json.dumps(succeeded),
                                      content_type="application/json")  # fmt: skip
    else:
        settings.STRIPE_WEBHOOK_SECRET = ""
        response = deliver(api_client, succeeded)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert not WebhookEvent.objects.exists()
    payment.refresh_from_db()
    assert payment.status == "pending"


def test_a_payment_failed_event_arriving_after_the_success_changes_nothing(
    auth_client: APIClient,
    api_client: APIClient,
    payment: Payment,
    product: Product,
    stripe_fake: FakeStripe,
):
    assert confirm(auth_client, payment.pk, "pm_card_chargeDeclined").status_code == 402
    late_news = stripe_fake.event("payment_intent.payment_failed",
                                  stripe_fake.intent(payment.provider_reference))  # fmt: skip
    assert confirm(auth_client, payment.pk, "pm_card_visa").status_code == 200

    response = deliver(api_client, late_news)

    assert response.status_code == 200
    assert WebhookEvent.objects.get().status == "ignored"
    payment.refresh_from_db()
    assert (payment.status, payment.failure_code) == ("succeeded", "")
    assert Order.objects.get(checkout=payment.checkout_id).status == "paid"
    assert stock(product) == (3, 0)


# --- the window -------------------------------------------------------------------------------


def test_an_open_intent_is_cancelled_at_stripe_when_the_window_closes(
    payment: Payment, product: Product, stripe_fake: FakeStripe
):
    from payments.tasks import payments_sweep_task

    deadline = Checkout.objects.get(pk=payment.checkout_id).payment_deadline
    with time_machine.travel(deadline + timedelta(minutes=1), tick=False):
        swept = payments_sweep_task()

    assert swept["payments_cancelled"] == 1
    payment.refresh_from_db()
    assert payment.status == "cancelled"
    [sent] = stripe_fake.calls("POST", "/v1/payment_intents/{id}/cancel")
    assert sent.path == f"/v1/payment_intents/{payment.provider_reference}/cancel"
    assert sent.params == {"cancellation_reason": "abandoned"}
    intent = stripe_fake.intent(payment.provider_reference)
    assert (intent["status"], intent["cancellation_reason"]) == ("canceled", "abandoned")


def test_expiring_an_intent_stripe_already_charged_records_the_success_instead(
    payment: Payment, product: Product, stripe_fake: FakeStripe
):
    stripe_fake.confirm_client_side(payment.provider_reference, "pm_card_visa")
    deadline = Checkout.objects.get(pk=payment.checkout_id).payment_deadline

    with time_machine.travel(deadline + timedelta(minutes=1), tick=False):
        cancelled = expire_payment(payment_id=payment.pk)

    assert cancelled is False
    assert [r.status for r in stripe_fake.calls("POST", "/v1/payment_intents/{id}/cancel")] == [400]
    assert stripe_fake.intent(payment.provider_reference)["status"] == "succeeded"
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    # Late, but the stock was still free: the checkout is paid rather than refunded.
    assert Checkout.objects.get(pk=payment.checkout_id).status == "paid"
    assert stock(product) == (3, 0)


# --- refunds ----------------------------------------------------------------------------------


def test_a_refund_by_the_store_owner_reaches_stripe_in_minor_units_with_its_own_key(
    auth_client: APIClient,
    make_auth_client: Any,
    payment: Payment,
    product: Product,
    stripe_fake: FakeStripe,
):
    assert confirm(auth_client, payment.pk, "pm_card_visa").status_code == 200
    owner = make_auth_client(product.store.owner)

    response = owner.post(
        f"/api/payments/{payment.pk}/refund/", {"amount": "50.00", "reason": "Torn seam"}
    )

    assert response.status_code == 201, response.content
    assert (response.json()["status"], response.json()["amount"]) == ("succeeded", "50.00")
    refund = Refund.objects.get()
    [sent] = stripe_fake.calls("POST", "/v1/refunds")
    assert sent.params["payment_intent"] == payment.provider_reference
    assert sent.params["amount"] == "5000"
    assert sent.params["metadata"] == {"refund_id": str(refund.pk), "payment_id": str(payment.pk)}
    assert sent.idempotency_key == f"sudamall-refund-{refund.pk}"
    assert refund.provider_reference in stripe_fake.refunds
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("partially_refunded", Decimal("50.00"))
    charge = stripe_fake.charges[stripe_fake.intent(payment.provider_reference)["latest_charge"]]
    assert charge["amount_refunded"] == 5000


def test_a_refund_stripe_refuses_is_failed_and_the_payment_keeps_its_money(
    auth_client: APIClient,
    make_auth_client: Any,
    payment: Payment,
    product: Product,
    stripe_fake: FakeStripe,
):
    assert confirm(auth_client, payment.pk, "pm_card_visa").status_code == 200
    # 180.00 of the 200.00 already went back through Stripe's Dashboard.
    stripe_fake.refund_from_dashboard(payment.provider_reference, 18000)

    response = make_auth_client(product.store.owner).post(
        f"/api/payments/{payment.pk}/refund/", {"amount": "50.00"}
    )

    assert response.status_code == 201, response.content
    assert response.json()["status"] == "failed"
    assert "greater than unrefunded amount" in response.json()["failure_message"]
    assert [r.status for r in stripe_fake.calls("POST", "/v1/refunds")] == [400]
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("succeeded", Decimal("0.00"))


# --- amounts ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("1500", "JPY", 1500),
        ("1500", "jpy", 1500),
        ("1500.00", "JPY", 1500),
        ("12.50", "USD", 1250),
        ("200.00", "SDG", 20000),
        ("1.234", "KWD", 1234),
    ],
)
@pytest.mark.django_db(transaction=False)
def test_amounts_go_to_providers_in_the_currencys_smallest_unit(
    amount: str, currency: str, minor: int
):
    assert to_minor_units(Decimal(amount), currency) == minor


def test_a_refund_whose_answer_was_lost_is_retried_with_its_first_key_whatever_the_settings(
    auth_client: APIClient,
    make_auth_client: Any,
    payment: Payment,
    product: Product,
    stripe_fake: FakeStripe,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
):
    from payments import tasks
    from payments.services import refunds

    assert confirm(auth_client, payment.pk, "pm_card_visa").status_code == 200
    # The retry task runs later (eager mode would run it at once).
    monkeypatch.setattr(tasks.process_refund_task, "apply_async", lambda *a, **k: None)
    # Stripe refunds, but the answer (and the SDK's retries' answers) never come back.
    for _ in range(3):
        stripe_fake.lose_next_response()
    pending = make_auth_client(product.store.owner).post(
        f"/api/payments/{payment.pk}/refund/", {"amount": "50.00"}
    )
    assert pending.json()["status"] == "pending"
    settings.PAYMENT_KEY_PREFIX = "rotated"  # a deploy changed it meanwhile

    settled = refunds.process_refund(refund_id=pending.json()["id"])

    assert settled.status == "succeeded"
    keys = {sent.idempotency_key for sent in stripe_fake.calls("POST", "/v1/refunds")}
    assert keys == {f"sudamall-refund-{settled.pk}"}
    charge = stripe_fake.charges[stripe_fake.intent(payment.provider_reference)["latest_charge"]]
    assert charge["amount_refunded"] == 5000  # refunded once
