"""Writes to chat. A message is saved first, then delivered: each change stores a ``chat.*``
event for every participant (the buyer and the store's owner) in the same transaction, and the
event log rings their sockets after commit — the sender's other tabs included.

Object access is the selectors' business (someone else's conversation is a 404 before a
service is called); services check what participants may do.
"""

import logging
import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import User
from chat import attachments as files
from chat import limits
from chat.exceptions import Blocked, EditWindowClosed, NotYourMessage
from chat.models import Attachment, Conversation, Message, MessageEdit, Report, Side
from core import outbox
from notifications import events
from orders.models import Order
from products.models import Product
from stores.models import Store

logger = logging.getLogger(__name__)

# What staff want to see: contact details and links, the usual way around a marketplace.
_FLAGS = {
    "phone": re.compile(r"(?:\+|00)?\d[\d\s().-]{7,}\d"),
    "email": re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"),
    "link": re.compile(r"(?:https?://|www\.)\S+|\b[\w-]+\.(?:com|net|org|io|sd|me|ly)\b", re.I),
}
_ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def flags_of(body: str) -> str:
    text = body.translate(_ARABIC_DIGITS)
    return ",".join(name for name, pattern in _FLAGS.items() if pattern.search(text))


def store_members(store: Store) -> list[int]:
    """Who reads and answers a store's inbox."""
    return [store.owner_id]


def side_of(conversation: Conversation, user: User) -> str:
    """The caller's side. Caller is a participant (the selectors checked)."""
    return Side.BUYER if conversation.buyer_id == user.pk else Side.STORE


def participants(conversation: Conversation) -> list[int]:
    return sorted({conversation.buyer_id, *store_members(conversation.store)})


def pair_blocked(*, buyer_id: int, store_id: int) -> bool:
    """A block stands between the buyer and the store, in any of their conversations: a
    block is between two parties, not one thread, so a new context doesn't get around it."""
    return (
        Conversation.objects.filter(buyer_id=buyer_id, store_id=store_id)
        .filter(Q(blocked_by_buyer_at__isnull=False) | Q(blocked_by_store_at__isnull=False))
        .exists()
    )


# --- conversations -------------------------------------------------------------------------


def start_conversation(
    *,
    buyer: User,
    store: Store,
    product: Product | None = None,
    order: Order | None = None,
    message: str = "",
    client_message_id: str = "",
) -> tuple[Conversation, bool]:
    """The buyer's conversation with ``store`` about ``product`` or ``order`` (or nothing in
    particular): the existing one, or a new one. Returns it and whether it was made. Raises
    ValidationError for a product or order that isn't the store's (or the buyer's), and
    Throttled past CHAT_CONVERSATIONS_PER_HOUR new conversations."""
    if buyer.pk in store_members(store):
        raise ValidationError({"store_id": ["This is your own store."]})
    if product is not None and product.store_id != store.pk:
        raise ValidationError({"product_id": ["Not a product of this store."]})
    if order is not None and (order.store_id != store.pk or order.buyer_id != buyer.pk):
        raise ValidationError({"order_id": ["Not one of your orders with this store."]})
    context = f"order:{order.pk}" if order else f"product:{product.pk}" if product else ""
    conversation = Conversation.objects.filter(buyer=buyer, store=store, context=context).first()
    if conversation is None and pair_blocked(buyer_id=buyer.pk, store_id=store.pk):
        raise Blocked()
    created = False
    # The conversation and its first message stand or fall together: a refused message
    # (blocked, too fast, a bad file) leaves no empty conversation behind.
    with transaction.atomic():
        if conversation is None:
            limits.take(f"new:{buyer.pk}", limit=settings.CHAT_CONVERSATIONS_PER_HOUR, window=3600)
            try:
                with transaction.atomic():
                    conversation = Conversation.objects.create(
                        buyer=buyer, store=store, product=product, order=order, context=context
                    )
                    created = True
            except IntegrityError:  # the same buyer opened it at the same moment
                conversation = Conversation.objects.get(buyer=buyer, store=store, context=context)
        conversation.store = store
        if message:
            send_message(
                conversation=conversation,
                sender=buyer,
                body=message,
                client_message_id=client_message_id,
            )
    return conversation, created


# --- messages --------------------------------------------------------------------------------


def _message_event(message: Message, files: Sequence[Attachment] | None = None) -> dict[str, Any]:
    from chat.serializers import message_data

    return message_data(message, files=files)


