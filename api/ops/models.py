import uuid

from django.conf import settings
from django.db import models


class WorkerCheck(models.Model):
    """A round trip through the broker: created by a web request, completed by a Celery worker.

    Lets operators (and the integration tests) prove that queued work really runs.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"worker check {self.id}"

    @property
    def is_completed(self) -> bool:
        return self.completed_at is not None
