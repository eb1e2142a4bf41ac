"""The event log itself: numbering, commit and rollback, the poll endpoint, retention."""

from decimal import Decimal

import pytest
from channels.layers import get_channel_layer
from django.db import transaction
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from core.realtime import user_group
from core.tests.concurrency import race
from notifications import events
from notifications.models import UserEvent

pytestmark = pytest.mark.django_db


def test_each_user_has_their_own_seq_starting_at_one():
    amna, omer = UserFactory(), UserFactory()

    seqs = [events.push_to_user(user.pk, "cart.updated", {}).seq for user in (amna, omer, amna)]

    assert seqs == [1, 1, 2]
    assert events.last_seq(amna.pk) == 2


def test_data_is_stored_json_encoded():
    user = UserFactory()

    events.push_to_user(user.pk, "payment.succeeded", {"amount": Decimal("12.50")})

    assert UserEvent.objects.get(user=user).data == {"amount": "12.50"}


def test_work_that_rolled_back_stores_nothing_and_rings_nothing(
    django_capture_on_commit_callbacks,
):
    user = UserFactory()

    def move_that_fails() -> None:
        with transaction.atomic():
            events.push_to_user(user.pk, "order.status_changed", {"id": 1})
            raise RuntimeError("the order move failed")

    with django_capture_on_commit_callbacks() as rings, pytest.raises(RuntimeError):
        move_that_fails()

    assert not UserEvent.objects.filter(user=user).exists()
    assert rings == []
    assert events.push_to_user(user.pk, "order.status_changed", {"id": 1}).seq == 1


def test_the_ring_goes_out_after_commit_with_the_stored_event(django_capture_on_commit_callbacks):
    from asgiref.sync import async_to_sync

    user = UserFactory()
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(user_group(user.pk), channel)

    with django_capture_on_commit_callbacks(execute=True):
        events.push_to_user(user.pk, "checkout.created", {"id": 4})

    assert async_to_sync(layer.receive)(channel) == {
        "type": "user.event",
        "event": {"type": "checkout.created", "seq": 1, "data": {"id": 4}},
    }


def test_several_users_are_numbered_in_user_id_order():
    users = [UserFactory() for _ in range(3)]

    events.push_to_users([u.pk for u in reversed(users)], "chat.typing", {})

    ordered = list(UserEvent.objects.order_by("pk").values_list("user_id", flat=True))
    assert ordered == sorted(u.pk for u in users)


@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True)
def test_concurrent_events_for_one_user_get_every_seq_once():
    user = UserFactory()

    def push_ten(index: int) -> None:
        for n in range(10):
            with transaction.atomic():
                events.push_to_user(user.pk, "cart.updated", {"writer": index, "n": n})

    assert race(8, push_ten) == [None] * 8
    seqs = list(UserEvent.objects.filter(user=user).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, 81))
    # Each writer's events keep their order: seq order is commit order for one user.
    for writer in range(8):
        mine = UserEvent.objects.filter(user=user, data__writer=writer).order_by("seq")
        assert [e.data["n"] for e in mine] == list(range(10))


# --- GET /api/events/ ----------------------------------------------------------------------------


def test_a_polling_client_reads_the_same_stream(make_auth_client):
    user = UserFactory()
    for n in range(3):
        events.push_to_user(user.pk, "cart.updated", {"n": n})
    client = make_auth_client(user)

    first = client.get("/api/events/?after_seq=1").json()

    assert [e["seq"] for e in first["results"]] == [2, 3]
    assert first["results"][0] == {"type": "cart.updated", "seq": 2, "data": {"n": 1}}
    assert (first["last_seq"], first["has_more"], first["resync_required"]) == (3, False, False)


def test_pages_of_a_hundred_oldest_first(make_auth_client):
    user = UserFactory()
    for n in range(130):
        events.push_to_user(user.pk, "cart.updated", {"n": n})
    client = make_auth_client(user)

    page = client.get("/api/events/").json()
    rest = client.get(f"/api/events/?after_seq={page['results'][-1]['seq']}").json()

    assert [e["seq"] for e in page["results"]] == list(range(1, 101))
    assert page["has_more"] is True
    assert [e["seq"] for e in rest["results"]] == list(range(101, 131))
    assert rest["has_more"] is False


def test_nobody_reads_anyone_elses_events(make_auth_client, api_client: APIClient):
    owner, other = UserFactory(), UserFactory()
    events.push_to_user(owner.pk, "payment.succeeded", {"amount": "99.00"})

    theirs = make_auth_client(other).get("/api/events/").json()

    assert theirs["results"] == []
    assert theirs["last_seq"] == 0
    assert api_client.get("/api/events/").status_code == 401


@pytest.mark.parametrize("value", ["-1", "abc", "1.5"])
def test_a_bad_after_seq_is_400(make_auth_client, value):
    response = make_auth_client(UserFactory()).get(f"/api/events/?after_seq={value}")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "after_seq" in response.json()["details"]


def test_the_poll_endpoint_query_budget(make_auth_client, django_assert_max_num_queries):
    user = UserFactory()
    for n in range(50):
        events.push_to_user(user.pk, "cart.updated", {"n": n})
    client = make_auth_client(user)

    with django_assert_max_num_queries(4):  # the user, newest seq, oldest kept, the page
        assert client.get("/api/events/").status_code == 200


# --- retention -----------------------------------------------------------------------------------


def test_pruning_keeps_a_day_and_the_newest_thousand(settings, time_machine):
    settings.EVENTS_KEEP_LAST = 3
    user, quiet = UserFactory(), UserFactory()
    time_machine.move_to("2026-11-01T08:00:00Z", tick=False)
    for n in range(6):
        events.push_to_user(user.pk, "cart.updated", {"n": n})
    events.push_to_user(quiet.pk, "cart.updated", {})
    time_machine.move_to("2026-11-02T07:59:00Z", tick=False)
    assert events.prune_events() == 0  # not a day old yet

    time_machine.move_to("2026-11-02T08:01:00Z", tick=False)
    assert events.prune_events() == 3

    kept = UserEvent.objects.filter(user=user).values_list("seq", flat=True)
    assert sorted(kept) == [4, 5, 6]
    assert UserEvent.objects.filter(user=quiet).count() == 1
    assert events.events_after(user.pk, 2).resync_required is True
    assert events.events_after(user.pk, 3).resync_required is False
