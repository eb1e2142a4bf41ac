"""Admin pages for this part of notifications (imported by notifications.admin)."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from core.admin import ReadOnlyAdminMixin
from notifications import newsletter
from notifications.models import Subscriber


@admin.register(Subscriber)
class SubscriberAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Newsletter addresses. Read-only: an address becomes subscribed only by its owner's
    confirmation (double opt-in), so staff can't add or subscribe one here — only unsubscribe.
    Deleting stays possible for erasure requests; note it also forgets an opt-out."""

    allow_delete = True
    list_display = ("address", "status", "language", "confirmed_at", "unsubscribed_at")
    list_filter = ("status", "language")
    search_fields = ("address",)
    list_select_related = ("user", "unsubscribed_from")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    actions = ["unsubscribe"]

    @admin.action(description="Unsubscribe the selected addresses")
    def unsubscribe(self, request: HttpRequest, queryset: QuerySet[Subscriber]) -> None:
        count = newsletter.unsubscribe_subscribers(
            subscriber_ids=queryset.values_list("pk", flat=True)
        )
        self.message_user(request, f"{count} subscriber(s) unsubscribed.", messages.SUCCESS)
