"""Staff: segment previews and newsletter campaigns (``notifications.segments``,
``notifications.campaigns``)."""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.apis import paginate, request_user
from core.openapi import error_responses, paginated
from notifications import campaigns, segments
from notifications.models import Campaign

TAGS = ["notifications-staff"]
STAFF = [permissions.IsAdminUser]
FIELDS_HELP = (
    "Segment filters, one key per field: `account_type`, `city` (a value or a list; null in a "
    'list: no value), `date_joined`, `last_purchase_at` (bounds `{"gte": "2026-01-01", "lt": '
    '…}`, or `{"isnull": true}`), `total_spent` (bounds, decimal strings), `cart_state` '
    "(`empty`, `active`, `abandoned`), `is_active` (true/false). Every condition must hold; "
    "an unknown field or a wrongly typed value is 400."
)


def _drf(error: DjangoValidationError) -> ValidationError:
    return ValidationError(error.message_dict if hasattr(error, "error_dict") else error.messages)


def _filters(value: dict[str, Any]) -> dict[str, Any]:
    try:
        return segments.validate_filters(value)
    except DjangoValidationError as error:
        raise _drf(error) from None


class SegmentPreviewRequestSerializer(serializers.Serializer):
    filters = serializers.DictField(required=False, default=dict, help_text=FIELDS_HELP)
    group_by = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        default=list,
        max_length=segments.MAX_GROUP_BY,
        help_text="Up to three of `account_type`, `city`, `cart_state`, `is_active`.",
    )

    def validate_filters(self, value: dict[str, Any]) -> dict[str, Any]:
        return _filters(value)


class SegmentGroupSerializer(serializers.Serializer):
    values = serializers.DictField(
        help_text="Each group_by field's value for this group (null: none, e.g. no orders)."
    )
    count = serializers.IntegerField(help_text="How many users are in the group.")


class SegmentPreviewSerializer(serializers.Serializer):
    groups = SegmentGroupSerializer(many=True, help_text="The largest groups first.")
    truncated = serializers.BooleanField(
        help_text=f"True when there were more than {segments.GROUP_LIMIT} groups (the rest "
        "are left out)."
    )


class CampaignSegmentSerializer(serializers.Serializer):
    filters = serializers.DictField(required=False, default=dict, help_text=FIELDS_HELP)

    def validate_filters(self, value: dict[str, Any]) -> dict[str, Any]:
        return _filters(value)


class CampaignCreateSerializer(serializers.Serializer):
    template_id = serializers.IntegerField(
        min_value=1, max_value=2**31 - 1, help_text="A template of kind `newsletter`."
    )
    name = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="",
        help_text="Default: the template's name and the scheduled time.",
    )  # fmt: skip
    segment = CampaignSegmentSerializer()
    scheduled_at = serializers.DateTimeField(
        help_text="When sending starts (the next run after it; a past time: at once)."
    )
    rate_per_minute = serializers.IntegerField(
        min_value=1, max_value=campaigns.MAX_RATE_PER_MINUTE, default=600,
        help_text="At most this many emails in any minute.",
    )  # fmt: skip


class CampaignSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    template_id = serializers.IntegerField()
    template_name = serializers.CharField(source="template.name")
    status = serializers.ChoiceField(choices=Campaign.Status.choices)
    segment = CampaignSegmentSerializer(source="*")
    scheduled_at = serializers.DateTimeField()
    rate_per_minute = serializers.IntegerField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    total = serializers.IntegerField(
        source="recipients", help_text="Recipients so far: one dispatch row each."
    )
    waiting = serializers.IntegerField(help_text="Queued or being sent.")
    sent = serializers.IntegerField()
    failed = serializers.IntegerField(help_text="Retries exhausted.")
    skipped = serializers.IntegerField(
        help_text="Not sent: suppressed or unsubscribed after they were counted, or cancelled."
    )
    bounced = serializers.IntegerField()
    unsubscribed = serializers.IntegerField(help_text="Unsubscribed through this campaign.")


def _campaign(pk: int) -> Campaign:
    try:
        return campaigns.get_campaign(campaign_id=pk)
    except Campaign.DoesNotExist:
        raise Http404 from None


