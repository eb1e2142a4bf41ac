from django.contrib import admin

from core.admin import ReadOnlyAdminMixin
from notifications.models import UserEvent


@admin.register(UserEvent)
class UserEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What each user's sockets were told, for support ("I never heard my payment went
    through"). Pruned by beat after a day beyond the newest thousand."""

    allow_delete = True  # cascades from a user
    list_display = ("created_at", "user", "seq", "type")
    list_filter = ("type",)
    search_fields = ("=user__email", "type")
    list_select_related = ("user",)
    date_hierarchy = "created_at"


from notifications import admin_campaigns, admin_newsletter, admin_tracking  # noqa: E402,F401
