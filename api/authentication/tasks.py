from celery import shared_task

from authentication import services, sessions
from core.clients import ClientInfo


@shared_task
def prune_sign_in_sessions_task() -> int:
    """Beat, daily: sign-in sessions whose refresh tokens have all expired, and the expired
    refresh-token records themselves."""
    return sessions.prune()


@shared_task
def password_reset_task(*, email: str, ip: str | None = None, user_agent: str = "") -> None:
    services.send_password_reset_code(email=email, client=ClientInfo(ip, user_agent))


@shared_task
def resend_verification_task(*, email: str, ip: str | None = None, user_agent: str = "") -> None:
    services.send_verification_code(email=email, client=ClientInfo(ip, user_agent))
