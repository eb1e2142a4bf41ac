from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.http import HttpRequest

from accounts.models import ActivityLog, OneTimeCode, User
from core.admin import ReadOnlyAdminMixin


class _UserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email", "account_type")


class _UserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class RecentActivityInline(admin.TabularInline):
    model = ActivityLog
    fields = ("created_at", "action", "ip_address", "user_agent", "details")
    readonly_fields = fields
    ordering = ("-created_at",)
    extra = 0
    max_num = 0
    can_delete = False
    verbose_name_plural = "Recent activity (all of it under Activity logs)"

    def get_queryset(self, request: HttpRequest):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).order_by("-created_at")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = _UserChangeForm
    add_form = _UserCreationForm
    ordering = ("-date_joined",)
    list_display = ("email", "full_name", "account_type", "is_email_verified", "is_active",
                    "date_joined")  # fmt: skip
    list_filter = (
        "account_type",
        "is_email_verified",
        "is_active",
        "is_staff",
        "is_superuser",
        ("deleted_at", admin.EmptyFieldListFilter),
    )
    search_fields = ("email", "first_name", "last_name", "phone_number")
    readonly_fields = ("date_joined", "last_login", "deleted_at", "token_version")

    @admin.display(description="name", ordering="first_name")
    def full_name(self, user: User) -> str:
        return f"{user.first_name} {user.last_name}".strip() or "—"

    inlines = [RecentActivityInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (
            "Profile",
            {
                "fields": (
                    "first_name",
                    "last_name",
                    "account_type",
                    "phone_number",
                    "whatsapp_number",
                    "avatar",
                )
            },
        ),
        (
            "Status",
            {"fields": ("is_email_verified", "is_active", "deleted_at", "token_version")},
        ),
        (
            "Permissions",
            {"fields": ("is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {"classes": ("wide",), "fields": ("email", "account_type", "password1", "password2")},
        ),
    )

    def save_model(self, request: HttpRequest, obj: User, form, change: bool) -> None:  # type: ignore[no-untyped-def]
        if not change:
            obj.is_email_verified = True  # staff vouch for accounts they create by hand
        super().save_model(request, obj, form, change)


@admin.register(ActivityLog)
class ActivityLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    allow_delete = True
    list_display = ("created_at", "user", "action", "ip_address")
    list_filter = ("action",)
    search_fields = ("user__email", "ip_address")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    readonly_fields = ("user", "action", "ip_address", "user_agent", "details", "created_at")


@admin.register(OneTimeCode)
class OneTimeCodeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    allow_delete = True
    """Codes are visible for support (was one sent? is it locked?) but never their value."""

    list_display = ("user", "purpose", "created_at", "expires_at", "attempts", "used_at")
    list_filter = ("purpose",)
    search_fields = ("user__email",)
    list_select_related = ("user",)
    exclude = ("code_hash",)
    readonly_fields = (
        "user",
        "purpose",
        "target_email",
        "attempts",
        "created_at",
        "expires_at",
        "used_at",
        "superseded_at",
    )
