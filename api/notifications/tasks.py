from celery import shared_task

from notifications import events, services


@shared_task(
    autoretry_for=(OSError,),  # SMTP connection problems: retry with backoff
    retry_backoff=30,
    retry_kwargs={"max_retries": 5},
)
def send_email_task(*, to: str, template: str, context: dict) -> None:
    services.send_email(to=to, template=template, context=context)


# Compatibility note: this task was registered as "core.tasks.send_email_task" before email moved
# into this app. Messages queued under the old name by a deployment being replaced are still
# delivered; the alias can go once no broker holds such a message.
send_email_task_previous_name = shared_task(
    name="core.tasks.send_email_task",
    autoretry_for=(OSError,),
    retry_backoff=30,
    retry_kwargs={"max_retries": 5},
)(send_email_task.run)


@shared_task
def prune_events_task() -> int:
    """Beat, hourly: events older than EVENTS_KEEP_HOURS beyond each user's newest
    EVENTS_KEEP_LAST; a socket resuming from before them gets resync_required."""
    return events.prune_events()
