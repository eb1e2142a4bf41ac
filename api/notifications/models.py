from django.conf import settings
from django.db import models
from django.utils import timezone


class EventStream(models.Model):
    """A user's event numbering: ``last_seq`` is the seq of their newest event. Numbering a new
    event updates this row, which holds its lock until the transaction ends, so one user's
    events commit in seq order (a reader that has seen N never misses a lower seq later)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    last_seq = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"events of user {self.user_id} (last {self.last_seq})"


class UserEvent(models.Model):
    """One real-time event for one user, stored in the transaction that caused it, before the
    channel layer is told (API.md: every event is stored before it is pushed). Kept at least
    24 hours and at least the user's newest EVENTS_KEEP_LAST (1000), then pruned by beat."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    seq = models.PositiveBigIntegerField()
    type = models.CharField(max_length=64)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["user", "seq"]
        constraints = [
            # Also the index every read uses: a user's events after a seq.
            models.UniqueConstraint(fields=["user", "seq"], name="user_event_seq_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.type} #{self.seq} for user {self.user_id}"

    def as_message(self) -> dict:
        """What a client receives: ``{"type", "seq", "data"}``."""
        return {"type": self.type, "seq": self.seq, "data": self.data}


class Presence(models.Model):
    """A user with an open ``/ws/events/`` socket, as of ``seen_at`` (renewed by the server's
    heartbeat; older than PRESENCE_TTL_SECONDS means gone). In the database so the worker sees
    what the web processes saw, in every running mode."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"user {self.user_id} seen {self.seen_at:%H:%M:%S}"
