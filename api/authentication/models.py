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
