"""Sending under concurrency, on MariaDB: sender identities in parallel threads never swap
credentials; racing deliveries of the same dispatches (a task's second copy, the sweep, a
resend) send each email once."""

import pytest
from django.core import mail
from django.db import transaction
from django.test import override_settings

from core.tests.concurrency import race
from notifications import services
from notifications.models import Dispatch
from notifications.tests import backends

pytestmark = [pytest.mark.mariadb, pytest.mark.django_db(transaction=True)]

RECORDING = "notifications.tests.backends.RecordingBackend"
IDENTITIES = {
    "no-reply": {"from_email": "no-reply@sudamall.test",
                 "options": {"backend": RECORDING, "username": "no-reply-user"}},
    "security": {"from_email": "security@sudamall.test",
                 "options": {"backend": RECORDING, "username": "security-user"}},
}  # fmt: skip


def queued(kind: str, count: int) -> list[int]:
    """``count`` dispatches of ``kind`` waiting for a worker (no task ran for them)."""
    ids = []
    with override_settings(CELERY_TASK_ALWAYS_EAGER=False), transaction.atomic():
        for n in range(count):
            dispatch = services.notify(kind, key=f"{kind}:{n}", context={"first_name": "A"},
                                       address=f"user{n}@example.com", in_app=False)  # fmt: skip
            assert dispatch is not None
            ids.append(dispatch.pk)
    return ids


def test_two_identities_sending_at_once_never_swap_credentials():
    backends.sent.clear()
    # welcome sends as no-reply, password_changed as security.
    work = {0: queued("welcome", 40), 1: queued("password_changed", 40)}

    def send(index: int) -> int:
        try:
            return sum(services.deliver(pk) == Dispatch.State.SENT for pk in work[index])
        finally:
            services.forget_connections()

    with override_settings(NOTIFICATION_IDENTITIES=IDENTITIES):
        results = race(2, send)

    assert sorted(results) == [40, 40]
    assert len(backends.sent) == 80
    assert set(backends.sent) == {
        ("no-reply-user", "no-reply@sudamall.test"),
        ("security-user", "security@sudamall.test"),
    }


def test_racing_deliveries_of_the_same_emails_send_each_once():
    ids = queued("welcome", 30)

    def deliver_all(index: int) -> int:
        order = ids if index % 2 else list(reversed(ids))
        return sum(services.deliver(pk) == Dispatch.State.SENT for pk in order)

    results = race(6, deliver_all)

    assert not [r for r in results if isinstance(r, Exception)]
    assert sum(results) == 30
    assert sorted(m.to[0] for m in mail.outbox) == sorted(f"user{n}@example.com" for n in range(30))
    assert set(Dispatch.objects.values_list("state", flat=True)) == {Dispatch.State.SENT}


def test_the_same_notification_triggered_at_once_from_many_requests_is_sent_once():
    from accounts.tests.factories import UserFactory
    from notifications.models import Notification

    amna = UserFactory()

    def trigger(index: int) -> bool:
        with transaction.atomic():  # each racer inside its own request's transaction
            dispatch = services.notify(
                "password_changed", key=f"password_changed:{amna.pk}:3",
                context={"first_name": "Amna"}, user_id=amna.pk, address=amna.email,
            )  # fmt: skip
        return dispatch is not None

    results = race(8, trigger)

    assert not [r for r in results if isinstance(r, Exception)]
    assert sorted(results) == [False] * 7 + [True]
    assert Dispatch.objects.count() == 1
    assert Notification.objects.filter(user=amna).count() == 1
    assert [m.to for m in mail.outbox] == [[amna.email]]
