import logging
import socket
from uuid import UUID

from celery import Task, shared_task
from django.utils import timezone

from core import idempotency
from notifications.events import push_to_user
from ops.models import WorkerCheck

logger = logging.getLogger(__name__)


@shared_task(bind=True)
def complete_worker_check(self: Task, *, check_id: str) -> None:
    worker = self.request.hostname or socket.gethostname()
    updated = WorkerCheck.objects.filter(pk=UUID(check_id), completed_at__isnull=True).update(
        completed_at=timezone.now(), worker=worker
    )
    logger.info("worker check %s completed (%d row)", check_id, updated)
    requested_by = (
        WorkerCheck.objects.filter(pk=UUID(check_id)).values_list("requested_by", flat=True).first()
    )
    if updated and requested_by:
        # Through the channel layer, so with Redis it reaches the web process's sockets.
        push_to_user(requested_by, "ops.worker_check.completed", {"id": check_id, "worker": worker})


@shared_task
def purge_expired_idempotency_keys() -> int:
    deleted = idempotency.purge_expired_idempotency_keys()
    logger.info("purged %d expired idempotency keys", deleted)
    return deleted


# Compatibility note: before the ops app these tasks were "core.tasks.complete_worker_check" and
# "core.tasks.purge_expired_idempotency_keys"; messages queued under those names by a deployment
# being replaced still run. The aliases can go once no broker holds such a message.
@shared_task(name="core.tasks.complete_worker_check")
def complete_worker_check_previous_name(*, check_id: str) -> None:
    complete_worker_check.run(check_id=check_id)


@shared_task(name="core.tasks.purge_expired_idempotency_keys")
def purge_expired_idempotency_keys_previous_name() -> int:
    return purge_expired_idempotency_keys.run()
