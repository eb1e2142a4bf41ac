from typing import Any

from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.exceptions import InvalidCode
from accounts.models import User
from accounts.serializers import UserSerializer
from authentication import services
from authentication.serializers import (
    AcceptedSerializer,
    EmailSerializer,
    GoogleSessionSerializer,
    GoogleSignInSerializer,
    LoginSerializer,
    OtpRequestSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    RefreshSerializer,
    RegisteredSerializer,
    RegisterSerializer,
    SessionSerializer,
    TokensSerializer,
    VerifyEmailSerializer,
)
from core.apis import request_user
from core.clients import ClientInfo
from core.openapi import error_responses
from core.permissions import FirstPartyOnly
from core.throttles import EmailRateThrottle, IpScopedRateThrottle

TAGS = ["auth"]
CODE_SENT = {"detail": "If an account exists for this address, a code has been sent to it."}
ACCEPTED = OpenApiResponse(
    AcceptedSerializer, description="Always, whether or not the account exists."
)
sensitive = method_decorator(
    sensitive_post_parameters("password", "new_password", "current_password", "code", "refresh"),
    name="dispatch",
)


class _PublicAuthApi(APIView):
    """Anonymous endpoints: a stale Authorization header from the client must not get in the
    way of signing in again, so no authentication runs; throttles are per client IP."""

    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]
    throttle_classes: list[Any] = [IpScopedRateThrottle]


def _session(user: User, request: Request, **extra: Any) -> dict[str, Any]:
    pair = services.issue_tokens(user=user)
    return {
        "access": pair.access,
        "refresh": pair.refresh,
        "user": UserSerializer(user, context={"request": request}).data,
        **extra,
    }


@sensitive
class RegisterApi(_PublicAuthApi):
    throttle_scope = "register"

    @extend_schema(
        tags=TAGS,
        summary="Create an account; a verification code is emailed",
        request=RegisterSerializer,
        responses={201: RegisteredSerializer},
    )
    def post(self, request: Request) -> Response:
        data = RegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.register(**data.validated_data, client=ClientInfo.from_request(request))
        body = {"user": UserSerializer(user, context={"request": request}).data}
        return Response(body, status=status.HTTP_201_CREATED)


@sensitive
class VerifyEmailApi(_PublicAuthApi):
    throttle_scope = "code_verify"

    @extend_schema(
        tags=TAGS,
        summary="Confirm the email with its code; signs in",
        request=VerifyEmailSerializer,
        responses={200: SessionSerializer, **error_responses((400, "invalid_code"))},
    )
    def post(self, request: Request) -> Response:
        data = VerifyEmailSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            user = services.verify_email(
                **data.validated_data, client=ClientInfo.from_request(request)
            )
        except InvalidCode as exc:
            raise InvalidCode() from exc  # one answer for every reason: reveals no account
        return Response(_session(user, request))


class ResendVerificationApi(_PublicAuthApi):
    throttle_scope = "code_request"
    throttle_classes = [IpScopedRateThrottle, EmailRateThrottle]

    @extend_schema(
        tags=TAGS,
        summary="Send a new verification code",
        request=EmailSerializer,
        responses={202: ACCEPTED},
    )
    def post(self, request: Request) -> Response:
        data = EmailSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.resend_verification(
            email=data.validated_data["email"], client=ClientInfo.from_request(request)
        )
        return Response(CODE_SENT, status=status.HTTP_202_ACCEPTED)


@sensitive
class LoginApi(_PublicAuthApi):
    throttle_scope = "login"

    @extend_schema(
        tags=TAGS,
        summary="Sign in with email and password",
        request=LoginSerializer,
        responses={
            200: SessionSerializer,
            **error_responses((401, "invalid_credentials"), (403, "email_not_verified")),
        },
    )
    def post(self, request: Request) -> Response:
        data = LoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.login(**data.validated_data, client=ClientInfo.from_request(request))
        return Response(_session(user, request))


