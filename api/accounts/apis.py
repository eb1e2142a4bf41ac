from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.models import ActivityLog
from accounts.serializers import (
    AccountDeleteSerializer,
    ActivitySerializer,
    EmailChangeConfirmSerializer,
    EmailChangeSerializer,
    ProfileUpdateSerializer,
    UserSerializer,
)
from core.apis import request_user
from core.clients import ClientInfo
from core.openapi import error_responses
from core.parsers import JSONParser
from core.permissions import FirstPartyOnly
from core.throttles import EmailRateThrottle, IpScopedRateThrottle

ACCEPTED = {"detail": "If the address can be used, a code has been sent to it."}


class MeApi(APIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_permissions(self):  # type: ignore[no-untyped-def]
        permissions = list(super().get_permissions())
        if self.request.method == "DELETE":
            permissions.append(FirstPartyOnly())
        return permissions

    @extend_schema(tags=["accounts"], summary="Your profile", responses={200: UserSerializer})
    def get(self, request: Request) -> Response:
        return Response(UserSerializer(request_user(request), context={"request": request}).data)

    @extend_schema(
        tags=["accounts"],
        summary="Change your profile (multipart for the avatar)",
        request={
            "application/json": ProfileUpdateSerializer,
            "multipart/form-data": ProfileUpdateSerializer,
        },
        responses={200: UserSerializer},
    )
    def patch(self, request: Request) -> Response:
        data = ProfileUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        user = services.update_profile(
            user=request_user(request),
            data=data.validated_data,
            client=ClientInfo.from_request(request),
        )
        return Response(UserSerializer(user, context={"request": request}).data)

    @extend_schema(
        tags=["accounts"],
        summary="Delete your account, confirmed with a code from POST /api/auth/otp/",
        request=AccountDeleteSerializer,
        responses={204: None, **error_responses((400, "invalid_code"))},
    )
    def delete(self, request: Request) -> Response:
        data = AccountDeleteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        code = data.validated_data["code"]
        services.delete_account(
            user=request_user(request), code=code, client=ClientInfo.from_request(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class EmailChangeApi(APIView):
    permission_classes = [IsAuthenticated, FirstPartyOnly]
    throttle_classes = [IpScopedRateThrottle, EmailRateThrottle]
    throttle_scope = "code_request"
    throttle_email_field = "new_email"  # limits the codes any one address receives

    @extend_schema(
        tags=["accounts"],
        summary="Ask to change your email: a code goes to the new address",
        request=EmailChangeSerializer,
        responses={202: None},
    )
    def post(self, request: Request) -> Response:
        data = EmailChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.request_email_change(
            user=request_user(request),
            new_email=data.validated_data["new_email"],
            client=ClientInfo.from_request(request),
        )
        return Response(ACCEPTED, status=status.HTTP_202_ACCEPTED)


class EmailChangeConfirmApi(APIView):
    permission_classes = [IsAuthenticated, FirstPartyOnly]
    throttle_classes = [IpScopedRateThrottle]
    throttle_scope = "code_verify"

    @extend_schema(
        tags=["accounts"],
        summary="Confirm the new email with its code",
        request=EmailChangeConfirmSerializer,
        responses={200: UserSerializer, **error_responses((400, "invalid_code"))},
    )
    def post(self, request: Request) -> Response:
        data = EmailChangeConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.confirm_email_change(
            user=request_user(request),
            code=data.validated_data["code"],
            client=ClientInfo.from_request(request),
        )
        return Response(UserSerializer(user, context={"request": request}).data)


@extend_schema(tags=["accounts"], summary="Your account activity, newest first")
class ActivityListApi(ListAPIView):
    serializer_class = ActivitySerializer
    queryset = ActivityLog.objects.none()  # for the schema; get_queryset scopes to the caller

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.list_activity(user=request_user(self.request))
