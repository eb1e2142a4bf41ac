from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **fields: Any) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> "User":
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> "User":
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        fields.setdefault("is_email_verified", True)
        if fields["is_staff"] is not True or fields["is_superuser"] is not True:
            raise ValueError("A superuser must have is_staff and is_superuser set.")
        return self._create_user(email, password, **fields)

    def get_by_natural_key(self, username: str | None) -> "User":
        # Emails are stored lower-cased; logins match whatever case the user types.
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A person: buyer, store owner or staff. The email address is the login name.

    ``is_email_verified`` gates login: an account registered with a password can't get tokens
    until it proves the address. ``is_active`` is for suspension and deletion.
    """

    class AccountType(models.TextChoices):
        BUYER = "buyer", "Buyer"
        BUSINESS_OWNER = "business_owner", "Business owner"

    email = models.EmailField(unique=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    account_type = models.CharField(
        max_length=20, choices=AccountType.choices, default=AccountType.BUYER
    )
    # The language of the emails and notifications this person receives (Arabic by default).
    language = models.CharField(
        max_length=2, choices=[("ar", "العربية"), ("en", "English")], default="ar"
    )
    phone_number = PhoneNumberField(blank=True)
    whatsapp_number = PhoneNumberField(blank=True)
    avatar = models.ImageField(upload_to="avatars/%Y/%m/", blank=True)
    is_email_verified = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    # Carried in every token as "ver"; bumping it revokes every token issued before
    # (password reset, account deletion).
    token_version = models.PositiveIntegerField(default=0)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[UserManager] = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["-date_joined"]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name


class ActivityLog(models.Model):
    """What happened to an account, when, and from where. Append-only."""

    class Action(models.TextChoices):
        REGISTERED = "registered", "Registered"
        EMAIL_VERIFIED = "email_verified", "Email verified"
        LOGIN = "login", "Logged in"
        LOGIN_FAILED = "login_failed", "Login failed"
        LOGOUT = "logout", "Logged out"
        TOKEN_REFRESHED = "token_refreshed", "Token refreshed"
        CODE_REQUESTED = "code_requested", "Code requested"
        PASSWORD_RESET = "password_reset", "Password reset"
        PASSWORD_CHANGED = "password_changed", "Password changed"
        EMAIL_CHANGED = "email_changed", "Email changed"
        PROFILE_UPDATED = "profile_updated", "Profile updated"
        GOOGLE_LINKED = "google_linked", "Google account linked"
        GOOGLE_LOGIN = "google_login", "Logged in with Google"
        ACCOUNT_DELETED = "account_deleted", "Account deleted"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="activity"
    )
    action = models.CharField(max_length=32, choices=Action.choices)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="activity_user_recent")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.action} at {self.created_at:%Y-%m-%d %H:%M}"


class OneTimeCode(models.Model):
    """A 6-digit code emailed for one purpose. Only its keyed hash is stored.

    One mechanism for every purpose: a new code for the same user and purpose supersedes the
    previous one, a code works once, expires after ``OTP_TTL`` and locks after
    ``OTP_MAX_ATTEMPTS`` wrong tries.
    """

    class Purpose(models.TextChoices):
        VERIFY_EMAIL = "verify_email", "Verify email"
        PASSWORD_RESET = "password_reset", "Password reset"
        DELETE_ACCOUNT = "delete_account", "Delete account"
        CHANGE_EMAIL = "change_email", "Change email"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="one_time_codes"
    )
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    code_hash = models.CharField(max_length=64)
    # For change_email: the address the code was sent to and that it will confirm.
    target_email = models.EmailField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "purpose", "-created_at"], name="otp_user_purpose_recent")
        ]

    def __str__(self) -> str:
        return f"{self.purpose} code for user {self.user_id}"

    @property
    def is_locked(self) -> bool:
        return self.attempts >= settings.OTP_MAX_ATTEMPTS
