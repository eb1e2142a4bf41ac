"""Mail backends for tests, at the provider boundary: one that records which credentials each
message went out with, one that fails like an SMTP server that went away."""

import smtplib
import threading
import time
from collections.abc import Sequence
from typing import Any

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage

sent: list[tuple[str, str]] = []  # (the connection's username, the message's From)
_lock = threading.Lock()


class RecordingBackend(BaseEmailBackend):
    def __init__(self, username: str = "", password: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.username, self.password = username, password

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        for message in email_messages:
            time.sleep(0.001)  # let the other thread's sends interleave with this one's
            with _lock:
                sent.append((self.username, message.from_email))
        return len(email_messages)


class DownBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
