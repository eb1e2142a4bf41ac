"""What a developer sees of an email in the `make run` log: readable lines, not raw MIME."""

import logging

from django.core.mail import EmailMultiAlternatives, get_connection


def test_the_development_backend_logs_recipient_subject_and_text(caplog):
    message = EmailMultiAlternatives(
        subject="Your Sudamall code",
        body="Hello Amna,\n\nYour code is 123456.\n",
        from_email="no-reply@sudamall.local",
        to=["amna@example.com"],
    )
    message.attach_alternative("<p>Your code is <b>123456</b></p>", "text/html")
    message.attach("receipt.pdf", b"%PDF-1.4", "application/pdf")
    backend = get_connection("notifications.email_backends.LogEmailBackend")

    with caplog.at_level(logging.INFO, logger="notifications.email"):
        sent = backend.send_messages([message])

    (record,) = caplog.records
    assert sent == 1
    assert record.levelno == logging.INFO
    text = record.getMessage()
    assert text.startswith("email to amna@example.com: Your Sudamall code\nHello Amna,")
    assert "Your code is 123456." in text
    assert "[attachments: receipt.pdf]" in text
    assert "Content-Transfer-Encoding" not in text
    assert "<b>" not in text
