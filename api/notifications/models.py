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


# --- email and in-app notifications (docs/notifications.md) --------------------------------------


class Language(models.TextChoices):
    ARABIC = "ar", "العربية"
    ENGLISH = "en", "English"


class Asset(models.Model):
    """A file staff upload for templates: a stylesheet (inlined into the HTML), an image (sent as
    a ``cid:`` part, referenced as ``cid:<name>``) or an attachment (sent with every email of
    the templates that use it)."""

    class Kind(models.TextChoices):
        STYLE = "style", "stylesheet"
        IMAGE = "image", "image"
        ATTACHMENT = "attachment", "attachment"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=100, help_text="The file name; images are cid:<name>.")
    file = models.FileField(upload_to="notifications/assets/%Y/%m/")
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "name", "id"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.name}"


class Template(models.Model):
    """One kind's email in one language. A kind with no row in the recipient's language uses
    its Arabic row, then the file templates the code ships (``emails/<kind>.*``)."""

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=64)
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.ARABIC)
    subject = models.CharField(
        max_length=1000, help_text="A template: it may branch on a variable."
    )
    html = models.TextField()
    text = models.TextField(blank=True, help_text="Left empty, it is derived from the HTML.")
    styles = models.ManyToManyField(Asset, blank=True, related_name="+")
    images = models.ManyToManyField(Asset, blank=True, related_name="+")
    attachments = models.ManyToManyField(Asset, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "language", "name"]
        indexes = [models.Index(fields=["kind", "language"], name="template_kind_language")]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind}, {self.language})"


class Campaign(models.Model):
    """A marketing email to a segment's subscribed users, sent in batches at a rate. Its
    counters are read from its dispatches, one row per recipient (unique), so they always
    equal them and a resumed campaign never sends anyone twice."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled"
        SENDING = "sending"
        PAUSED = "paused"
        CANCELLED = "cancelled"
        FINISHED = "finished"

    name = models.CharField(max_length=200)
    template = models.ForeignKey(Template, on_delete=models.PROTECT, related_name="+")
    filters = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    scheduled_at = models.DateTimeField()
    rate_per_minute = models.PositiveIntegerField(default=600)
    total = models.PositiveIntegerField(default=0)
    cursor = models.PositiveBigIntegerField(default=0, help_text="Last user id queued.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-scheduled_at", "-id"]
        indexes = [models.Index(fields=["status", "scheduled_at"], name="campaign_due")]

    def __str__(self) -> str:
        return self.name


class Dispatch(models.Model):
    """One logical notification to one recipient: the dedupe ledger (``key`` is unique, so a
    retried or double-clicked trigger finds its row and does nothing) and the email's state.
    The email itself — rendered content, retries, attempts log — is django-post-office's
    ``Email`` and ``Log``."""

    class State(models.TextChoices):
        QUEUED = "queued"  # email waiting (or scheduled for a retry)
        SENDING = "sending"  # claimed by a worker until claimed_until
        SENT = "sent"
        DEAD = "dead"  # retries exhausted, or the template can't render: resend from the admin
        EXPIRED = "expired"  # not sent: its content (a code) expired first
        SKIPPED = "skipped"  # no email: in-app only, preference off, suppressed, no address

    key = models.CharField(max_length=191, unique=True)
    kind = models.CharField(max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    address = models.EmailField(blank=True)
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.ARABIC)
    context = models.JSONField(default=dict, blank=True)
    template = models.ForeignKey(
        Template, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="dispatches"
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    # post_office's scale (low 0 … now 3): the sweep sends the most urgent first.
    priority = models.PositiveSmallIntegerField(default=1)
    skip_reason = models.CharField(max_length=32, blank=True)
    email = models.OneToOneField(
        "post_office.Email", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    esp_message_id = models.CharField(max_length=255, blank=True, db_index=True)
    delivery_status = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "dispatches"
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="dispatch_due"),
            models.Index(fields=["campaign", "state"], name="dispatch_campaign_state"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.address or self.user_id} ({self.state})"


class Notification(models.Model):
    """An in-app notification: the notification centre's rows, announced on the user's event
    log (``notification.created``) in the transaction that wrote them."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    kind = models.CharField(max_length=64)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["user", "-id"], name="notification_user_recent"),
            models.Index(fields=["user", "read_at"], name="notification_user_unread"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for user {self.user_id}"


class Preference(models.Model):
    """A user's choice for one kind; no row means the kind's defaults. Mandatory kinds
    (security, order, payment) are always on, whatever a row says."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=64)
    email = models.BooleanField(default=True)
    in_app = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="preference_user_kind_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind} for user {self.user_id}"


class Suppression(models.Model):
    """An address no marketing email goes to: a hard bounce, a complaint, or staff's choice."""

    class Reason(models.TextChoices):
        BOUNCED = "bounced", "hard bounce"
        COMPLAINED = "complained", "spam complaint"
        MANUAL = "manual", "added by staff"

    address = models.EmailField(unique=True)
    reason = models.CharField(max_length=16, choices=Reason.choices)
    detail = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.address} ({self.reason})"


class TrackingEvent(models.Model):
    """A provider's delivery, bounce or complaint report, stored once per (provider, event id):
    a replayed webhook finds its row and changes nothing."""

    provider = models.CharField(max_length=32)
    event_id = models.CharField(max_length=191)
    event_type = models.CharField(max_length=32)
    message_id = models.CharField(max_length=255, blank=True)
    recipient = models.EmailField(blank=True)
    reject_reason = models.CharField(max_length=32, blank=True)
    occurred_at = models.DateTimeField(null=True, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "event_id"], name="tracking_event_once_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_type} {self.recipient}"


class Subscriber(models.Model):
    """A newsletter address: pending until its owner follows the confirmation link (double
    opt-in), then subscribed until a one-click unsubscribe."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SUBSCRIBED = "subscribed"
        UNSUBSCRIBED = "unsubscribed"

    address = models.EmailField(unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.ARABIC)
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_from = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.address} ({self.status})"
