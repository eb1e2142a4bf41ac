import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class ExternalIdentity(models.Model):
    """An account at an identity provider (Google) linked to a Sudamall user."""

    class Provider(models.TextChoices):
        GOOGLE = "google", "Google"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="external_identities"
    )
    provider = models.CharField(max_length=20, choices=Provider.choices)
    subject = models.CharField(max_length=255, help_text="The provider's stable user id (sub).")
    email = models.EmailField()
    created_at = models.DateTimeField(default=timezone.now)
    last_login_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "external identities"
        constraints = [
            models.UniqueConstraint(fields=["provider", "subject"], name="external_identity_unique")
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.subject} → user {self.user_id}"


class SignInSession(models.Model):
    """One sign-in: every refresh token rotated from its first is of this family, and every
    access token minted with them carries its id (the ``sid`` claim). Signing out, or a rotated
    refresh token used again (a stolen copy, OAuth 2.0 Security BCP), revokes the whole family:
    its refresh tokens, its access tokens and its open sockets."""

    class Reason(models.TextChoices):
        LOGOUT = "logout", "Signed out"
        REUSE = "reuse", "A rotated refresh token was used again"
        STAFF = "staff", "Signed out by staff"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sign_in_sessions"
    )
    created_at = models.DateTimeField(default=timezone.now)
    refreshed_at = models.DateTimeField(default=timezone.now)  # its newest refresh token's birth
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=20, choices=Reason.choices, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "created_at"], name="session_user_recent"),
            models.Index(fields=["refreshed_at"], name="session_refreshed"),
        ]

    def __str__(self) -> str:
        return f"session {self.id} of user {self.user_id}"
