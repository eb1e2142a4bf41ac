import uuid
from typing import ClassVar

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone


class TimeStampedModel(models.Model):
    """Base for the project's models: creation and last-change times, set by the database layer."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class IdempotencyKey(models.Model):
    """One client retry key and, once the first request finished, its stored response.

    Keys are scoped to the caller (a user never sees another user's stored response) and to the
    endpoint's method and path; ``fingerprint`` hashes the request body so reusing a key for a
    different request is detected.
    """

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed (the same request may run again)"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    locked_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"


class StateMachine:
    """For models with a ``status`` and their allowed moves beside the enum, in ``TRANSITIONS``
    (from → set of to). Services move a row only through ``move_to``, after re-reading it under
    lock, so an illegal move raises InvalidTransition instead of being written."""

    TRANSITIONS: ClassVar[dict[str, set[str]]]
    status: str

    def can_move_to(self, to_status: str) -> bool:
        return to_status in self.TRANSITIONS.get(self.status, set())

    def move_to(self, to_status: str) -> str:
        """Set the new status (unsaved); returns the one it had. Raises InvalidTransition."""
        from core.exceptions import InvalidTransition

        if not self.can_move_to(to_status):
            raise InvalidTransition(
                f"A {type(self).__name__.lower()} that is {self.status} can't become {to_status}.",
                details={"from": self.status, "to": to_status},
            )
        was, self.status = self.status, to_status
        return was

    @classmethod
    def statuses_that_can_move_to(cls, to_status: str) -> list[str]:
        """For set-based moves: ``.filter(status__in=...)`` leaves every other row alone."""
        return [status for status, targets in cls.TRANSITIONS.items() if to_status in targets]


class OutboxMessage(models.Model):
    """A Celery task written in the same transaction as the change that calls for it
    (``core.outbox``): handed to the broker after commit, again by the relay if the broker was
    down or lost it, and deleted once a worker has run it."""

    # Made by the writer, not the database: a batch is inserted in one statement, no RETURNING.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    task = models.CharField(max_length=200)
    kwargs = models.JSONField(encoder=DjangoJSONEncoder)
    eta = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)  # last handed to the broker
    publish_attempts = models.PositiveIntegerField(default=0)
    claimed_by = models.CharField(max_length=64, blank=True)  # the Celery task id running it
    started_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["published_at", "created_at"], name="outbox_due"),
        ]

    def __str__(self) -> str:
        return f"{self.task} #{self.pk}"