def _announce(conversation: Conversation, event_type: str, data: dict[str, Any]) -> None:
    events.push_to_users(participants(conversation), event_type, data)


def send_message(
    *,
    conversation: Conversation,
    sender: User,
    body: str,
    client_message_id: str = "",
    uploads: Sequence[UploadedFile] = (),
) -> tuple[Message, bool]:
    """Save a message, then deliver it. The same ``client_message_id`` again returns the first
    message (``False``: not created). Raises Blocked, ValidationError, Throttled."""
    body = body.strip()
    if client_message_id:
        existing = Message.objects.filter(
            conversation=conversation, sender=sender, client_message_id=client_message_id
        ).first()
        if existing is not None:
            return existing, False
    if not body and not uploads:
        raise ValidationError({"body": ["Write something or attach a file."]})
    if len(body) > settings.CHAT_MESSAGE_MAX_CHARS:
        raise ValidationError({"body": [f"At most {settings.CHAT_MESSAGE_MAX_CHARS} characters."]})
    if len(uploads) > settings.CHAT_ATTACHMENTS_PER_MESSAGE:
        raise ValidationError(
            {"attachments": [f"At most {settings.CHAT_ATTACHMENTS_PER_MESSAGE} files a message."]}
        )
    if pair_blocked(buyer_id=conversation.buyer_id, store_id=conversation.store_id):
        raise Blocked()
    limits.take(f"send:{sender.pk}", limit=settings.CHAT_MESSAGES_PER_MINUTE, window=60)
    prepared = [files.prepare(upload) for upload in uploads]  # before any row is written
    side = side_of(conversation, sender)
    stored: list[Attachment] = []
    try:
        with transaction.atomic():
            locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
            if locked.blocked():
                raise Blocked()
            message = Message.objects.create(
                conversation=locked,
                sender=sender,
                sender_side=side,
                body=body,
                client_message_id=client_message_id or None,
                flags=flags_of(body),
            )
            for item in prepared:
                stored.append(
                    Attachment.objects.create(
                        message=message,
                        file=item.content,
                        name=item.name,
                        content_type=item.content_type,
                        size=item.content.size,
                    )
                )
            pointer = "buyer_read_up_to" if side == Side.BUYER else "store_read_up_to"
            Conversation.objects.filter(pk=locked.pk).update(
                last_message_at=message.created_at,
                updated_at=message.created_at,
                **{pointer: message.pk},  # the sender has read what they wrote
            )
            message.conversation = locked
            locked.store = conversation.store
            _announce(locked, "chat.message", _message_event(message, files=stored))
            from chat.tasks import email_unread_task

            outbox.enqueue(
                email_unread_task,
                {
                    "conversation_id": locked.pk,
                    "side": Side.STORE if side == Side.BUYER else Side.BUYER,
                },
                eta=message.created_at + timedelta(minutes=settings.CHAT_EMAIL_AFTER_MINUTES),
            )
    except BaseException as exc:
        for attachment in stored:  # the rows rolled back; their files must go too
            attachment.file.delete(save=False)
        if not (isinstance(exc, IntegrityError) and client_message_id):
            raise
        # The same retry raced itself: the first one won.
        return (
            Message.objects.get(
                conversation=conversation, sender=sender, client_message_id=client_message_id
            ),
            False,
        )
    logger.info("chat message sent", extra={"conversation_id": conversation.pk, "side": side})
    return message, True


def _forget_text(message: Message) -> None:
    """A deleted or hidden message's earlier events stop carrying its text and files: a socket
    replaying its log sees the tombstone, not what was taken back."""
    events.rewrite_stored(
        user_ids=participants(message.conversation),
        types=("chat.message", "chat.message_updated"),
        data_id=message.pk,
        data=_message_event(message),
    )


def _own(message: Message, user: User) -> None:
    if message.sender_id != user.pk:
        raise NotYourMessage()


