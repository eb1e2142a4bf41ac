"""Transactional email, the port every domain app sends through.

Callers hand over primitives — an address, a template name, a JSON-safe context — and never a
model: the notifications app imports no domain app (DESIGN.md). ``send_email_after_commit`` writes
a Celery task to the outbox in the caller's transaction (``core.outbox``), so a rolled-back
registration emails nobody, a broker outage only delays the email, and SMTP latency never holds a
request or a row lock.
"""

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from core import outbox
from notifications.rendering import render_email

logger = logging.getLogger(__name__)


def send_email(*, to: str, template: str, context: Mapping[str, Any]) -> None:
    rendered = render_email(template=template, context=context)
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
    )
    message.attach_alternative(rendered.html, "text/html")
    message.send()
    logger.info("sent %s email", template, extra={"email_template": template})


@dataclass(frozen=True)
class Email:
    to: str
    template: str
    context: Mapping[str, Any]


def send_email_after_commit(*, to: str, template: str, context: Mapping[str, Any]) -> None:
    """Queue ``template`` for ``to`` once the current transaction commits.

    ``context`` travels through the broker: JSON-safe values only.
    """
    send_emails_after_commit([Email(to=to, template=template, context=context)])


def send_emails_after_commit(emails: Sequence[Email]) -> None:
    """Several at once (a sweep's): one outbox write, one hand-over after commit."""
    from notifications.tasks import send_email_task

    outbox.enqueue_many(
        send_email_task,
        [{"to": e.to, "template": e.template, "context": dict(e.context)} for e in emails],
    )
