from celery import shared_task

from chat import notify


@shared_task(ignore_result=True)
def email_unread_task(*, conversation_id: int, side: str) -> int:
    """Queued CHAT_EMAIL_AFTER_MINUTES after each message: emails the recipient side what it
    still hasn't read, unless it is online or was emailed less than 30 minutes ago."""
    return notify.email_unread(conversation_id=conversation_id, side=side)
