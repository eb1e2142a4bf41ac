from uuid import UUID

from django.shortcuts import get_object_or_404

from ops.models import WorkerCheck


def get_worker_check(*, check_id: UUID) -> WorkerCheck:
    return get_object_or_404(WorkerCheck, pk=check_id)
