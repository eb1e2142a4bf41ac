"""The in-app notification centre and each person's notification preferences.

Selectors take the caller's id, so someone else's notification is never touched (marking
another person's ids read changes nothing: they are not in the caller's rows).
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from notifications import kinds as registry
from notifications.models import Notification, Preference


class PreferenceError(ValueError):
    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        super().__init__("invalid preferences")
        self.errors = dict(errors)


def notifications_of(user_id: int) -> QuerySet[Notification]:
    return Notification.objects.filter(user_id=user_id).order_by("-id")


def unread_count(user_id: int) -> int:
    return Notification.objects.filter(user_id=user_id, read_at__isnull=True).count()


def mark_read(*, user_id: int, ids: Iterable[int] | None = None) -> int:
    """Mark the caller's notifications read (``ids``, or all when None); returns the unread
    count after. Ids that aren't the caller's, or don't exist, are ignored."""
    rows = Notification.objects.filter(user_id=user_id, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    rows.update(read_at=timezone.now())
    return unread_count(user_id)


def preferences_of(user_id: int) -> list[dict[str, Any]]:
    """Every kind a person can receive, with their choice or the kind's default."""
    rows = {p.kind: p for p in Preference.objects.filter(user_id=user_id)}
    answer = []
    for kind in registry.all_kinds():
        row = rows.get(kind.name)
        email = kind.email_default if row is None else row.email
        in_app = (kind.in_app_default if row is None else row.in_app) and kind.in_app
        answer.append(
            {
                "kind": kind.name,
                "category": kind.category,
                "description": kind.description,
                "email": True if kind.mandatory else email,
                "in_app": (True if kind.mandatory else in_app) and kind.in_app,
                "in_app_available": kind.in_app,
                "mandatory": kind.mandatory,
            }
        )
    return answer


def set_preferences(*, user_id: int, changes: Sequence[Mapping[str, Any]]) -> list[dict]:
    """Apply ``[{kind, email?, in_app?}]``. Turning a mandatory kind off, or naming a kind that
    doesn't exist, is refused as a whole (nothing changes)."""
    errors: dict[str, list[str]] = {}
    for change in changes:
        name = change["kind"]
        try:
            kind = registry.get(name)
        except registry.UnknownKind:
            errors.setdefault(name, []).append("No such kind of notification.")
            continue
        if kind.mandatory and (change.get("email") is False or change.get("in_app") is False):
            errors.setdefault(name, []).append(
                f"{kind.category.capitalize()} notifications can't be turned off."
            )
    if errors:
        raise PreferenceError(errors)
    with transaction.atomic():
        current = {p.kind: p for p in Preference.objects.select_for_update().filter(
            user_id=user_id, kind__in=[c["kind"] for c in changes])}  # fmt: skip
        for change in changes:
            kind = registry.get(change["kind"])
            if kind.mandatory:
                continue
            row = current.get(kind.name) or Preference(
                user_id=user_id,
                kind=kind.name,
                email=kind.email_default,
                in_app=kind.in_app_default,
            )
            if "email" in change:
                row.email = change["email"]
            if "in_app" in change:
                row.in_app = change["in_app"]
            row.save()
            current[kind.name] = row
    return preferences_of(user_id)
