"""Who has a live socket, by server heartbeat: each open ``/ws/events/`` socket marks its user
present on connect and every PRESENCE_HEARTBEAT_SECONDS after (the process's poll does it for
all its sockets at once); the mark expires PRESENCE_TTL_SECONDS later. Nothing a client sends
sets presence, and a socket that died without a goodbye simply stops renewing it."""

from collections.abc import Iterable

from django.core.cache import cache

PRESENCE_TTL_SECONDS = 75
PRESENCE_HEARTBEAT_SECONDS = 30


def _key(user_id: int) -> str:
    return f"presence:{user_id}"


def mark_present(user_ids: Iterable[int]) -> None:
    cache.set_many({_key(user_id): 1 for user_id in set(user_ids)}, PRESENCE_TTL_SECONDS)


def present(user_ids: Iterable[int]) -> set[int]:
    wanted = {_key(user_id): user_id for user_id in set(user_ids)}
    return {wanted[key] for key in cache.get_many(list(wanted))}
