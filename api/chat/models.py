"""Conversations between a buyer and a store, their messages, read pointers, moderation.

A conversation has two sides: the buyer, and the store (whoever owns it reads and answers its
inbox). Each side has a read pointer (the id of the newest message it has read) that only moves
forward; unread = the other side's live messages past it. Messages are kept, never erased: an
edit keeps the previous text (``MessageEdit``, for moderators), a delete leaves a tombstone, and
staff can hide one.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Side(models.TextChoices):
    BUYER = "buyer", "Buyer"
    STORE = "store", "Store"


class Conversation(models.Model):
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="chat_conversations"
    )
    store = models.ForeignKey(
        "stores.Store", on_delete=models.PROTECT, related_name="chat_conversations"
    )
    product = models.ForeignKey(
        "products.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # "", "product:<id>" or "order:<id>": one conversation per buyer, store and context.
    context = models.CharField(max_length=40, blank=True, editable=False)
    buyer_read_up_to = models.PositiveBigIntegerField(default=0)
    store_read_up_to = models.PositiveBigIntegerField(default=0)
    blocked_by_buyer_at = models.DateTimeField(null=True, blank=True)
    blocked_by_store_at = models.DateTimeField(null=True, blank=True)
    # When each side was last emailed about unread messages (at most every 30 minutes).
    buyer_emailed_at = models.DateTimeField(null=True, blank=True)
    store_emailed_at = models.DateTimeField(null=True, blank=True)
    # The newest message each side was emailed about: an email goes only when there is more.
    buyer_emailed_up_to = models.PositiveBigIntegerField(default=0)
    store_emailed_up_to = models.PositiveBigIntegerField(default=0)
    last_message_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["buyer", "store", "context"], name="chat_one_conversation_per_context"
            )
        ]
        indexes = [
            models.Index(fields=["buyer", "-updated_at"], name="chat_buyer_inbox"),
            models.Index(fields=["store", "-updated_at"], name="chat_store_inbox"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.buyer} ↔ {self.store}"  # admin lists select both

    def read_up_to(self, side: str) -> int:
        return self.buyer_read_up_to if side == Side.BUYER else self.store_read_up_to

    def blocked(self) -> bool:
        return self.blocked_by_buyer_at is not None or self.blocked_by_store_at is not None


class Message(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sender_side = models.CharField(max_length=5, choices=Side.choices)
    body = models.TextField(blank=True)
    # The client's id for a send, so a retry finds the first one. NULL when none was given
    # (NULLs never collide: MariaDB has no partial unique indexes).
    client_message_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    hidden_at = models.DateTimeField(null=True, blank=True, help_text="Hidden by staff.")
    # Contact details or links found in the text: for staff to look at, not blocked.
    flags = models.CharField(max_length=60, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "sender", "client_message_id"],
                name="chat_client_message_once",
            )
        ]
        indexes = [
            models.Index(fields=["conversation", "id"], name="chat_message_page"),
            models.Index(fields=["flags", "id"], name="chat_message_flagged"),
        ]

    def __str__(self) -> str:
        return f"message {self.pk}"

    @property
    def removed(self) -> bool:
        """Deleted by its sender or hidden by staff: shown as a tombstone."""
        return self.deleted_at is not None or self.hidden_at is not None


class MessageEdit(models.Model):
    """The text a message had before an edit (moderators read it)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="edits")
    body = models.TextField()
    replaced_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"edit of {self.message_id}"


def attachment_path(instance: "Attachment", filename: str) -> str:
    # Never the sender's name on disk: a random name, served only through signed URLs.
    import uuid

    extension = {"image/webp": "webp", "application/pdf": "pdf"}.get(instance.content_type, "bin")
    return f"chat/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{extension}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path)
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()

    def __str__(self) -> str:
        return self.name


class Report(models.Model):
    class Reason(models.TextChoices):
        SPAM = "spam", "Spam"
        ABUSE = "abuse", "Abuse"
        SCAM = "scam", "Scam"
        OTHER = "other", "Other"

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=10, choices=Reason.choices)
    note = models.TextField(blank=True, max_length=1000)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "reporter"], name="chat_report_once")
        ]
        indexes = [models.Index(fields=["resolved_at", "created_at"], name="chat_report_queue")]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} report on message {self.message_id}"