class SegmentPreviewApi(APIView):
    permission_classes = STAFF

    @extend_schema(
        tags=TAGS,
        summary="How many users a segment holds, grouped",
        description="Counts only, never an address. Staff users are never in a segment.",
        request=SegmentPreviewRequestSerializer,
        responses={200: SegmentPreviewSerializer},
    )
    def post(self, request: Request) -> Response:
        body = SegmentPreviewRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            groups, truncated = segments.preview(
                body.validated_data["filters"], body.validated_data["group_by"]
            )
        except DjangoValidationError as error:
            raise _drf(error) from None
        return Response(SegmentPreviewSerializer({"groups": groups, "truncated": truncated}).data)


class CampaignListApi(APIView):
    permission_classes = STAFF

    @extend_schema(
        tags=TAGS,
        summary="Newsletter campaigns, the latest scheduled first",
        operation_id="notifications_campaigns_list",
        responses={200: paginated(CampaignSerializer)},
    )
    def get(self, request: Request) -> Response:
        return paginate(request, self, campaigns.list_campaigns(), CampaignSerializer)

    @extend_schema(
        tags=TAGS,
        summary="Schedule a newsletter campaign",
        description="Sent to the segment's active users who subscribed to the newsletter, less "
        "unsubscribed and suppressed addresses, at most `rate_per_minute` a minute.",
        request=CampaignCreateSerializer,
        responses={201: CampaignSerializer},
    )
    def post(self, request: Request) -> Response:
        body = CampaignCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            campaign = campaigns.create_campaign(
                template_id=data["template_id"],
                filters=data["segment"]["filters"],
                scheduled_at=data["scheduled_at"],
                rate_per_minute=data["rate_per_minute"],
                name=data["name"],
                created_by_id=request_user(request).pk,
            )
        except DjangoValidationError as error:
            raise _drf(error) from None
        return Response(
            CampaignSerializer(_campaign(campaign.pk)).data, status=status.HTTP_201_CREATED
        )


class CampaignDetailApi(APIView):
    permission_classes = STAFF

    @extend_schema(
        tags=TAGS, summary="A campaign and its counters", responses={200: CampaignSerializer}
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(CampaignSerializer(_campaign(pk)).data)


def _moved(pk: int, move: Callable[..., Campaign]) -> Response:
    _campaign(pk)  # 404 before anything else
    move(campaign_id=pk)
    return Response(CampaignSerializer(_campaign(pk)).data)


def _move_schema(summary: str, description: str) -> Any:
    return extend_schema(
        tags=TAGS,
        summary=summary,
        description=description,
        request=None,
        responses={200: CampaignSerializer, **error_responses((409, "invalid_transition"))},
    )


class CampaignPauseApi(APIView):
    permission_classes = STAFF

    @_move_schema(
        "Pause a campaign",
        "A scheduled or sending campaign stops sending until resumed; otherwise 409.",
    )
    def post(self, request: Request, pk: int) -> Response:
        return _moved(pk, campaigns.pause_campaign)


class CampaignResumeApi(APIView):
    permission_classes = STAFF

    @_move_schema(
        "Resume a paused campaign",
        "Back to sending (to scheduled, if it was paused before it started); otherwise 409.",
    )
    def post(self, request: Request, pk: int) -> Response:
        return _moved(pk, campaigns.resume_campaign)


class CampaignCancelApi(APIView):
    permission_classes = STAFF

    @_move_schema(
        "Cancel a campaign for good",
        "Nothing more is sent; a cancelled or finished campaign: 409.",
    )
    def post(self, request: Request, pk: int) -> Response:
        return _moved(pk, campaigns.cancel_campaign)


urlpatterns = [
    path("segments/preview/", SegmentPreviewApi.as_view(), name="notification-segment-preview"),
    path("campaigns/", CampaignListApi.as_view(), name="notification-campaign-list"),
    path("campaigns/<int:pk>/", CampaignDetailApi.as_view(), name="notification-campaign"),
    path(
        "campaigns/<int:pk>/pause/",
        CampaignPauseApi.as_view(),
        name="notification-campaign-pause",
    ),
    path(
        "campaigns/<int:pk>/resume/",
        CampaignResumeApi.as_view(),
        name="notification-campaign-resume",
    ),
    path(
        "campaigns/<int:pk>/cancel/",
        CampaignCancelApi.as_view(),
        name="notification-campaign-cancel",
    ),
]
