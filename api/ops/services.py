from typing import Any

from django.db import transaction

from core import outbox
from ops.models import WorkerCheck
from ops.tasks import complete_worker_check


def request_worker_check(*, requested_by: Any) -> WorkerCheck:
    """Record a check and queue the task that completes it, once the record is committed."""
    with transaction.atomic():
        check = WorkerCheck.objects.create(requested_by=requested_by)
        outbox.enqueue(complete_worker_check, {"check_id": str(check.pk)})
    return check
