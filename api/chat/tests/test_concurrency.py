"""Chat under concurrency, on MariaDB: both sides sending at once, and retries of one send
racing each other."""

import pytest

from chat.models import Message
from chat.tests.factories import conversation, send
from core.tests.concurrency import race
from notifications.models import UserEvent
from stores.tests.factories import StoreFactory

pytestmark = [pytest.mark.mariadb, pytest.mark.django_db(transaction=True)]


def test_both_sides_sending_at_once_each_get_every_message_in_one_order(settings):
    settings.CHAT_MESSAGES_PER_MINUTE = 1000
    talk = conversation(store=StoreFactory())
    people = [talk.buyer, talk.store.owner]

    results = race(20, lambda n: send(talk, people[n % 2], f"message {n}").pk)

    assert not [r for r in results if isinstance(r, Exception)]
    for user in people:
        events = list(UserEvent.objects.filter(user=user, type="chat.message").order_by("seq"))
        ids = [e.data["id"] for e in events]
        assert sorted(ids) == sorted(results)  # every message, once
        assert ids == sorted(ids)  # seq order is message order


def test_racing_retries_of_one_send_make_one_message(settings):
    talk = conversation(store=StoreFactory())

    results = race(10, lambda n: send(talk, talk.buyer, "Salam", client_message_id="retry-1").pk)

    assert not [r for r in results if isinstance(r, Exception)]
    assert len(set(results)) == 1
    assert Message.objects.filter(conversation=talk).count() == 1
