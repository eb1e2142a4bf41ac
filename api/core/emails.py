"""Transactional email from templates: ``emails/<name>.subject.txt``, ``.txt`` and ``.html``.

Services call ``send_email_after_commit``; a Celery task renders and sends once the transaction
commits, so a rolled-back registration never emails anyone and SMTP latency never holds a
request or a row lock.
"""

import logging
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


def render_email(*, template: str, context: Mapping[str, Any]) -> tuple[str, str, str]:
    """``(subject, text, html)`` for ``template`` rendered with ``context``."""
    full_context = {"site_name": "Sudamall", **context}
    subject = render_to_string(f"emails/{template}.subject.txt", full_context)
    text = render_to_string(f"emails/{template}.txt", full_context)
    html = render_to_string(f"emails/{template}.html", full_context)
    return " ".join(subject.split()), text, html


def send_email(*, to: str, template: str, context: Mapping[str, Any]) -> None:
    subject, text, html = render_email(template=template, context=context)
    message = EmailMultiAlternatives(
        subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[to]
    )
    message.attach_alternative(html, "text/html")
    message.send()
    logger.info("sent %s email", template, extra={"email_template": template})


def send_email_after_commit(*, to: str, template: str, context: Mapping[str, Any]) -> None:
    """Queue ``template`` for ``to`` once the current transaction commits.

    ``context`` travels through the broker: JSON-safe values only.
    """
    from core.tasks import send_email_task

    send_email_task.delay_on_commit(to=to, template=template, context=dict(context))  # type: ignore[attr-defined]
