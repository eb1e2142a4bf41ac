"""The test gateway's signed webhook and the inbox behind every provider's: verify before
anything, store once, process once, retry, dead-letter, replay."""

import json
import time

import pytest
from rest_framework.test import APIClient

from orders.models import Checkout
from orders.tests.factories import place_checkout
from payments.models import Payment, WebhookEvent
from payments.services import webhooks
from payments.tests.helpers import create, signed_webhook
from products.models import Size
from products.tests.factories import make_product

pytestmark = pytest.mark.django_db(transaction=True)


def event(payment_id: int, kind: str = "payment.succeeded", event_id: str = "evt_1") -> dict:
    return {"id": event_id, "type": kind, "data": {"payment_id": payment_id}}


@pytest.fixture
def payment(auth_client: APIClient, user) -> Payment:
    product = make_product(stock=5)
    checkout = place_checkout(user, product, quantity=2)
    return Payment.objects.get(pk=create(auth_client, checkout).json()["id"])


def test_a_signed_success_webhook_pays_the_checkout(api_client: APIClient, payment: Payment):
    response = signed_webhook(api_client, event(payment.pk))

    assert response.status_code == 200
    assert response.json() == {"received": True, "duplicate": False}
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    assert Checkout.objects.get(pk=payment.checkout_id).status == "paid"
    size = Size.objects.get()
    assert (size.on_hand, size.reserved) == (3, 0)
    stored = WebhookEvent.objects.get()
    assert stored.status == "processed"
    assert stored.payment_id == payment.pk
    assert stored.result == f"payment {payment.pk}: pending → succeeded"


@pytest.mark.parametrize(
    "tamper",
    ["wrong_secret", "stale", "future", "altered_body", "no_header", "garbage_header"],
)
def test_an_unverifiable_webhook_is_400_and_nothing_is_stored(
    api_client: APIClient, payment: Payment, tamper: str
):
    body = event(payment.pk)
    if tamper == "wrong_secret":
        response = signed_webhook(api_client, body, secret="whsec_someone_else")
    elif tamper == "stale":
        response = signed_webhook(api_client, body, timestamp=int(time.time()) - 301)
    elif tamper == "future":
        response = signed_webhook(api_client, body, timestamp=int(time.time()) + 600)
    elif tamper == "altered_body":
        # Signed for payment.failed, delivered saying payment.succeeded.
        signed_for = event(payment.pk, "payment.failed")
        altered = json.dumps(event(payment.pk)).encode()
        response = signed_webhook(api_client, signed_for, body=altered)
    else:
        header = {} if tamper == "no_header" else {"X-Signature": "t=abc,v1=zz"}
        response = api_client.generic(
            "POST",
            "/api/payments/webhook/",
            json.dumps(body),
            content_type="application/json",
            headers=header,
        )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert not WebhookEvent.objects.exists()
    payment.refresh_from_db()
    assert payment.status == "pending"


