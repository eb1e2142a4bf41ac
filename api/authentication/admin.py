from django.contrib import admin

from authentication.models import ExternalIdentity
from core.admin import ReadOnlyAdminMixin


@admin.register(ExternalIdentity)
class ExternalIdentityAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    allow_delete = True  # staff unlink a Google account
    list_display = ("user", "provider", "email", "created_at", "last_login_at")
    list_filter = ("provider",)
    search_fields = ("user__email", "email", "subject")
    list_select_related = ("user",)
    readonly_fields = ("user", "provider", "subject", "email", "created_at", "last_login_at")
