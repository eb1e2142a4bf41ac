from django.urls import path

from authentication import apis

urlpatterns = [
    path("register/", apis.RegisterApi.as_view(), name="register"),
    path("verify-email/", apis.VerifyEmailApi.as_view(), name="verify-email"),
    path("verify-email/resend/", apis.ResendVerificationApi.as_view(), name="verify-email-resend"),
    path("login/", apis.LoginApi.as_view(), name="login"),
    path("refresh/", apis.RefreshApi.as_view(), name="token-refresh"),
    path("logout/", apis.LogoutApi.as_view(), name="logout"),
    path("google/", apis.GoogleSignInApi.as_view(), name="google"),
    path("password-reset/", apis.PasswordResetApi.as_view(), name="password-reset"),
    path(
        "password-reset/confirm/",
        apis.PasswordResetConfirmApi.as_view(),
        name="password-reset-confirm",
    ),
    path("password/change/", apis.PasswordChangeApi.as_view(), name="password-change"),
    path("otp/", apis.OtpRequestApi.as_view(), name="otp"),
]