def test_a_signed_body_that_is_not_an_event_is_400(api_client: APIClient):
    response = signed_webhook(api_client, {}, body=b"[1, 2, 3]")

    # Signed over "{}" but sent "[1, 2, 3]": the signature fails first.
    assert response.status_code == 400
    from payments.gateways import test as gateway

    raw = b'{"type": "payment.succeeded"}'
    response = api_client.generic(
        "POST",
        "/api/payments/webhook/",
        raw,
        content_type="application/json",
        headers={"X-Signature": gateway.sign(raw, "whsec_test_suite_secret")},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert not WebhookEvent.objects.exists()


def test_the_same_event_twice_is_200_and_processed_once(api_client: APIClient, payment: Payment):
    first = signed_webhook(api_client, event(payment.pk))
    second = signed_webhook(api_client, event(payment.pk))

    assert first.json()["duplicate"] is False
    assert second.status_code == 200
    assert second.json()["duplicate"] is True
    assert WebhookEvent.objects.count() == 1
    assert payment.attempts.filter(action="webhook").count() == 1


def test_failed_after_succeeded_changes_nothing(api_client: APIClient, payment: Payment):
    signed_webhook(api_client, event(payment.pk, "payment.succeeded", "evt_1"))

    late = signed_webhook(api_client, event(payment.pk, "payment.failed", "evt_2"))

    assert late.status_code == 200
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    assert WebhookEvent.objects.get(event_id="evt_2").status == "ignored"
    assert Checkout.objects.get(pk=payment.checkout_id).status == "paid"


def test_a_failed_webhook_closes_an_open_payment(api_client: APIClient, payment: Payment):
    signed_webhook(api_client, event(payment.pk, "payment.failed"))

    payment.refresh_from_db()
    assert payment.status == "failed"
    # The checkout still holds its stock until the window closes: a new payment may pay it.
    assert Checkout.objects.get(pk=payment.checkout_id).status == "pending_payment"


def test_an_event_type_we_do_not_handle_is_stored_and_ignored(
    api_client: APIClient, payment: Payment
):
    response = signed_webhook(api_client, event(payment.pk, "payment.disputed"))

    assert response.status_code == 200
    stored = WebhookEvent.objects.get()
    assert stored.status == "ignored"
    payment.refresh_from_db()
    assert payment.status == "pending"


def test_an_event_for_an_unknown_payment_is_retried_then_dead_lettered_then_replayed(
    api_client: APIClient, payment: Payment, settings
):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    missing = payment.pk + 1000

    response = signed_webhook(api_client, event(missing))

    # Stored and acknowledged: the provider must not keep resending what we hold.
    assert response.status_code == 200
    stored = WebhookEvent.objects.get()
    assert stored.status == "failed"  # a retry is scheduled with backoff
    assert "no test payment" in stored.last_error

    # The worker's retries (eager mode runs only the first try): the last one dead-letters it.
    from celery.exceptions import Retry

    from payments import tasks

    with pytest.raises(Retry):
        tasks.process_webhook_event_task.apply(kwargs={"event_pk": stored.pk}, retries=1)
    stored.refresh_from_db()
    assert stored.status == "failed"
    tasks.process_webhook_event_task.apply(kwargs={"event_pk": stored.pk}, retries=2)
    stored.refresh_from_db()
    assert stored.status == "dead"
    assert stored.attempts == 3

    # The payment turns up (an operator fixed the data); staff replay the dead letter.
    stored.payload = event(payment.pk)
    stored.save(update_fields=["payload"])
    webhooks.replay_event(event=stored)

    stored.refresh_from_db()
    assert stored.status == "processed"
    payment.refresh_from_db()
    assert payment.status == "succeeded"


def test_replaying_an_applied_event_changes_nothing(api_client: APIClient, payment: Payment):
    signed_webhook(api_client, event(payment.pk))
    stored = WebhookEvent.objects.get()

    webhooks.replay_event(event=stored)

    stored.refresh_from_db()
    assert stored.status == "ignored"
    assert Size.objects.get().on_hand == 3  # sold once


def test_events_left_received_are_picked_up_by_the_sweep(
    api_client: APIClient, payment: Payment, monkeypatch
):
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from payments import tasks

    # The broker lost the message: the event is stored but nothing processes it.
    monkeypatch.setattr(webhooks, "_enqueue", lambda pk: None)
    signed_webhook(api_client, event(payment.pk))
    monkeypatch.undo()
    assert WebhookEvent.objects.get().status == "received"

    with time_machine.travel(timezone.now() + timedelta(minutes=11), tick=False):
        swept = tasks.payments_sweep_task()

    assert swept["webhooks_requeued"] == 1
    assert WebhookEvent.objects.get().status == "processed"


def test_provider_webhooks_are_400_when_the_provider_is_not_configured(api_client: APIClient):
    for path in ("/api/payments/webhook/stripe/", "/api/payments/webhook/paypal/"):
        response = api_client.post(path, {"id": "evt_1"}, format="json")

        assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_payment_flows_log_no_card_numbers_or_secrets(
    api_client: APIClient, auth_client: APIClient, user, log_output
):
    from django.conf import settings

    from payments.tests.helpers import DECLINED_CARD, GOOD_CARD, confirm

    payment_id = create(auth_client, place_checkout(user)).json()["id"]
    confirm(auth_client, payment_id, DECLINED_CARD)
    confirm(auth_client, payment_id, GOOD_CARD)
    signed_webhook(api_client, event(payment_id, event_id="evt_logged"))
    signed_webhook(api_client, event(payment_id), secret="whsec_forged")

    output = log_output.getvalue()
    assert '"payment_id"' in output  # the flows did log
    assert '"status_code": 402' in output  # and status codes are not mistaken for secrets
    for secret in (GOOD_CARD, DECLINED_CARD, settings.PAYMENT_TEST_WEBHOOK_SECRET):
        assert secret not in output


def test_an_absurd_timestamp_is_400_not_a_500(api_client: APIClient, payment: Payment):
    response = api_client.generic(
        "POST",
        "/api/payments/webhook/",
        json.dumps(event(payment.pk)),
        content_type="application/json",
        headers={"X-Signature": "t=" + "9" * 400 + ",v1=00"},
    )

    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_one_payment_failing_to_close_does_not_stop_the_sweep(
    api_client: APIClient, payment: Payment, monkeypatch
):
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from payments import tasks
    from payments.gateways.test import TestGateway

    monkeypatch.setattr(webhooks, "_enqueue", lambda pk: None)
    signed_webhook(api_client, event(payment.pk, "payment.disputed"))  # left unprocessed
    monkeypatch.undo()

    def broken(self, payment):  # type: ignore[no-untyped-def]
        raise ValueError("the provider answered nonsense")

    monkeypatch.setattr(TestGateway, "cancel", broken)
    with time_machine.travel(timezone.now() + timedelta(minutes=20), tick=False):
        swept = tasks.payments_sweep_task()

    assert swept["payments_cancelled"] == 0  # that one stays open, for the next run
    assert swept["webhooks_requeued"] == 1  # and the rest of the sweep still ran
    assert WebhookEvent.objects.get().status == "ignored"


def test_the_sweep_takes_up_failed_events_only_once_their_retries_have_lapsed(payment: Payment):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()

    def failed(event_id: str, last_attempt_at) -> int:  # type: ignore[no-untyped-def]
        stored = WebhookEvent.objects.create(
            provider="test", event_id=event_id, type="payment.succeeded",
            payload=event(payment.pk, event_id=event_id), status=WebhookEvent.Status.FAILED,
            attempts=2, last_attempt_at=last_attempt_at,
        )  # fmt: skip
        WebhookEvent.objects.filter(pk=stored.pk).update(received_at=now - timedelta(hours=5))
        return stored.pk

    lapsed = failed("evt_lapsed", now - timedelta(hours=3))
    retrying = failed("evt_retrying", now - timedelta(minutes=30))  # its own retry is due
    from_before = failed("evt_old", None)  # stored before last_attempt_at existed

    assert set(webhooks.stuck_event_ids()) == {lapsed, from_before}
    assert retrying not in webhooks.stuck_event_ids()
