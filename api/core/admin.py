from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from core.models import IdempotencyKey


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
