"""Payment work that runs in the worker: the webhook inbox, refunds at the provider, and closing
payments whose window has passed (an ETA task per payment plus a beat sweep, like checkouts)."""

import logging
import time

from celery import Task, shared_task
from django.conf import settings

from payments.exceptions import PaymentGatewayError
from payments.services import expiry, refunds, webhooks

logger = logging.getLogger(__name__)


def _backoff(retries: int) -> int:
    """30 s, 1 min, 2 min, 4 min ... capped at an hour."""
    return int(min(30 * 2**retries, 3600))


@shared_task(bind=True, max_retries=None)
def process_webhook_event_task(self: Task, *, event_pk: int) -> str | None:
    """Apply one inbox event. A failure is retried with backoff up to WEBHOOK_MAX_ATTEMPTS
    times, then the event is a dead letter (admin: replay)."""
    try:
        return webhooks.process_event(event_pk=event_pk)
    except Exception as exc:
        # The event counts its own tries (the sweep re-queuing it starts no new budget; a
        # replay by staff does), so whichever chain fails last dead-letters it.
        dead = webhooks.attempts(event_pk=event_pk) >= settings.WEBHOOK_MAX_ATTEMPTS
        webhooks.record_failure(event_pk=event_pk, error=f"{type(exc).__name__}: {exc}", dead=dead)
        if dead:
            logger.error("webhook dead-lettered", extra={"webhook_id": event_pk},
                         exc_info=exc)  # fmt: skip
            return None
        logger.warning("webhook failed, will retry", extra={"webhook_id": event_pk})
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


@shared_task(bind=True, max_retries=None)
def process_refund_task(self: Task, *, refund_id: int) -> None:
    """Give a pending refund's money back; the provider not answering is retried with backoff
    (the refund stays pending, visible in the admin) up to REFUND_MAX_ATTEMPTS times."""
    try:
        refunds.process_refund(refund_id=refund_id)
    except PaymentGatewayError as exc:
        if self.request.retries + 1 >= settings.REFUND_MAX_ATTEMPTS:
            logger.error("refund still pending after retries", extra={"refund_id": refund_id})
            return
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


@shared_task(
    autoretry_for=(PaymentGatewayError,), retry_backoff=30, retry_kwargs={"max_retries": 5}
)
def expire_payment_task(*, payment_id: int) -> bool:
    """Scheduled at the payment's deadline: cancel it at the provider if still open."""
    return expiry.expire_payment(payment_id=payment_id)


SWEEP_SECONDS = 45  # beat runs the sweep every minute: one run never overlaps the next


@shared_task
def payments_sweep_task() -> dict[str, int]:
    """Beat, every minute: open payments past their window or whose checkout was settled
    otherwise (a slow provider can't hold the run past SWEEP_SECONDS), refunds stalled pending,
    and inbox events a lost message left unprocessed."""
    started = time.monotonic()
    expired = 0
    for payment_id in expiry.stale_payment_ids():
        if time.monotonic() - started > SWEEP_SECONDS:
            break
        try:
            expired += expiry.expire_payment(payment_id=payment_id)
        except Exception:  # one payment's trouble must not stop the sweep (refunds, webhooks)
            logger.exception("could not close payment", extra={"payment_id": payment_id})
    stalled = refunds.stalled_refund_ids()
    for refund_id in stalled:
        process_refund_task.delay(refund_id=refund_id)
    stuck = webhooks.stuck_event_ids()
    for event_pk in stuck:
        process_webhook_event_task.delay(event_pk=event_pk)
    return {
        "payments_cancelled": expired,
        "refunds_retried": len(stalled),
        "webhooks_requeued": len(stuck),
    }
