import logging

from celery import shared_task
from django.db import DatabaseError

from orders.services import window

logger = logging.getLogger(__name__)


@shared_task(
    acks_late=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=5,
    retry_kwargs={"max_retries": 5},
)
def follow_up_checkout_task(*, checkout_id: int) -> bool:
    """The one message a placed checkout queues: its timers, its notification and email. Runs
    once per checkout however often it is delivered."""
    return window.follow_up_checkout(checkout_id=checkout_id)


@shared_task
def expire_checkout_task(*, checkout_id: int) -> bool:
    """Scheduled at the payment deadline. Does nothing if the checkout was paid meanwhile."""
    return window.expire_checkout(checkout_id=checkout_id)


@shared_task
def expire_due_checkouts_task() -> int:
    """Beat, every minute: whatever the ETA tasks missed (a worker was down, say)."""
    return window.expire_due_checkouts()


@shared_task(acks_late=True, autoretry_for=(DatabaseError,), retry_backoff=5,
             retry_kwargs={"max_retries": 5})  # fmt: skip
def warn_checkout_expiring_task(*, checkout_id: int) -> bool:
    """Five minutes before the deadline: tell the buyer and set the expiry task at the deadline,
    unless the checkout is settled already."""
    return window.warn_and_set_expiry(checkout_id=checkout_id)
