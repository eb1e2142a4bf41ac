"""The task outbox: a broker that refuses a hand-over fails no request and loses no task; a
rollback queues nothing; each message runs once however many copies the broker delivers.

The broker's refusal is kombu's own OperationalError raised where the publish happens (what a
stopped Redis raises); the integration tier stops a real Redis (ops/tests/test_integration_faults).
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerDown
from rest_framework.test import APIClient

from authentication.tests.conftest import PASSWORD
from core import outbox
from core.models import OutboxMessage
from notifications.models import Dispatch
from notifications.services import send_email_after_commit
from notifications.tasks import deliver_email_task, send_email_task

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def broker_down(monkeypatch):
    """Every hand-over is refused as a stopped broker refuses it, until ``.up()``."""
    refused: list[str] = []
    original = deliver_email_task.apply_async

    def refuse(*args, **kwargs):
        dispatch = Dispatch.objects.get(pk=kwargs.get("kwargs", {}).get("dispatch_id"))
        refused.append(dispatch.kind)
        raise BrokerDown("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    class Broker:
        attempts = refused

        @staticmethod
        def up() -> None:
            monkeypatch.setattr(deliver_email_task, "apply_async", original)

    monkeypatch.setattr(outbox, "_broker_down_until", 0.0)
    monkeypatch.setattr(deliver_email_task, "apply_async", refuse)
    monkeypatch.setattr("django.conf.settings.CELERY_TASK_ALWAYS_EAGER", False)
    return Broker


def test_a_rolled_back_change_queues_nothing():
    def failing_change() -> None:
        with transaction.atomic():
            send_email_after_commit(to="amna@example.com", template="welcome", context={})
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        failing_change()

    assert OutboxMessage.objects.count() == 0
    assert mail.outbox == []


def test_a_task_runs_and_leaves_no_message_behind():
    send_email_after_commit(
        to="amna@example.com", template="welcome", context={"first_name": "Amna"}
    )

    assert [m.to for m in mail.outbox] == [["amna@example.com"]]
    assert OutboxMessage.objects.count() == 0


def test_registration_succeeds_with_the_broker_down_and_the_email_follows(broker_down):
    answer = APIClient().post(
        "/api/auth/register/",
        {"email": "amna@example.com", "password": PASSWORD, "first_name": "Amna",
         "last_name": "Osman", "account_type": "buyer"},
        format="json",
    )  # fmt: skip
    reset = APIClient().post(
        "/api/auth/password-reset/", {"email": "amna@example.com"}, format="json"
    )

    assert answer.status_code == 201
    assert reset.status_code in (200, 202)
    assert broker_down.attempts == ["code"]  # one refusal; the rest wait for the relay
    code, reset_email = OutboxMessage.objects.order_by("created_at")  # both wait in the outbox
    assert code.published_at is None
    assert code.publish_attempts == 1
    assert "Connection refused" in code.last_error
    assert reset_email.published_at is None
    assert reset_email.publish_attempts == 0
    assert mail.outbox == []

    broker_down.up()
    OutboxMessage.objects.update(created_at=timezone.now() - timedelta(seconds=5))
    with pytest.MonkeyPatch.context() as eager:
        eager.setattr("django.conf.settings.CELERY_TASK_ALWAYS_EAGER", True)
        assert outbox.relay() == 2

    assert sorted(m.subject for m in mail.outbox) == [
        "Confirm your email address — Sudamall",
        "Reset your password — Sudamall",
    ]
    assert OutboxMessage.objects.count() == 0


def test_a_second_copy_of_a_message_is_skipped():
    message = OutboxMessage.objects.create(
        task=send_email_task.name,
        kwargs={"to": "amna@example.com", "template": "welcome", "context": {}},
    )

    first = send_email_task.apply(kwargs=message.kwargs, headers={"outbox_id": message.pk})
    assert OutboxMessage.objects.filter(pk=message.pk).exists() is False  # done: deleted
    copy = send_email_task.apply(kwargs=message.kwargs, headers={"outbox_id": message.pk})

    assert first.successful()
    assert copy.successful()
    assert len(mail.outbox) == 1


def test_a_copy_arriving_while_the_first_runs_is_skipped_but_a_redelivery_is_not():
    message = OutboxMessage.objects.create(task=send_email_task.name, kwargs={})

    assert outbox.claim(message.pk, "task-a")
    assert not outbox.claim(message.pk, "task-b")  # another copy, while task-a holds it
    assert outbox.claim(message.pk, "task-a")  # task-a's worker died; the broker redelivers

    OutboxMessage.objects.filter(pk=message.pk).update(
        started_at=timezone.now() - timedelta(hours=1)
    )
    assert outbox.claim(message.pk, "task-b")  # a claim past its lease is a dead worker's


def test_the_relay_hands_over_again_a_message_the_broker_lost():
    now = timezone.now()
    lost = OutboxMessage.objects.create(
        task=send_email_task.name,
        kwargs={"to": "amna@example.com", "template": "welcome", "context": {}},
        published_at=now - timedelta(minutes=10),  # accepted, never started: Redis restarted
    )
    OutboxMessage.objects.create(  # accepted a moment ago: still on its way
        task=send_email_task.name, kwargs={}, published_at=now
    )
    OutboxMessage.objects.create(  # a timer not yet due
        task=send_email_task.name, kwargs={}, published_at=now - timedelta(minutes=10),
        eta=now + timedelta(minutes=5),
    )  # fmt: skip

    assert outbox.relay() == 1

    assert [m.to for m in mail.outbox] == [["amna@example.com"]]
    assert not OutboxMessage.objects.filter(pk=lost.pk).exists()
    assert OutboxMessage.objects.count() == 2


def test_a_hand_over_the_broker_takes_writes_nothing_more(monkeypatch):
    """The row is written as handed over; a success costs no second statement, and a row whose
    process stopped before its hand-over is the relay's once it is overdue."""
    taken: list[dict] = []
    monkeypatch.setattr("django.conf.settings.CELERY_TASK_ALWAYS_EAGER", False)
    monkeypatch.setattr(outbox, "_broker_down_until", 0.0)
    monkeypatch.setattr(send_email_task, "apply_async", lambda **kwargs: taken.append(kwargs))

    with CaptureQueriesContext(connection) as statements, transaction.atomic():
        outbox.enqueue(send_email_task, {"to": "amna@example.com", "template": "welcome"})
    (message,) = OutboxMessage.objects.all()

    # The INSERT; the hand-over after the commit writes nothing.
    (write,) = [q["sql"] for q in statements if "outboxmessage" in q["sql"]]
    assert "INSERT INTO" in write
    assert [t["headers"] for t in taken] == [{"outbox_id": str(message.pk)}]
    assert message.published_at is not None
    assert message.publish_attempts == 1
    assert outbox.relay() == 0  # on its way: not handed over twice

    OutboxMessage.objects.update(published_at=timezone.now() - timedelta(minutes=10))
    assert outbox.relay() == 1  # never started: handed over again