def edit_message(*, message: Message, user: User, body: str) -> Message:
    """Within CHAT_EDIT_MINUTES of sending; the previous text is kept for moderators. Raises
    NotYourMessage, EditWindowClosed, ValidationError."""
    _own(message, user)
    body = body.strip()
    if not body:
        raise ValidationError({"body": ["A message can't be edited to nothing: delete it."]})
    if len(body) > settings.CHAT_MESSAGE_MAX_CHARS:
        raise ValidationError({"body": [f"At most {settings.CHAT_MESSAGE_MAX_CHARS} characters."]})
    with transaction.atomic():
        locked = (
            Message.objects.select_for_update()
            .select_related("conversation__store")
            .get(pk=message.pk)
        )
        if locked.removed:
            raise EditWindowClosed("A deleted message can't be edited.")
        if timezone.now() - locked.created_at > timedelta(minutes=settings.CHAT_EDIT_MINUTES):
            raise EditWindowClosed()
        conversation = locked.conversation
        if pair_blocked(buyer_id=conversation.buyer_id, store_id=conversation.store_id):
            raise Blocked()  # an edit would be a new message by another door
        if body == locked.body:
            return locked
        MessageEdit.objects.create(message=locked, body=locked.body)
        locked.body, locked.edited_at, locked.flags = body, timezone.now(), flags_of(body)
        locked.save(update_fields=["body", "edited_at", "flags"])
        _announce(locked.conversation, "chat.message_updated", _message_event(locked))
    return locked


def delete_message(*, message: Message, user: User) -> Message:
    """A tombstone: the message stays in the history as deleted, without its text or files."""
    _own(message, user)
    with transaction.atomic():
        locked = (
            Message.objects.select_for_update()
            .select_related("conversation__store")
            .get(pk=message.pk)
        )
        if locked.deleted_at is None:
            locked.deleted_at = timezone.now()
            locked.save(update_fields=["deleted_at"])
            _forget_text(locked)
            _announce(locked.conversation, "chat.message_updated", _message_event(locked))
    return locked


def hide_message(*, message: Message) -> Message:
    """Staff: the message becomes a tombstone for both sides (its text stays for staff)."""
    with transaction.atomic():
        locked = (
            Message.objects.select_for_update()
            .select_related("conversation__store")
            .get(pk=message.pk)
        )
        if locked.hidden_at is None:
            locked.hidden_at = timezone.now()
            locked.save(update_fields=["hidden_at"])
            Report.objects.filter(message=locked, resolved_at__isnull=True).update(
                resolved_at=locked.hidden_at
            )
            _forget_text(locked)
            _announce(locked.conversation, "chat.message_updated", _message_event(locked))
    return locked


# --- read state ------------------------------------------------------------------------------


def mark_read(*, conversation: Conversation, user: User, up_to_message_id: int) -> int:
    """Move the caller's side's read pointer forward to ``up_to_message_id`` (never back).
    Returns the side's unread count. Raises ValidationError for a message of another
    conversation."""
    from chat.selectors import unread_in

    if not Message.objects.filter(pk=up_to_message_id, conversation=conversation).exists():
        raise ValidationError({"up_to_message_id": ["Not a message of this conversation."]})
    side = side_of(conversation, user)
    pointer = "buyer_read_up_to" if side == Side.BUYER else "store_read_up_to"
    with transaction.atomic():
        moved = Conversation.objects.filter(
            pk=conversation.pk, **{f"{pointer}__lt": up_to_message_id}
        ).update(**{pointer: up_to_message_id})
        if moved:
            _announce(
                conversation,
                "chat.read",
                {
                    "conversation_id": conversation.pk,
                    "reader_role": side,
                    "up_to_message_id": up_to_message_id,
                },
            )
    return unread_in(conversation_id=conversation.pk, side=side)


# --- moderation ------------------------------------------------------------------------------


def report_message(*, message: Message, user: User, reason: str, note: str = "") -> Report:
    """Into the staff's queue (the admin). A second report by the same person updates the
    first."""
    report, _ = Report.objects.update_or_create(
        message=message, reporter=user, defaults={"reason": reason, "note": note[:1000]}
    )
    logger.info("chat message reported", extra={"message_id": message.pk, "reason": reason})
    return report


def set_blocked(*, conversation: Conversation, user: User, blocked: bool) -> Conversation:
    """Block (or unblock) the other side: no new messages either way while a block stands; the
    history stays readable."""
    side = side_of(conversation, user)
    field = "blocked_by_buyer_at" if side == Side.BUYER else "blocked_by_store_at"
    value = timezone.now() if blocked else None
    Conversation.objects.filter(pk=conversation.pk).filter(
        Q(**{f"{field}__isnull": True}) if blocked else Q(**{f"{field}__isnull": False})
    ).update(**{field: value})
    conversation.refresh_from_db()
    return conversation


def dismiss_reports(*, reports: QuerySet[Report]) -> int:
    """Staff looked and found nothing to do."""
    return reports.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())
