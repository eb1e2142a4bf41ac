from celery import shared_task

from authentication import sessions


@shared_task
def prune_sign_in_sessions_task() -> int:
    """Beat, daily: sign-in sessions whose refresh tokens have all expired, and the expired
    refresh-token records themselves."""
    return sessions.prune()
