from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from core.models import IdempotencyKey, OutboxMessage


class ReadOnlyAdminMixin:
    """For rows only services write: staff read them and act through admin actions (which call
    the services, so the admin can't skip a check the API enforces), never add, edit or delete
    them in a form. The change page shows every field read-only, with no Save button.
    Works on inlines too.

    ``allow_delete = True`` keeps deleting for rows that hang off a user by CASCADE (an
    activity log, codes, keys): the admin refuses to delete a user while any of its cascaded
    models denies deletion.
    """

    allow_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.allow_delete and super().has_delete_permission(request, obj)  # type: ignore[misc]


def money_column(field: str, description: str) -> Callable[[Any], str]:
    """A change-list column "12.50 SDG": amount and currency in one, so lists of money fit
    a 1280-px screen without a separate currency column."""

    @admin.display(description=description, ordering=field)
    def column(obj: Any) -> str:
        return f"{getattr(obj, field)} {obj.currency}"

    column.__name__ = f"{field}_with_currency"
    return column


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    allow_delete = True
    list_display = ("key", "user", "method", "path", "status", "response_status", "created_at")
    list_filter = ("status", "method")
    search_fields = ("key", "path", "user__email")
    list_select_related = ("user",)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Tasks not yet run: what waits for the broker (published_at empty) or for a worker."""

    list_display = (
        "id", "task", "created_at", "eta", "published_at", "publish_attempts", "started_at",
        "short_error",
    )  # fmt: skip
    list_filter = ("task",)
    search_fields = ("task",)
    readonly_fields = (
        "task", "kwargs", "eta", "created_at", "published_at", "publish_attempts", "claimed_by",
        "started_at", "last_error",
    )  # fmt: skip
    actions = ("hand_over_now",)

    @admin.display(description="last error")
    def short_error(self, obj: OutboxMessage) -> str:
        return obj.last_error[:80]

    @admin.action(description="Hand the due ones to the broker now (the relay does it anyway)")
    def hand_over_now(self, request: HttpRequest, queryset: Any) -> None:
        from core import outbox

        self.message_user(request, f"{outbox.relay()} task(s) handed to the broker.")
