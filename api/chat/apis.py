from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from chat import attachments, selectors, services
from chat.models import Attachment, Conversation, Message
from chat.serializers import (
    ChatReadSerializer,
    ChatReportSerializer,
    ConversationCreateSerializer,
    ConversationSerializer,
    MessageCreateSerializer,
    MessageEditSerializer,
    MessagePageSerializer,
    MessageQuerySerializer,
    MessageSerializer,
    ReportCreateSerializer,
    ResponseTimeSerializer,
    UnreadSerializer,
    UnreadSummarySerializer,
    message_data,
)
from core.apis import paginate, request_user
from core.openapi import error_responses, paginated
from orders.models import Order
from products.models import Product
from stores import selectors as store_selectors

TAGS = ["chat"]
BLOCKED = error_responses((403, "blocked"))
THROTTLED = error_responses((429, "throttled"))


def _shown(user: User, conversation_id: int) -> Conversation:
    """A conversation as the list shows it (unread count, last message)."""
    found = list(selectors.list_conversations(user=user).filter(pk=conversation_id))
    return selectors.attach_last_messages(found)[0]


class ConversationListCreateApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=TAGS,
        summary="Your conversations (as buyer and as store owner), newest activity first",
        operation_id="chat_conversations_list",
        parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses={200: paginated(ConversationSerializer)},
    )
    def get(self, request: Request) -> Response:
        conversations = selectors.list_conversations(user=request_user(request))
        # The page's last messages in one query.
        return paginate(
            request,
            self,
            conversations,
            ConversationSerializer,
            prepare=selectors.attach_last_messages,
        )

    @extend_schema(
        tags=TAGS,
        summary="Start (or find) a conversation with a store",
        request=ConversationCreateSerializer,
        responses={
            201: ConversationSerializer,
            200: OpenApiResponse(ConversationSerializer, description="it existed already"),
            **BLOCKED,
            **THROTTLED,
        },
    )
    def post(self, request: Request) -> Response:
        user = request_user(request)
        data = ConversationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        store = store_selectors.find_public_store(store_id=fields["store_id"])
        if store is None:
            raise ValidationError({"store_id": ["No such store."]})
        product = order = None
        if fields.get("product_id"):
            product = Product.objects.filter(
                pk=fields["product_id"], deleted_at__isnull=True
            ).first()
            if product is None:
                raise ValidationError({"product_id": ["No such product."]})
        if fields.get("order_id"):
            order = Order.objects.filter(pk=fields["order_id"], buyer=user).first()
            if order is None:
                raise ValidationError({"order_id": ["Not one of your orders with this store."]})
        conversation, created = services.start_conversation(
            buyer=user,
            store=store,
            product=product,
            order=order,
            message=fields.get("message", ""),
            client_message_id=fields.get("client_message_id", ""),
        )
        return Response(
            ConversationSerializer(_shown(user, conversation.pk)).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class MessageListCreateApi(APIView):
    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        tags=TAGS,
        summary="A conversation's messages, by id cursor",
        operation_id="chat_conversations_messages_list",
        parameters=[
            OpenApiParameter("before", int, description="newest first, ids below this"),
            OpenApiParameter("after", int, description="oldest first, ids above this"),
            OpenApiParameter("limit", int, description="1 to 100, default 50"),
        ],
        responses={200: MessagePageSerializer},
    )
    def get(self, request: Request, conversation_id: int) -> Response:
        user = request_user(request)
        conversation = selectors.get_conversation(user=user, conversation_id=conversation_id)
        query = MessageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = selectors.list_messages(
            conversation=conversation,
            before=query.validated_data.get("before"),
            after=query.validated_data.get("after"),
            limit=query.validated_data["limit"],
        )
        return Response(
            {
                "results": MessageSerializer(page.results, many=True).data,
                "has_more": page.has_more,
            }
        )

    @extend_schema(
        tags=TAGS,
        summary="Send a message (JSON, or multipart with up to 5 attachments)",
        request={
            "application/json": MessageCreateSerializer,
            "multipart/form-data": MessageCreateSerializer,
        },
        responses={
            201: MessageSerializer,
            200: OpenApiResponse(MessageSerializer, description="the same client_message_id again"),
            **BLOCKED,
            **THROTTLED,
        },
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        user = request_user(request)
        conversation = selectors.get_conversation_to_send(
            user=user, conversation_id=conversation_id
        )
        data = MessageCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        uploads = request.FILES.getlist("attachments") if hasattr(request, "FILES") else []
        message, created = services.send_message(
            conversation=conversation,
            sender=user,
            body=data.validated_data.get("body", ""),
            client_message_id=data.validated_data.get("client_message_id", ""),
            uploads=uploads,
        )
        answer: Message | dict[str, Any]
        if created and not uploads:  # all of it in hand: no files to read back
            answer = message_data(message, files=[])
        else:
            answer = selectors.get_message(user=user, message_id=message.pk)
        return Response(
            MessageSerializer(answer).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class MessageDetailApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=TAGS,
        summary="Edit your message (within 15 minutes)",
        request=MessageEditSerializer,
        responses={200: MessageSerializer, **error_responses((409, "edit_window_closed"))},
    )
    def patch(self, request: Request, message_id: int) -> Response:
        user = request_user(request)
        message = selectors.get_message(user=user, message_id=message_id)
        data = MessageEditSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.edit_message(message=message, user=user, body=data.validated_data["body"])
        message = selectors.get_message(user=user, message_id=message_id)
        return Response(MessageSerializer(message).data)

    @extend_schema(
        tags=TAGS, summary="Delete your message (a tombstone stays)", responses={204: None}
    )
    def delete(self, request: Request, message_id: int) -> Response:
        user = request_user(request)
        message = selectors.get_message(user=user, message_id=message_id)
        services.delete_message(message=message, user=user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ReadApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=TAGS,
        summary="Mark read up to a message (the pointer never moves back)",
        request=ChatReadSerializer,
        responses={200: UnreadSerializer},
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        user = request_user(request)
        conversation = selectors.get_conversation(user=user, conversation_id=conversation_id)
        data = ChatReadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        unread = services.mark_read(
            conversation=conversation,
            user=user,
            up_to_message_id=data.validated_data["up_to_message_id"],
        )
        return Response({"unread_count": unread})


class UnreadApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=TAGS, summary="Unread messages in all", responses={200: UnreadSummarySerializer}
    )
    def get(self, request: Request) -> Response:
        return Response(selectors.unread_summary(user=request_user(request)))


class ReportApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=TAGS,
        summary="Report a message to staff",
        request=ReportCreateSerializer,
        responses={201: ChatReportSerializer},
    )
    def post(self, request: Request, message_id: int) -> Response:
        user = request_user(request)
        message = selectors.get_message(user=user, message_id=message_id)
        data = ReportCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = services.report_message(message=message, user=user, **data.validated_data)
        return Response(
            ChatReportSerializer(
                {
                    "id": report.pk,
                    "message_id": message.pk,
                    "reason": report.reason,
                    "note": report.note,
                    "created_at": report.created_at,
                }
            ).data,
            status=status.HTTP_201_CREATED,
        )


class BlockApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=TAGS,
        summary="Block the other side",
        request=None,
        responses={200: ConversationSerializer},
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        return self._set(request, conversation_id, blocked=True)

    @extend_schema(
        tags=TAGS, summary="Unblock the other side", responses={200: ConversationSerializer}
    )
    def delete(self, request: Request, conversation_id: int) -> Response:
        return self._set(request, conversation_id, blocked=False)

    def _set(self, request: Request, conversation_id: int, *, blocked: bool) -> Response:
        user = request_user(request)
        conversation = selectors.get_conversation(user=user, conversation_id=conversation_id)
        services.set_blocked(conversation=conversation, user=user, blocked=blocked)
        return Response(ConversationSerializer(_shown(user, conversation.pk)).data)


class AttachmentApi(APIView):
    """A file, through the signed URL a participant was given (no other authentication: the
    URL is the key, and it expires)."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []

    @extend_schema(
        tags=TAGS,
        summary="An attachment (signed URL)",
        responses={(200, "application/octet-stream"): OpenApiResponse(description="the file")},
    )
    def get(self, request: Request, token: str) -> FileResponse:
        attachment_id = attachments.attachment_id_from(token)
        found = (
            Attachment.objects.filter(
                pk=attachment_id, message__deleted_at__isnull=True, message__hidden_at__isnull=True
            ).first()
            if attachment_id
            else None
        )
        if found is None:
            raise Http404
        response = FileResponse(
            found.file.open("rb"),
            content_type=found.content_type,
            as_attachment=found.content_type == "application/pdf",
            filename=found.name,
        )
        response["Cache-Control"] = "private, max-age=600"
        response["X-Content-Type-Options"] = "nosniff"
        return response


class StoreResponseTimeApi(APIView):
    """How fast a store answers buyers: shown on its page."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(
        tags=TAGS,
        summary="A store's median first-reply time over the last 30 days",
        responses={200: ResponseTimeSerializer},
    )
    def get(self, request: Request, store_id: int) -> Response:
        store = store_selectors.get_public_store(store_id=store_id)
        key = f"chat:response-time:{store.pk}"
        cached = cache.get(key)
        if cached is None:
            median, answered = selectors.median_first_reply_seconds(store_id=store.pk)
            cached = {"median_first_reply_seconds": median, "conversations": answered}
            cache.set(key, cached, 600)
        return Response(cached)
