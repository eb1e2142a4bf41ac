"""Development email: each message as a few readable log lines instead of raw MIME on stdout.

The console backend prints the whole MIME message (base64 parts, boundaries) to stdout, which
Celery's worker turns into WARNING lines. Here the recipient, the subject and the text part go
to the ``notifications.email`` logger at INFO, so a one-time code is one line away in the
``make run`` output. Never the default with DEBUG off: codes must not reach production logs.
"""

import logging
from collections.abc import Sequence

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage

logger = logging.getLogger("notifications.email")


class LogEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        for message in email_messages:
            attachments = [a[0] if isinstance(a, tuple) else a.get_filename()
                           for a in message.attachments]  # fmt: skip
            logger.info(
                "email to %s: %s\n%s%s",
                ", ".join(message.recipients()),
                message.subject,
                message.body.strip(),
                f"\n[attachments: {', '.join(map(str, attachments))}]" if attachments else "",
            )
        return len(email_messages)
