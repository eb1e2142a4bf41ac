"""Who has a live socket, by server heartbeat: each open ``/ws/events/`` socket marks its user
present when it authenticates, and each web process's poll renews the mark for all its sockets
every PRESENCE_HEARTBEAT_SECONDS (one statement); a mark older than PRESENCE_TTL_SECONDS means
gone. Nothing a client sends sets presence, and a socket that died without a goodbye simply
stops renewing it. Marks live in the database (``Presence``), so the worker — which decides
whether to email someone — sees them in every running mode, the embedded one included."""

from collections.abc import Iterable
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from notifications.models import Presence

PRESENCE_TTL_SECONDS = 75
PRESENCE_HEARTBEAT_SECONDS = 30


def mark_present(user_ids: Iterable[int]) -> None:
    now = timezone.now()
    # An upsert: ON CONFLICT (user) on SQLite, ON DUPLICATE KEY on MariaDB (which names no
    # conflict target).
    Presence.objects.bulk_create(
        [Presence(user_id=user_id, seen_at=now) for user_id in sorted(set(user_ids))],
        update_conflicts=True,
        update_fields=["seen_at"],
        unique_fields=None if connection.vendor == "mysql" else ["user"],
    )


def present(user_ids: Iterable[int]) -> set[int]:
    since = timezone.now() - timedelta(seconds=PRESENCE_TTL_SECONDS)
    return set(
        Presence.objects.filter(user_id__in=set(user_ids), seen_at__gte=since).values_list(
            "user_id", flat=True
        )
    )
