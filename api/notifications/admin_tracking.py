"""Admin pages for this part of notifications (imported by notifications.admin): the providers'
delivery reports, and the addresses no marketing email goes to."""

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from core.admin import ReadOnlyAdminMixin
from notifications.models import Suppression, TrackingEvent


@admin.register(TrackingEvent)
class TrackingEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What the email providers reported (notifications.tracking), as received: read-only."""

    list_display = ("received_at", "provider", "event_type", "reject_reason", "recipient")
    list_filter = ("provider", "event_type", "reject_reason")
    search_fields = ("=recipient", "=message_id", "=event_id")
    date_hierarchy = "received_at"
    ordering = ("-received_at", "-id")


class SuppressionForm(forms.ModelForm):
    class Meta:
        model = Suppression
        fields = ("address", "detail")

    def clean_address(self) -> str:
        # Stored lowercased, as services.is_suppressed looks it up; so is the unique check.
        return self.cleaned_data["address"].strip().lower()


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    """Addresses no marketing email goes to (transactional mail still does): hard bounces and
    complaints reported by the provider, and staff's own. Staff add an address here (reason
    "added by staff") and may remove any row — say, a mailbox that bounced and works again."""

    form = SuppressionForm
    list_display = ("address", "reason", "detail", "created_at")
    list_filter = ("reason",)
    search_fields = ("address",)
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return (
            ("address", "detail") if obj is None else ("address", "reason", "detail", "created_at")
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else ("address", "reason", "created_at")

    def save_model(self, request: HttpRequest, obj: Suppression, form: Any, change: bool) -> None:
        if not change:
            obj.reason = Suppression.Reason.MANUAL
        super().save_model(request, obj, form, change)