@sensitive
class RefreshApi(_PublicAuthApi):
    throttle_scope = "login"

    @extend_schema(
        tags=TAGS,
        summary="Exchange a refresh token for a new pair (the old one stops working)",
        request=RefreshSerializer,
        responses={200: TokensSerializer, **error_responses((401, "token_not_valid"))},
    )
    def post(self, request: Request) -> Response:
        data = RefreshSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        pair = services.rotate_refresh_token(
            token=data.validated_data["refresh"], client=ClientInfo.from_request(request)
        )
        return Response({"access": pair.access, "refresh": pair.refresh})


@sensitive
class LogoutApi(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Revoke a refresh token",
        request=RefreshSerializer,
        responses={204: None, **error_responses((401, "token_not_valid"))},
    )
    def post(self, request: Request) -> Response:
        data = RefreshSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.logout(
            user=request_user(request),
            token=data.validated_data["refresh"],
            client=ClientInfo.from_request(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class GoogleSignInApi(_PublicAuthApi):
    throttle_scope = "login"

    @extend_schema(
        tags=TAGS,
        summary="Sign in or sign up with a Google ID token",
        request=GoogleSignInSerializer,
        responses={
            200: GoogleSessionSerializer,
            **error_responses((400, "invalid_google_token"), (503, "google_sign_in_unavailable")),
        },
    )
    def post(self, request: Request) -> Response:
        data = GoogleSignInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.sign_in_with_google(
            **data.validated_data, client=ClientInfo.from_request(request)
        )
        return Response(_session(result.user, request, is_new_user=result.is_new_user))


class PasswordResetApi(_PublicAuthApi):
    throttle_scope = "code_request"
    throttle_classes = [IpScopedRateThrottle, EmailRateThrottle]

    @extend_schema(
        tags=TAGS,
        summary="Email a password reset code",
        request=EmailSerializer,
        responses={202: ACCEPTED},
    )
    def post(self, request: Request) -> Response:
        data = EmailSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.request_password_reset(
            email=data.validated_data["email"], client=ClientInfo.from_request(request)
        )
        return Response(CODE_SENT, status=status.HTTP_202_ACCEPTED)


@sensitive
class PasswordResetConfirmApi(_PublicAuthApi):
    throttle_scope = "code_verify"

    @extend_schema(
        tags=TAGS,
        summary="Set a new password with the emailed code; signs out everywhere",
        request=PasswordResetConfirmSerializer,
        responses={200: AcceptedSerializer, **error_responses((400, "invalid_code"))},
    )
    def post(self, request: Request) -> Response:
        data = PasswordResetConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.confirm_password_reset(
                **data.validated_data, client=ClientInfo.from_request(request)
            )
        except InvalidCode as exc:
            raise InvalidCode() from exc
        return Response({"detail": "Your password has been changed. Sign in again."})


@sensitive
class PasswordChangeApi(APIView):
    permission_classes = [permissions.IsAuthenticated, FirstPartyOnly]
    throttle_classes = [IpScopedRateThrottle]
    throttle_scope = "login"

    @extend_schema(
        tags=TAGS,
        summary="Change your password; other sessions end, you get a new token pair",
        request=PasswordChangeSerializer,
        responses={200: TokensSerializer, **error_responses((401, "invalid_credentials"))},
    )
    def post(self, request: Request) -> Response:
        data = PasswordChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        pair = services.change_password(
            user=request_user(request),
            **data.validated_data,
            client=ClientInfo.from_request(request),
        )
        return Response({"access": pair.access, "refresh": pair.refresh})


class OtpRequestApi(APIView):
    permission_classes = [permissions.IsAuthenticated, FirstPartyOnly]
    throttle_classes = [IpScopedRateThrottle, EmailRateThrottle]
    throttle_scope = "code_request"

    @extend_schema(
        tags=TAGS,
        summary="Email a code for a sensitive operation (delete_account)",
        request=OtpRequestSerializer,
        responses={202: AcceptedSerializer},
    )
    def post(self, request: Request) -> Response:
        data = OtpRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.request_code(
            user=request_user(request),
            purpose=data.validated_data["purpose"],
            client=ClientInfo.from_request(request),
        )
        return Response({"detail": "A code has been sent to your email."}, status=202)
