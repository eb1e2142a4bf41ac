import logging
import socket
from uuid import UUID

from celery import Task, shared_task
from django.utils import timezone

from core import emails, idempotency
from core.models import WorkerCheck

logger = logging.getLogger(__name__)


@shared_task(bind=True)
def complete_worker_check(self: Task, *, check_id: str) -> None:
    worker = self.request.hostname or socket.gethostname()
    updated = WorkerCheck.objects.filter(pk=UUID(check_id), completed_at__isnull=True).update(
        completed_at=timezone.now(), worker=worker
    )
    logger.info("worker check %s completed (%d row)", check_id, updated)


@shared_task
def purge_expired_idempotency_keys() -> int:
    deleted = idempotency.purge_expired_idempotency_keys()
    logger.info("purged %d expired idempotency keys", deleted)
    return deleted


@shared_task(
    autoretry_for=(OSError,),  # SMTP connection problems: retry with backoff
    retry_backoff=30,
    retry_kwargs={"max_retries": 5},
)
def send_email_task(*, to: str, template: str, context: dict) -> None:
    emails.send_email(to=to, template=template, context=context)
