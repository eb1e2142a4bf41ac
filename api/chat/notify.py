"""The offline email: a message still unread CHAT_EMAIL_AFTER_MINUTES after it was sent, its
recipient not connected → one email per conversation listing every unread message, at most
every CHAT_EMAIL_EVERY_MINUTES and only when something arrived since the last one; never about
messages read or deleted meanwhile. Sent through
the notifications port (queued with the transaction that records it)."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import notify_user
from chat import selectors
from chat.models import Conversation, Side
from chat.serializers import display_name
from chat.services import store_members
from core import outbox
from notifications import presence

logger = logging.getLogger(__name__)


def email_unread(*, conversation_id: int, side: str) -> int:
    """Returns how many emails were queued."""
    with transaction.atomic():
        conversation = (
            Conversation.objects.select_for_update()
            .select_related("store", "buyer", "product", "order")
            .filter(pk=conversation_id)
            .first()
        )
        if conversation is None:
            return 0
        unread = selectors.unread_messages(conversation_id=conversation_id, side=side)
        emailed_up_to = (
            conversation.buyer_emailed_up_to
            if side == Side.BUYER
            else conversation.store_emailed_up_to
        )
        if not unread or unread[-1].pk <= emailed_up_to:
            return 0  # all read, or nothing new since the last email about them
        emailed_at = (
            conversation.buyer_emailed_at if side == Side.BUYER else conversation.store_emailed_at
        )
        every = timedelta(minutes=settings.CHAT_EMAIL_EVERY_MINUTES)
        now = timezone.now()
        if emailed_at is not None and now - emailed_at < every:
            # Not yet: look again when the half hour is up (still unread then → one email).
            # Eager mode (tests, no worker) can't wait: it would ask again at once, forever.
            if not settings.CELERY_TASK_ALWAYS_EAGER:
                from chat.tasks import email_unread_task

                outbox.enqueue(
                    email_unread_task,
                    {"conversation_id": conversation_id, "side": side},
                    eta=emailed_at + every,
                )
            return 0
        if side == Side.BUYER:
            recipients = [conversation.buyer]
            sender = conversation.store.name
        else:
            recipients = list(User.objects.filter(pk__in=store_members(conversation.store)))
            sender = display_name(conversation.buyer)
        online = presence.present(r.pk for r in recipients)
        recipients = [r for r in recipients if r.pk not in online and r.email]
        if not recipients:
            return 0
        about = (
            conversation.product.name
            if conversation.product
            else f"order #{conversation.order.pk}"
            if conversation.order
            else ""
        )
        messages = [
            {
                "body": message.body[:500],
                "files": len(message.attachments.all()),
                "sent_at": f"{message.created_at:%Y-%m-%d %H:%M} UTC",
            }
            for message in unread
        ]
        for recipient in recipients:
            notify_user(
                recipient,
                "chat_unread",
                key=f"chat_unread:{conversation_id}:{side}:{unread[-1].pk}:{recipient.pk}",
                context={
                    "conversation_id": conversation_id,
                    "first_name": recipient.first_name,
                    "sender": sender,
                    "about": about,
                    "count": len(messages),
                    "messages": messages,
                },
            )
        prefix = "buyer" if side == Side.BUYER else "store"
        Conversation.objects.filter(pk=conversation_id).update(
            **{f"{prefix}_emailed_at": now, f"{prefix}_emailed_up_to": unread[-1].pk}
        )
    logger.info("chat unread email queued", extra={"conversation_id": conversation_id})
    return len(recipients)
