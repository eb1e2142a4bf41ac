"""Chat's shapes (API.md "Chat"). The store speaks as the store (its id and name), never as
its owner's account; the buyer appears by first name and initial — no email, no phone."""

from collections.abc import Sequence
from typing import Any

from rest_framework import serializers

from accounts.models import User
from chat import attachments
from chat.models import Attachment, Conversation, Message, Report, Side
from core.serializers import QuerySerializer


def display_name(user: User) -> str:
    first, last = user.first_name.strip(), user.last_name.strip()
    if first:
        return f"{first} {last[0]}." if last else first
    return "Customer"


def avatar_url(user: User) -> str | None:
    return user.avatar.url if user.avatar else None


def message_data(message: Message, *, files: Sequence[Attachment] | None = None) -> dict[str, Any]:
    """A message as participants see it (the API's and the ``chat.*`` events' shape).
    ``files``: its attachments when the caller has them in hand (a message just written)."""
    conversation = message.conversation
    if message.sender_side == Side.STORE:
        sender = {"id": conversation.store_id, "display_name": conversation.store.name}
    else:
        sender = {"id": message.sender_id, "display_name": display_name(message.sender)}
    removed = message.removed
    return {
        "id": message.pk,
        "conversation_id": message.conversation_id,
        "sender": {**sender, "role": message.sender_side},
        "body": None if removed else message.body,
        "attachments": []
        if removed
        else [
            {
                "id": a.pk,
                "name": a.name,
                "content_type": a.content_type,
                "size": a.size,
                "url": attachments.signed_url(a.pk),
            }
            for a in (message.attachments.all() if files is None else files)
        ],
        "client_message_id": message.client_message_id or None,
        "created_at": message.created_at,
        "edited_at": message.edited_at,
        "deleted": removed,
    }


class ChatSenderSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="the buyer's user id, or the store's id")
    display_name = serializers.CharField()
    role = serializers.ChoiceField(choices=["buyer", "store"])


class ChatAttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    url = serializers.CharField(help_text="signed; works for CHAT_ATTACHMENT_URL_SECONDS (10 min)")


class MessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    conversation_id = serializers.IntegerField()
    sender = ChatSenderSerializer()
    body = serializers.CharField(allow_null=True, help_text="null once deleted or hidden")
    attachments = ChatAttachmentSerializer(many=True)
    client_message_id = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    edited_at = serializers.DateTimeField(allow_null=True)
    deleted = serializers.BooleanField()

    def to_representation(self, instance: Any) -> Any:
        # A Message, or message_data's answer already made for it.
        data = instance if isinstance(instance, dict) else message_data(instance)
        return super().to_representation(data)


class ChatStoreSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ChatBuyerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()
    avatar = serializers.CharField(allow_null=True)


class ChatProductSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ChatOrderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()


class ConversationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    store = ChatStoreSerializer()
    buyer = ChatBuyerSerializer()
    product = ChatProductSerializer(allow_null=True)
    order = ChatOrderSerializer(allow_null=True)
    last_message = MessageSerializer(allow_null=True)
    unread_count = serializers.IntegerField()
    blocked = serializers.BooleanField(help_text="either side blocked the other: no new messages")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def to_representation(self, instance: Conversation) -> Any:
        buyer = instance.buyer
        data = {
            "id": instance.pk,
            "store": {"id": instance.store_id, "name": instance.store.name},
            "buyer": {
                "id": buyer.pk,
                "display_name": display_name(buyer),
                "avatar": avatar_url(buyer),
            },
            "product": {"id": instance.product.pk, "name": instance.product.name}
            if instance.product
            else None,
            "order": {"id": instance.order.pk, "status": instance.order.status}
            if instance.order
            else None,
            "last_message": getattr(instance, "last_message", None),
            "unread_count": getattr(instance, "unread_count", 0),
            "blocked": instance.blocked(),
            "created_at": instance.created_at,
            "updated_at": instance.updated_at,
        }
        return super().to_representation(data)


class ConversationCreateSerializer(serializers.Serializer):
    store_id = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    product_id = serializers.IntegerField(min_value=1, max_value=2**31 - 1, required=False)
    order_id = serializers.IntegerField(min_value=1, max_value=2**31 - 1, required=False)
    message = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    client_message_id = serializers.CharField(required=False, allow_blank=True, max_length=64)

    def validate(self, attrs: dict) -> dict:
        if attrs.get("product_id") and attrs.get("order_id"):
            raise serializers.ValidationError(
                {"order_id": ["A conversation is about a product or an order, not both."]}
            )
        return attrs


class MessageCreateSerializer(serializers.Serializer):
    body = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    client_message_id = serializers.CharField(required=False, allow_blank=True, max_length=64)
    attachments = serializers.ListField(
        child=serializers.FileField(), required=False, max_length=5, help_text="up to 5 files"
    )


class MessageEditSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=4000)


class MessageQuerySerializer(QuerySerializer):
    before = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    after = serializers.IntegerField(required=False, min_value=0, max_value=2**63 - 1)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100, default=50)

    def validate(self, attrs: dict) -> dict:
        if attrs.get("before") is not None and attrs.get("after") is not None:
            raise serializers.ValidationError({"after": ["Give `before` or `after`, not both."]})
        return attrs


class MessagePageSerializer(serializers.Serializer):
    results = MessageSerializer(many=True)
    has_more = serializers.BooleanField()


class ChatReadSerializer(serializers.Serializer):
    up_to_message_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)


class UnreadSerializer(serializers.Serializer):
    unread_count = serializers.IntegerField()


class UnreadSummarySerializer(serializers.Serializer):
    unread_count = serializers.IntegerField()
    conversations_with_unread = serializers.IntegerField()


class ReportCreateSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=Report.Reason.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=1000)


class ChatReportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    message_id = serializers.IntegerField()
    reason = serializers.CharField()
    note = serializers.CharField()
    created_at = serializers.DateTimeField()


class ResponseTimeSerializer(serializers.Serializer):
    median_first_reply_seconds = serializers.IntegerField(
        allow_null=True, help_text="null when no conversation of the last 30 days was answered"
    )
    conversations = serializers.IntegerField(help_text="answered conversations it is taken over")
