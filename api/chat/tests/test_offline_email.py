"""The offline email: unread 5 minutes after it was sent and the recipient not connected → one
email per conversation listing every unread message, at most every 30 minutes; none for
messages read or deleted meanwhile. Time is frozen and moved by hand; the task runs as the
worker would run it at its eta."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from accounts.tests.factories import UserFactory
from chat import notify, services
from chat.models import Side
from chat.tests.factories import conversation, send
from notifications import presence
from stores.tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def talk():
    store = StoreFactory(name="Kassala Fruit")
    store.owner.email = "owner@kassala.example"
    store.owner.save()
    return conversation(UserFactory(first_name="Amna", last_name="Osman"), store)


def run_check(talk, side=Side.STORE, *, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return notify.email_unread(conversation_id=talk.pk, side=side)


def test_an_unread_conversation_is_emailed_once_with_every_unread_message(
    talk, django_capture_on_commit_callbacks
):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        send(talk, talk.buyer, "Are the mangoes ripe?")
        send(talk, talk.buyer, "I need 5 kg")
    with time_machine.travel(start + timedelta(minutes=5, seconds=1), tick=False):
        first = run_check(
            talk, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks
        )
        second = run_check(
            talk, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks
        )

    assert (first, second) == (1, 0)
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["owner@kassala.example"]
    assert email.subject == "2 new messages from Amna O."
    assert "Are the mangoes ripe?" in email.body
    assert "I need 5 kg" in email.body


def test_nothing_is_sent_when_the_messages_were_read_or_deleted_meanwhile(
    talk, django_capture_on_commit_callbacks
):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        read = send(talk, talk.buyer, "hello")
    with time_machine.travel(start + timedelta(minutes=3), tick=False):
        services.mark_read(conversation=talk, user=talk.store.owner, up_to_message_id=read.pk)
        deleted = send(talk, talk.buyer, "oops")
        services.delete_message(message=deleted, user=talk.buyer)
    with time_machine.travel(start + timedelta(minutes=9), tick=False):
        sent = run_check(
            talk, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks
        )

    assert sent == 0
    assert mail.outbox == []


def test_a_connected_recipient_is_not_emailed(talk, django_capture_on_commit_callbacks):
    send(talk, talk.buyer, "hello")
    presence.mark_present([talk.store.owner_id])

    assert (
        run_check(talk, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks) == 0
    )
    assert mail.outbox == []


def test_at_most_one_email_per_conversation_every_30_minutes(
    talk, django_capture_on_commit_callbacks
):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        send(talk, talk.buyer, "one")
    with time_machine.travel(start + timedelta(minutes=5), tick=False):
        run_check(talk, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
        send(talk, talk.buyer, "two")
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        too_soon = run_check(
            talk, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks
        )
    with time_machine.travel(start + timedelta(minutes=36), tick=False):
        later = run_check(
            talk, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks
        )

    assert (too_soon, later) == (0, 1)
    assert len(mail.outbox) == 2
    assert "one" in mail.outbox[1].body
    assert "two" in mail.outbox[1].body


def test_each_message_queues_the_check_for_five_minutes_later(talk):
    from core.models import OutboxMessage

    sent_at = timezone.now()
    with time_machine.travel(sent_at, tick=False):
        send(talk, talk.buyer, "hello")

    queued = OutboxMessage.objects.get(task="chat.tasks.email_unread_task")
    assert queued.kwargs == {"conversation_id": talk.pk, "side": "store"}
    assert queued.eta == sent_at + timedelta(minutes=5)


def test_the_store_writing_emails_the_buyer(talk, django_capture_on_commit_callbacks):
    talk.buyer.email = "amna@example.com"
    talk.buyer.save()
    send(talk, talk.store.owner, "Yes, ripe today")

    assert (
        run_check(
            talk, Side.BUYER, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks
        )
        == 1
    )
    assert mail.outbox[0].to == ["amna@example.com"]
    assert mail.outbox[0].subject == "A new message from Kassala Fruit"


def test_the_same_unread_messages_are_not_emailed_twice(talk, django_capture_on_commit_callbacks):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for text in ("one", "two", "three"):
            send(talk, talk.buyer, text)
    sent = []
    for minutes in (5, 36, 67):
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            sent.append(
                run_check(
                    talk, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks
                )
            )

    assert sent == [1, 0, 0]
    assert len(mail.outbox) == 1
