"""Staff: email templates, their assets, previews and test sends."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError
from django.http import Http404
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.apis import paginate
from core.openapi import error_responses, paginated
from notifications import assets, templates
from notifications.models import Asset, Language, Template

TAGS = ["notifications-staff"]


def asset_id() -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=2**31 - 1)


def _drf(error: DjangoValidationError) -> ValidationError:
    return ValidationError(error.message_dict if hasattr(error, "error_dict") else error.messages)


class AssetSerializer(serializers.ModelSerializer):
    class Meta:
        model = Asset
        fields = ["id", "kind", "name", "content_type", "size", "created_at"]
        read_only_fields = fields


class AssetUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Asset.Kind.choices)
    file = serializers.FileField(
        help_text="style: CSS ≤ 1 MB; image: JPEG/PNG ≤ 5 MB; attachment: JPEG/PNG/PDF/DOCX/XLSX "
        "≤ 10 MB. Told by the bytes, not the name."
    )


class TemplateSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=100)
    kind = serializers.CharField(
        max_length=64,
        help_text="A notification kind, e.g. `order_status` or `newsletter` (the kinds are "
        "listed by `GET /api/notifications/preferences/`).",
    )
    language = serializers.ChoiceField(choices=Language.choices, default=Language.ARABIC)
    subject = serializers.CharField(max_length=1000)
    html = serializers.CharField()
    text = serializers.CharField(
        required=False, allow_blank=True, default="",
        help_text="The text part; left empty, it is derived from the HTML.",
    )  # fmt: skip
    styles = serializers.ListField(child=asset_id(), required=False, default=list, max_length=20)
    images = serializers.ListField(
        child=asset_id(), required=False, default=list, max_length=50,
        help_text="Image assets; the HTML shows each as `cid:<its name>`.",
    )  # fmt: skip
    attachments = serializers.ListField(
        child=asset_id(), required=False, default=list, max_length=20
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, instance: Template) -> dict[str, Any]:
        return {
            "id": instance.pk,
            "name": instance.name,
            "kind": instance.kind,
            "language": instance.language,
            "subject": instance.subject,
            "html": instance.html,
            "text": instance.text,
            **{
                f: [a.pk for a in getattr(instance, f).all()]
                for f in ("styles", "images", "attachments")
            },
            "created_at": serializers.DateTimeField().to_representation(instance.created_at),
            "updated_at": serializers.DateTimeField().to_representation(instance.updated_at),
        }


class PreviewRequestSerializer(serializers.Serializer):
    context = serializers.DictField(  # type: ignore[assignment]
        required=False, default=dict,
        help_text="Values for the kind's variables; the rest show as [name].",
    )  # fmt: skip


class PreviewSerializer(serializers.Serializer):
    subject = serializers.CharField()
    html = serializers.CharField(help_text="CSS inlined, as it will be sent.")
    text = serializers.CharField()


class SendTestSerializer(serializers.Serializer):
    email = serializers.EmailField()
    template_id = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    context = serializers.DictField(required=False, default=dict)  # type: ignore[assignment]


class QueuedSerializer(serializers.Serializer):
    status = serializers.CharField(help_text="`queued`")


STAFF = [permissions.IsAdminUser]


def _template(pk: int) -> Template:
    template = Template.objects.prefetch_related("styles", "images", "attachments").filter(pk=pk)
    found = template.first()
    if found is None:
        raise Http404
    return found


class TemplateListApi(APIView):
    permission_classes = STAFF

    @extend_schema(
        tags=TAGS,
        summary="Email templates",
        operation_id="notifications_templates_list",
        responses={200: paginated(TemplateSerializer)},
    )
    def get(self, request: Request) -> Response:
        rows = Template.objects.prefetch_related("styles", "images", "attachments").order_by(
            "kind", "language", "name"
        )
        return paginate(request, self, rows, TemplateSerializer)

    @extend_schema(
        tags=TAGS,
        summary="Create an email template",
        description="400 when a part doesn't compile, uses a variable its kind doesn't "
        "declare or a forbidden tag, or shows a cid: image it doesn't carry.",
        request=TemplateSerializer,
        responses={201: TemplateSerializer},
    )
    def post(self, request: Request) -> Response:
        body = TemplateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            template = templates.save_template(data=body.validated_data)
        except DjangoValidationError as error:
            raise _drf(error) from None
        return Response(TemplateSerializer(_template(template.pk)).data, status=201)


class TemplateDetailApi(APIView):
    permission_classes = STAFF

    @extend_schema(tags=TAGS, summary="An email template", responses={200: TemplateSerializer})
    def get(self, request: Request, pk: int) -> Response:
        return Response(TemplateSerializer(_template(pk)).data)

    def _save(self, request: Request, pk: int, *, partial: bool) -> Response:
        template = _template(pk)
        body = TemplateSerializer(data=request.data, partial=partial)
        body.is_valid(raise_exception=True)
        data = body.validated_data if not partial else {
            k: v for k, v in body.validated_data.items() if k in request.data
        }  # fmt: skip
        try:
            templates.save_template(data=data, template=template)
        except DjangoValidationError as error:
            raise _drf(error) from None
        return Response(TemplateSerializer(_template(pk)).data)

    @extend_schema(tags=TAGS, summary="Replace an email template", request=TemplateSerializer,
                   responses={200: TemplateSerializer})  # fmt: skip
    def put(self, request: Request, pk: int) -> Response:
        return self._save(request, pk, partial=False)

    @extend_schema(tags=TAGS, summary="Change an email template", request=TemplateSerializer,
                   responses={200: TemplateSerializer})  # fmt: skip
    def patch(self, request: Request, pk: int) -> Response:
        return self._save(request, pk, partial=True)

    @extend_schema(
        tags=TAGS,
        summary="Delete an email template (its kind falls back to Arabic, then the files)",
        responses={204: None, **error_responses((409, "template_in_use"))},
    )
    def delete(self, request: Request, pk: int) -> Response:
        try:
            templates.delete_template(_template(pk))
        except ProtectedError:
            return Response(
                {"code": "template_in_use", "message": "A campaign uses this template.",
                 "details": {}},
                status=409,
            )  # fmt: skip
        return Response(status=204)


class TemplatePreviewApi(APIView):
    permission_classes = STAFF

    @extend_schema(
        tags=TAGS,
        summary="Render a template as it would be sent",
        request=PreviewRequestSerializer,
        responses={200: PreviewSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        body = PreviewRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            rendered = templates.preview(_template(pk), body.validated_data["context"])
        except (DjangoValidationError, TypeError) as error:
            if isinstance(error, TypeError):
                raise ValidationError({"context": [str(error)]}) from None
            raise _drf(error) from None
        return Response({"subject": rendered.subject, "html": rendered.html, "text": rendered.text})


class AssetUploadApi(APIView):
    permission_classes = STAFF
    parser_classes = [MultiPartParser]

    @extend_schema(
        tags=TAGS,
        summary="Upload a stylesheet, image or attachment for templates",
        request={"multipart/form-data": AssetUploadSerializer},
        responses={201: AssetSerializer},
    )
    def post(self, request: Request) -> Response:
        body = AssetUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            asset = assets.create_asset(
                kind=body.validated_data["kind"], upload=body.validated_data["file"]
            )
        except DjangoValidationError as error:
            raise _drf(error) from None
        return Response(AssetSerializer(asset).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=TAGS, summary="Uploaded assets", operation_id="notifications_assets_list",
        responses={200: paginated(AssetSerializer)},
    )  # fmt: skip
    def get(self, request: Request) -> Response:
        return paginate(
            request, self, Asset.objects.order_by("kind", "name", "id"), AssetSerializer
        )


class SendTestApi(APIView):
    permission_classes = STAFF

    @extend_schema(
        tags=TAGS,
        summary="Send one email of a template to an address (a test)",
        request=SendTestSerializer,
        responses={202: QueuedSerializer},
    )
    def post(self, request: Request) -> Response:
        body = SendTestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        template = Template.objects.filter(pk=body.validated_data["template_id"]).first()
        if template is None:
            raise ValidationError({"template_id": ["No such template."]})
        try:
            templates.send_test(
                template=template,
                address=body.validated_data["email"],
                context=body.validated_data["context"],
            )
        except DjangoValidationError as error:
            raise _drf(error) from None
        except TypeError as error:
            raise ValidationError({"context": [str(error)]}) from None
        return Response({"status": "queued"}, status=202)


urlpatterns = [
    path("templates/", TemplateListApi.as_view(), name="notification-template-list"),
    path("templates/<int:pk>/", TemplateDetailApi.as_view(), name="notification-template"),
    path(
        "templates/<int:pk>/preview/",
        TemplatePreviewApi.as_view(),
        name="notification-template-preview",
    ),
    path("assets/", AssetUploadApi.as_view(), name="notification-asset-list"),
    path("send-email/", SendTestApi.as_view(), name="notification-send-email"),
]
