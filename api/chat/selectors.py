"""Reads of chat. Only participants see a conversation — its buyer and its store's owner —
and everything in it: for anyone else it doesn't exist (404)."""

from dataclasses import dataclass
from typing import Any

from django.db.models import Case, Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, When
from django.db.models.functions import Coalesce
from django.http import Http404

from accounts.models import User
from chat.models import Conversation, Message, Side


def _visible_to(user: User) -> Q:
    return Q(buyer=user) | Q(store__owner=user)


def _live_from(side: str) -> QuerySet[Message]:
    return Message.objects.filter(
        conversation=OuterRef("pk"),
        sender_side=side,
        deleted_at__isnull=True,
        hidden_at__isnull=True,
    )


def _count(messages: QuerySet[Message]) -> Any:
    return Coalesce(
        Subquery(
            messages.order_by().values("conversation").annotate(n=Count("id")).values("n"),
            output_field=IntegerField(),
        ),
        0,
    )


def unread_expression(user: User) -> Case:
    """The caller's unread messages in a conversation: the other side's live messages past the
    caller's side's read pointer."""
    as_buyer = _live_from(Side.STORE).filter(id__gt=OuterRef("buyer_read_up_to"))
    as_store = _live_from(Side.BUYER).filter(id__gt=OuterRef("store_read_up_to"))
    return Case(
        When(buyer=user, then=_count(as_buyer)),
        default=_count(as_store),
        output_field=IntegerField(),
    )


def list_conversations(*, user: User) -> QuerySet[Conversation]:
    """The caller's conversations as buyer and as a store's owner, newest activity first, with
    their unread counts and last messages: four queries whatever the page size."""
    last = Message.objects.filter(conversation=OuterRef("pk")).order_by("-id").values("id")[:1]
    return (
        Conversation.objects.filter(_visible_to(user))
        .select_related("store", "buyer", "product", "order")
        .annotate(unread_count=unread_expression(user), last_message_id=Subquery(last))
        .order_by("-updated_at", "-id")
    )


def attach_last_messages(conversations: list[Conversation]) -> list[Conversation]:
    ids = [c.last_message_id for c in conversations if c.last_message_id]  # type: ignore[attr-defined]
    messages = messages_with_files(Message.objects.filter(pk__in=ids)).in_bulk()
    for conversation in conversations:
        message = messages.get(conversation.last_message_id)  # type: ignore[attr-defined]
        if message is not None:
            message.conversation = conversation
        conversation.last_message = message  # type: ignore[attr-defined]
    return conversations


def get_conversation(*, user: User, conversation_id: int) -> Conversation:
    conversation = (
        Conversation.objects.filter(_visible_to(user), pk=conversation_id)
        .select_related("store", "buyer", "product", "order")
        .annotate(unread_count=unread_expression(user))
        .first()
    )
    if conversation is None:
        raise Http404
    return conversation


def get_conversation_to_send(*, user: User, conversation_id: int) -> Conversation:
    """The caller's conversation with only what sending needs (its store): no counts."""
    conversation = (
        Conversation.objects.filter(_visible_to(user), pk=conversation_id)
        .select_related("store")
        .first()
    )
    if conversation is None:
        raise Http404
    return conversation


def get_message(*, user: User, message_id: int) -> Message:
    message = (
        Message.objects.filter(pk=message_id)
        .filter(Q(conversation__buyer=user) | Q(conversation__store__owner=user))
        .select_related("conversation__store", "sender")
        .first()
    )
    if message is None:
        raise Http404
    return message


def messages_with_files(messages: QuerySet[Message]) -> QuerySet[Message]:
    return messages.select_related("sender").prefetch_related("attachments")


@dataclass
class MessagePage:
    results: list[Message]
    has_more: bool


def list_messages(
    *, conversation: Conversation, before: int | None, after: int | None, limit: int
) -> MessagePage:
    """A page by message id — newest first below ``before`` (or from the newest), oldest first
    above ``after``. Ids only grow, so a page never skips or repeats a message however many
    arrive meanwhile."""
    messages = messages_with_files(Message.objects.filter(conversation=conversation))
    if after is not None:
        page = list(messages.filter(id__gt=after).order_by("id")[: limit + 1])
    else:
        if before is not None:
            messages = messages.filter(id__lt=before)
        page = list(messages.order_by("-id")[: limit + 1])
    for message in page:
        message.conversation = conversation
    return MessagePage(results=page[:limit], has_more=len(page) > limit)


def unread_in(*, conversation_id: int, side: str) -> int:
    conversation = Conversation.objects.get(pk=conversation_id)
    other = Side.STORE if side == Side.BUYER else Side.BUYER
    return Message.objects.filter(
        conversation_id=conversation_id,
        sender_side=other,
        id__gt=conversation.read_up_to(side),
        deleted_at__isnull=True,
        hidden_at__isnull=True,
    ).count()


def unread_summary(*, user: User) -> dict[str, int]:
    """``{unread_count, conversations_with_unread}`` in one query."""
    totals = (
        Conversation.objects.filter(_visible_to(user))
        .annotate(unread=unread_expression(user))
        .aggregate(
            unread_count=Coalesce(Sum("unread"), 0),
            conversations_with_unread=Count("id", filter=Q(unread__gt=0)),
        )
    )
    return {
        "unread_count": totals["unread_count"],
        "conversations_with_unread": totals["conversations_with_unread"],
    }


def unread_messages(*, conversation_id: int, side: str) -> list[Message]:
    """What ``side`` hasn't read (for the offline email), oldest first."""
    conversation = Conversation.objects.get(pk=conversation_id)
    other = Side.STORE if side == Side.BUYER else Side.BUYER
    return list(
        Message.objects.filter(
            conversation_id=conversation_id,
            sender_side=other,
            id__gt=conversation.read_up_to(side),
            deleted_at__isnull=True,
            hidden_at__isnull=True,
        )
        .prefetch_related("attachments")
        .order_by("id")
    )


REPLY_WINDOW_DAYS = 30


def median_first_reply_seconds(*, store_id: int) -> tuple[int | None, int]:
    """How fast the store answers: over its conversations of the last 30 days whose buyer
    wrote, the median time from the buyer's first message to the store's first answer after
    it (unanswered ones don't count; they lower ``answered`` against ``asked``). Returns
    (median seconds or None, conversations answered)."""
    from datetime import timedelta
    from statistics import median

    from django.db.models import Min
    from django.utils import timezone

    since = timezone.now() - timedelta(days=REPLY_WINDOW_DAYS)
    firsts = dict(
        Message.objects.filter(
            conversation__store_id=store_id, sender_side=Side.BUYER, created_at__gte=since
        )
        .values("conversation")
        .annotate(first=Min("created_at"))
        .values_list("conversation", "first")
    )
    if not firsts:
        return None, 0
    answers = Message.objects.filter(
        conversation_id__in=list(firsts), sender_side=Side.STORE
    ).values_list("conversation_id", "created_at")
    first_answer: dict[int, Any] = {}
    for conversation_id, at in answers:
        if at >= firsts[conversation_id] and (
            conversation_id not in first_answer or at < first_answer[conversation_id]
        ):
            first_answer[conversation_id] = at
    delays = [(at - firsts[c]).total_seconds() for c, at in first_answer.items()]
    return (round(median(delays)) if delays else None), len(delays)
