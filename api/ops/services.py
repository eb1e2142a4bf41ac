from typing import Any

from django.db import transaction

from ops.models import WorkerCheck
from ops.tasks import complete_worker_check


def request_worker_check(*, requested_by: Any) -> WorkerCheck:
    """Record a check and queue the task that completes it, once the record is committed."""
    with transaction.atomic():
        check = WorkerCheck.objects.create(requested_by=requested_by)
        complete_worker_check.delay_on_commit(check_id=str(check.pk))  # type: ignore[attr-defined]
    return check
