"""The webhook inbox: verify, store once, process in a worker, retry, then dead-letter.

``receive_event`` runs in the request: the provider's signature over the raw body is checked
before anything is parsed or stored, then the event is inserted under a unique (provider, event
id), so a redelivery — even a concurrent one — finds the first row and is answered 200 without
being processed again. ``process_event`` runs in a Celery task after commit and is itself
idempotent: the payment state machine ignores what can't move a payment forward (a
``failed`` after a ``succeeded``, a second ``succeeded``).
"""

import contextlib
import logging
from collections.abc import Mapping
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from core import outbox
from payments.exceptions import PaymentClosed, PaymentDeclined
from payments.gateways import EventOutcome, GatewayResult, get_gateway, sanitize
from payments.models import Payment, PaymentAttempt, WebhookEvent
from payments.services import confirm, create, settle

logger = logging.getLogger(__name__)


class PaymentNotFound(Exception):
    """The event names a payment we don't have (yet): retried, then a dead letter."""


def receive_event(
    *, provider: str, body: bytes, headers: Mapping[str, str]
) -> tuple[WebhookEvent, bool]:
    """Returns (event, created). Raises InvalidWebhook (400) and stores nothing if the
    signature, its timestamp or the body don't check out."""
    verified = get_gateway(provider).verify_webhook(body, headers)
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                provider=provider,
                event_id=verified.event_id,
                type=verified.type,
                # Stored without secrets (a Stripe intent carries its client_secret).
                payload=sanitize(verified.payload),
            )
            _enqueue(event.pk)
    except IntegrityError:
        existing = WebhookEvent.objects.get(provider=provider, event_id=verified.event_id)
        logger.info("duplicate webhook", extra={"provider": provider, "webhook_id": existing.pk})
        return existing, False
    logger.info(
        "webhook received",
        extra={"provider": provider, "webhook_id": event.pk, "event_type": event.type},
    )
    return event, True


def _enqueue(event_pk: int) -> None:
    from payments import tasks

    # The event is stored either way, and the beat sweep picks up what was never run.
    outbox.enqueue(tasks.process_webhook_event_task, {"event_pk": event_pk})


def process_event(*, event_pk: int) -> str:
    """Apply a stored event. Returns what happened, also written on the event. Raises (for the
    task to retry) if the payment isn't found or the provider isn't answering."""
    event = WebhookEvent.objects.get(pk=event_pk)
    if event.status in (WebhookEvent.Status.PROCESSED, WebhookEvent.Status.IGNORED):
        return event.result
    WebhookEvent.objects.filter(pk=event.pk).update(
        attempts=F("attempts") + 1, last_attempt_at=timezone.now()
    )
    gateway = get_gateway(event.provider)
    outcome = gateway.interpret_event(event.type, event.payload)
    if not outcome.outcome:
        return _finish(event, WebhookEvent.Status.IGNORED, f"{event.type}: nothing to do")
    payment = _find_payment(event.provider, outcome)
    WebhookEvent.objects.filter(pk=event.pk).update(payment=payment)
    before = payment.status
    result = GatewayResult(
        status=outcome.outcome,
        capture_reference=outcome.capture_reference,
        error_code=outcome.error_code,
        message=outcome.message,
        response={"event": event.event_id, "type": event.type},
    )
    action = PaymentAttempt.Action.WEBHOOK
    if outcome.outcome == "succeeded":
        payment = settle.record_success(
            payment_id=payment.pk,
            capture_reference=outcome.capture_reference,
            result=result,
            action=action,
        )
    elif outcome.outcome == "failed":
        payment = settle.record_failure(
            payment_id=payment.pk,
            error_code=outcome.error_code or "failed",
            message=outcome.message,
            result=result,
            action=action,
            terminal=outcome.terminal,
        )
    elif outcome.outcome == "cancelled":
        settle.record_cancelled(payment_id=payment.pk, action=action, result=result)
    elif outcome.outcome == "approved":
        # PayPal: the buyer approved; the capture is ours to make.
        # Only while the checkout still waits for this money: capturing for a checkout paid
        # otherwise, or past its window, would take money only to give it back (less fees).
        if payment.status in Payment.OPEN and create.payable(payment.checkout_id):
            # A decline is recorded on the payment. A confirm in flight (PaymentInProgress) is
            # raised: the task retries, in case that confirm fails and the capture is ours.
            with contextlib.suppress(PaymentDeclined, PaymentClosed):
                confirm.charge(payment=payment, data={})
    elif outcome.outcome == "requires_action":
        confirm.apply_result(payment_id=payment.pk, result=result, action=action)
    payment.refresh_from_db(fields=["status"])
    if payment.status == before:
        return _finish(
            event, WebhookEvent.Status.IGNORED, f"payment {payment.pk} stays {payment.status}"
        )
    return _finish(
        event, WebhookEvent.Status.PROCESSED, f"payment {payment.pk}: {before} → {payment.status}"
    )


def _find_payment(provider: str, outcome: EventOutcome) -> Payment:
    payments = Payment.objects.filter(gateway=provider)
    if outcome.payment_id is not None:
        payment = payments.filter(pk=outcome.payment_id).first()
    else:
        payment = payments.filter(provider_reference=outcome.provider_reference).first()
    if payment is None:
        raise PaymentNotFound(
            f"no {provider} payment {outcome.payment_id or outcome.provider_reference!r}"
        )
    return payment


def _finish(event: WebhookEvent, status: str, result: str) -> str:
    WebhookEvent.objects.filter(pk=event.pk).update(
        status=status, result=result[:255], last_error="", processed_at=timezone.now()
    )
    logger.info("webhook processed", extra={"webhook_id": event.pk, "result": result})
    return result


def attempts(*, event_pk: int) -> int:
    return WebhookEvent.objects.filter(pk=event_pk).values_list("attempts", flat=True).first() or 0


def record_failure(*, event_pk: int, error: str, dead: bool) -> None:
    WebhookEvent.objects.filter(pk=event_pk).update(
        status=WebhookEvent.Status.DEAD if dead else WebhookEvent.Status.FAILED,
        last_error=error[:2000],
    )


def replay_event(*, event: WebhookEvent) -> None:
    """Staff's second chance for a dead letter (or any event): process it again from the inbox.
    The state machine makes a replay of an already applied event change nothing."""
    with transaction.atomic():
        WebhookEvent.objects.filter(pk=event.pk).update(
            status=WebhookEvent.Status.RECEIVED, attempts=0, last_error="", processed_at=None
        )
        _enqueue(event.pk)
    logger.info("webhook replayed", extra={"webhook_id": event.pk})


def stuck_event_ids(*, older_than_minutes: int = 10, limit: int = 200) -> list[int]:
    """Events a lost message left behind, for beat to queue again: received but never
    processed, or failed with no retry arriving (two hours is past the whole backoff)."""
    now = timezone.now()
    received = Q(status=WebhookEvent.Status.RECEIVED,
                 received_at__lt=now - timedelta(minutes=older_than_minutes))  # fmt: skip
    failed = Q(status=WebhookEvent.Status.FAILED, attempts__lt=settings.WEBHOOK_MAX_ATTEMPTS) & (
        Q(last_attempt_at__lt=now - timedelta(hours=2))
        | Q(last_attempt_at__isnull=True, received_at__lt=now - timedelta(hours=2))
    )
    return list(
        WebhookEvent.objects.filter(received | failed)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
