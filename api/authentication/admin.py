from typing import Any

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from oauth2_provider import admin as oauth2_admin
from oauth2_provider import forms as oauth2_forms
from oauth2_provider.models import Application
from rest_framework.exceptions import Throttled

from authentication import sessions
from authentication.models import ExternalIdentity, SignInSession
from authentication.throttles import LoginFailureLimiter
from core.admin import ReadOnlyAdminMixin
from core.clients import client_ip


class ThrottledAdminLoginForm(AdminAuthenticationForm):
    """The admin's sign-in, held to the same failed-attempt limits as the API's and the OAuth2
    sign-in page's (per address and per client): guessing staff passwords is no easier here."""

    def clean(self) -> dict[str, Any]:
        email = str(self.data.get("username", ""))
        ip = client_ip(self.request) if self.request is not None else None
        limiter = LoginFailureLimiter()
        try:
            limiter.begin(email=email, ip=ip)
        except Throttled as exc:
            minutes = max(1, round((getattr(exc, "wait", None) or 60) / 60))
            raise ValidationError(
                f"Too many failed sign-in attempts. Try again in {minutes} minute(s).",
                code="throttled",
            ) from exc
        cleaned = super().clean()  # wrong credentials raise here: the attempt stays counted
        limiter.succeeded(email=email, ip=ip)
        return cleaned


admin.site.login_form = ThrottledAdminLoginForm


@admin.register(ExternalIdentity)
class ExternalIdentityAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    allow_delete = True  # staff unlink a Google account
    list_display = ("user", "provider", "email", "created_at", "last_login_at")
    list_filter = ("provider",)
    search_fields = ("user__email", "email", "subject")
    list_select_related = ("user",)
    readonly_fields = ("user", "provider", "subject", "email", "created_at", "last_login_at")


@admin.register(SignInSession)
class SignInSessionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("user", "created_at", "refreshed_at", "revoked_at", "revoked_reason")
    list_filter = ("revoked_reason",)
    search_fields = ("user__email", "id")
    list_select_related = ("user",)
    readonly_fields = ("id", "user", "created_at", "refreshed_at", "revoked_at", "revoked_reason")
    actions = ("sign_out",)

    @admin.action(description="Sign out the selected sessions (their sockets close at once)")
    def sign_out(self, request: Any, queryset: Any) -> None:
        ended = sum(
            sessions.revoke(session_id=str(pk), reason=SignInSession.Reason.STAFF)
            for pk in queryset.filter(revoked_at__isnull=True).values_list("pk", flat=True)
        )
        self.message_user(request, f"{ended} session(s) signed out.")


# --- OAuth2 applications (django-oauth-toolkit's admin, narrowed to what works here) ---------

OFFERED_GRANTS = (Application.GRANT_AUTHORIZATION_CODE, Application.GRANT_CLIENT_CREDENTIALS)


class ApplicationForm(oauth2_forms.ApplicationForm):
    """Only the grants this provider completes: authorization code (with PKCE) and client
    credentials. Implicit and password are refused by OAuth 2.0 Security BCP settings, device
    code and OpenID hybrid aren't set up; offering them would make applications that fail."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        grant = self.fields.get("authorization_grant_type")
        if grant is not None:
            grant.choices = [
                (v, label) for v, label in Application.GRANT_TYPES if v in OFFERED_GRANTS
            ]
        self.fields.pop("algorithm", None)  # OpenID Connect is off: no ID tokens to sign


class ApplicationAdmin(oauth2_admin.ApplicationAdmin):
    """Registered by django-oauth-toolkit through OAUTH2_PROVIDER["APPLICATION_ADMIN_CLASS"]."""

    form = ApplicationForm
    exclude = ("algorithm",)
