from celery import shared_task

from notifications import events, services


@shared_task(acks_late=True)
def deliver_email_task(*, dispatch_id: int) -> str:
    """Send one queued email now (handed over by the outbox after the notifying transaction
    committed). Failures are retried by the sweep below, after the dispatch's backoff."""
    return services.deliver(dispatch_id)


@shared_task
def send_due_email_task() -> int:
    """Beat, every 30 s: retries whose backoff is over, and dispatches whose task was lost."""
    return services.send_due()


@shared_task
def run_campaigns_task() -> int:
    """Beat, every 30 s: start due campaigns and send the next batch of each sending one."""
    from notifications import campaigns

    return campaigns.run_due()


@shared_task
def prune_events_task() -> int:
    """Beat, hourly: events older than EVENTS_KEEP_HOURS beyond each user's newest
    EVENTS_KEEP_LAST; a socket resuming from before them gets resync_required."""
    return events.prune_events()


# Compatibility: messages queued under the old one-step email tasks (by a deployment being
# replaced) still arrive — they now go through the dispatcher like everything else. The aliases
# can go once no broker or outbox holds such a message.
@shared_task(name="notifications.tasks.send_email_task")
def send_email_task(*, to: str, template: str, context: dict) -> None:
    services.send_email_after_commit(to=to, template=template, context=context)


send_email_task_previous_name = shared_task(name="core.tasks.send_email_task")(send_email_task.run)
