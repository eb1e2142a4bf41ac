"""Admin pages for this part of notifications (imported by notifications.admin): newsletter
campaigns with their counters, paused, resumed and cancelled through the services."""

from collections.abc import Callable

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from core.admin import ReadOnlyAdminMixin
from notifications import campaigns
from notifications.models import Campaign


def _counter(name: str, description: str) -> Callable[[admin.ModelAdmin, Campaign], int]:
    """A column for one of ``campaigns.with_counters``' annotations."""

    @admin.display(description=description, ordering=name)
    def column(model_admin: admin.ModelAdmin, obj: Campaign) -> int:
        return getattr(obj, name, 0)

    column.__name__ = name
    return column


@admin.register(Campaign)
class CampaignAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only (campaigns are scheduled through the API, which checks the template and the
    filters); the counters are counted from the campaign's dispatch rows in the list's query."""

    recipients = _counter("recipients", "recipients")
    waiting = _counter("waiting", "waiting")
    sent = _counter("sent", "sent")
    failed = _counter("failed", "failed")
    skipped = _counter("skipped", "skipped")
    bounced = _counter("bounced", "bounced")
    unsubscribed = _counter("unsubscribed", "unsubscribed")

    list_display = (
        "name", "status", "scheduled_at", "recipients", "sent", "failed", "bounced",
        "unsubscribed",
    )  # fmt: skip
    list_filter = ("status",)
    search_fields = ("name",)
    date_hierarchy = "scheduled_at"
    list_select_related = ("template", "created_by")
    fields = (
        "name", "template", "filters", "status", "scheduled_at", "rate_per_minute", "cursor",
        "created_by", "created_at", "started_at", "finished_at", "recipients", "waiting", "sent",
        "failed", "skipped", "bounced", "unsubscribed",
    )  # fmt: skip
    readonly_fields = fields
    actions = ("pause", "resume", "cancel")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Campaign]:
        return campaigns.with_counters(super().get_queryset(request))

    def _move(
        self, request: HttpRequest, queryset: QuerySet[Campaign], move: Callable, done: str
    ) -> None:
        moved, refused = campaigns.bulk_move(queryset.values_list("pk", flat=True), move)
        if moved:
            self.message_user(request, f"{len(moved)} campaign(s) {done}.", messages.SUCCESS)
        for refusal in refused:
            self.message_user(request, refusal.message, messages.WARNING)

    @admin.action(description="Pause the selected campaigns")
    def pause(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._move(request, queryset, campaigns.pause_campaign, "paused")

    @admin.action(description="Resume the selected campaigns")
    def resume(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._move(request, queryset, campaigns.resume_campaign, "resumed")

    @admin.action(description="Cancel the selected campaigns (for good)")
    def cancel(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._move(request, queryset, campaigns.cancel_campaign, "cancelled")
