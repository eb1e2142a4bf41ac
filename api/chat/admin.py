from typing import Any

from django.contrib import admin, messages
from django.db.models import F, QuerySet
from django.http import HttpRequest

from chat import services
from chat.models import Conversation, Message, MessageEdit, Report
from core.admin import ReadOnlyAdminMixin


class MessageInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Message
    fields = (
        "id",
        "created_at",
        "sender_side",
        "body",
        "flags",
        "edited_at",
        "deleted_at",
        "hidden_at",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-id",)
    show_change_link = True


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "buyer", "store", "context", "last_message_at", "blocked_state")
    list_select_related = ("buyer", "store")
    search_fields = ("buyer__email", "store__name")
    readonly_fields = [f.name for f in Conversation._meta.fields]
    inlines = [MessageInline]

    @admin.display(description="blocked")
    def blocked_state(self, obj: Conversation) -> str:
        by = [
            s
            for s, at in (("buyer", obj.blocked_by_buyer_at), ("store", obj.blocked_by_store_at))
            if at
        ]
        return f"by {' and '.join(by)}" if by else "—"


class MessageEditInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = MessageEdit
    fields = ("replaced_at", "body")
    readonly_fields = fields
    extra = 0
    can_delete = False


class FlaggedFilter(admin.SimpleListFilter):
    title = "contact details or links"
    parameter_name = "flagged"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Flagged"), ("no", "Not flagged")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.exclude(flags="")
        if self.value() == "no":
            return queryset.filter(flags="")
        return queryset


@admin.register(Message)
class MessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every message with its earlier versions. Staff hide a message (both sides then see a
    tombstone); they never change its text."""

    list_display = (
        "id",
        "created_at",
        "conversation",
        "sender_side",
        "short_body",
        "flags",
        "state",
    )
    list_filter = (FlaggedFilter, "sender_side")
    list_select_related = ("conversation__buyer", "conversation__store")
    search_fields = ("body",)
    readonly_fields = [f.name for f in Message._meta.fields]
    inlines = [MessageEditInline]
    actions = ["hide"]

    @admin.display(description="text")
    def short_body(self, obj: Message) -> str:
        return obj.body[:80]

    @admin.display(description="state")
    def state(self, obj: Message) -> str:
        if obj.hidden_at:
            return "hidden by staff"
        if obj.deleted_at:
            return "deleted"
        return "edited" if obj.edited_at else "—"

    @admin.action(description="Hide the selected messages from both sides")
    def hide(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        for message in queryset:
            services.hide_message(message=message)
        self.message_user(request, f"{queryset.count()} message(s) hidden.", messages.SUCCESS)


@admin.register(Report)
class ReportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The moderation queue: open reports first. Hiding the message resolves its reports."""

    list_display = ("created_at", "reason", "message_text", "note", "resolved_at")
    list_filter = (("resolved_at", admin.EmptyFieldListFilter), "reason")
    list_select_related = ("message",)
    ordering = (F("resolved_at").desc(nulls_first=True), "created_at")
    readonly_fields = [f.name for f in Report._meta.fields]
    actions = ["hide_messages", "dismiss"]

    @admin.display(description="message")
    def message_text(self, obj: Report) -> str:
        return obj.message.body[:80]

    @admin.action(description="Hide the reported messages")
    def hide_messages(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        for report in queryset.select_related("message"):
            services.hide_message(message=report.message)
        self.message_user(request, "Messages hidden; their reports are resolved.", messages.SUCCESS)

    @admin.action(description="Dismiss (nothing to do)")
    def dismiss(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        services.dismiss_reports(reports=queryset)
        self.message_user(request, "Reports dismissed.", messages.SUCCESS)
