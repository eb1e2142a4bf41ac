import threading
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import IdempotencyKey
from core.tests import urls as test_urls
from core.tests.concurrency import race
from ops.models import WorkerCheck

pytestmark = pytest.mark.urls("core.tests.urls")

URL = "/t/idempotent/"


def post(client: APIClient, body: dict, key: str | None = "key-0001"):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(URL, body, format="json", headers=headers)


@pytest.mark.django_db
def test_replay_returns_the_stored_response_without_running_again(auth_client: APIClient):
    first = post(auth_client, {"quantity": 2})
    second = post(auth_client, {"quantity": 2})

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert WorkerCheck.objects.count() == 1


@pytest.mark.django_db
def test_replay_ignores_json_key_order_and_whitespace(auth_client: APIClient):
    post(auth_client, {"quantity": 2, "note": "x"})
    again = auth_client.post(
        URL,
        '{ "note": "x",\n  "quantity": 2 }',
        content_type="application/json",
        headers={"Idempotency-Key": "key-0001"},
    )

    assert again.status_code == 201
    assert WorkerCheck.objects.count() == 1


@pytest.mark.django_db
def test_same_key_with_a_different_body_is_422(auth_client: APIClient):
    post(auth_client, {"quantity": 2})

    response = post(auth_client, {"quantity": 3})

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert WorkerCheck.objects.count() == 1


@pytest.mark.django_db
def test_without_a_key_every_request_runs(auth_client: APIClient):
    post(auth_client, {"quantity": 2}, key=None)
    post(auth_client, {"quantity": 2}, key=None)

    assert WorkerCheck.objects.count() == 2
    assert not IdempotencyKey.objects.exists()


@pytest.mark.django_db
def test_keys_are_scoped_to_the_user(user, make_auth_client):
    from accounts.tests.factories import UserFactory

    mine = post(make_auth_client(user), {"quantity": 2})
    theirs = post(make_auth_client(UserFactory()), {"quantity": 2})

    assert theirs.status_code == 201
    assert theirs.json()["id"] != mine.json()["id"]
    assert "Idempotent-Replayed" not in theirs.headers


@pytest.mark.django_db
def test_invalid_input_frees_the_key_for_the_fixed_request(auth_client: APIClient):
    failed = post(auth_client, {"quantity": 0})
    assert failed.status_code == 400

    assert not IdempotencyKey.objects.exists()
    # The client fixes the request and retries with the same key.
    assert post(auth_client, {"quantity": 1}).status_code == 201


@pytest.mark.django_db
def test_a_refused_request_may_run_again_but_its_key_stays_bound_to_it(auth_client: APIClient):
    """A declined card, a conflict: the same request may be retried under its key (it runs
    again, nothing was stored to replay), but another request under that key is a 422 — a
    different card after a decline needs a new key (DESIGN.md: a different body gets 422)."""
    conflict = post(auth_client, {"quantity": 1, "note": "conflict"}, key="key-0002")
    assert conflict.status_code == 409

    again = post(auth_client, {"quantity": 1, "note": "conflict"}, key="key-0002")
    other = post(auth_client, {"quantity": 1}, key="key-0002")

    assert again.status_code == 409
    assert "Idempotent-Replayed" not in again.headers  # it ran again
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "has space", "é-not-ascii", "x" * 256])
def test_malformed_key_is_400(auth_client: APIClient, key: str):
    response = post(auth_client, {"quantity": 1}, key=key)

    assert response.status_code == 400
    assert response.json()["details"] == {
        "Idempotency-Key": ["Must be 1 to 255 printable ASCII characters without spaces."]
    }
    assert not WorkerCheck.objects.exists()


@pytest.mark.django_db
def test_anonymous_caller_is_refused_before_any_key_is_stored(api_client: APIClient):
    response = post(api_client, {"quantity": 1})

    assert response.status_code == 401
    assert not IdempotencyKey.objects.exists()


@pytest.mark.django_db
def test_an_expired_key_starts_afresh(auth_client: APIClient):
    post(auth_client, {"quantity": 2})
    IdempotencyKey.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = post(auth_client, {"quantity": 3})

    assert response.status_code == 201
    assert WorkerCheck.objects.count() == 2


@pytest.mark.django_db
def test_a_claim_left_by_a_dead_request_is_taken_over_after_the_lock_timeout(
    auth_client: APIClient, user, settings
):
    now = timezone.now()
    fresh = IdempotencyKey.objects.create(
        user=user,
        key="key-0001",
        method="POST",
        path=URL,
        fingerprint="0" * 64,
        locked_at=now,
        expires_at=now + timedelta(hours=1),
    )
    # Same request as the dead one: fingerprint must match, so take it from a real request.
    from core.idempotency import request_fingerprint

    fresh.fingerprint = request_fingerprint(method="POST", path=URL, body=b'{"quantity":1}')
    fresh.save()

    assert post(auth_client, {"quantity": 1}).status_code == 409  # still fresh: in progress

    IdempotencyKey.objects.update(locked_at=now - settings.IDEMPOTENCY_LOCK_TIMEOUT * 2)
    response = post(auth_client, {"quantity": 1})

    assert response.status_code == 201
    assert IdempotencyKey.objects.get().status == IdempotencyKey.Status.COMPLETED


@pytest.mark.django_db
def test_purge_deletes_only_expired_keys(auth_client: APIClient):
    from ops.tasks import purge_expired_idempotency_keys

    post(auth_client, {"quantity": 1}, key="old")
    post(auth_client, {"quantity": 1}, key="new")
    IdempotencyKey.objects.filter(key="old").update(expires_at=timezone.now())

    assert purge_expired_idempotency_keys() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_run_once_and_the_others_get_409(user, make_auth_client):
    hold = threading.Event()
    test_urls.hold_idempotent_work = hold
    test_urls.idempotent_work_started.clear()
    racers = 8
    clients = [make_auth_client(user) for _ in range(racers)]

    def hold_the_winner_until_the_others_answered(answered: list) -> None:
        try:
            assert test_urls.idempotent_work_started.wait(timeout=10)
            deadline = timezone.now() + timedelta(seconds=20)
            while len(answered) < racers - 1 and timezone.now() < deadline:
                threading.Event().wait(0.05)
        finally:
            hold.set()

    try:
        responses = race(
            racers,
            lambda index: post(clients[index], {"quantity": 1}),
            while_running=hold_the_winner_until_the_others_answered,
        )
    finally:
        test_urls.hold_idempotent_work = None
    statuses = [response.status_code for response in responses]
    codes = [response.json()["code"] for response in responses if response.status_code != 201]

    assert sorted(statuses) == [201] + [409] * (racers - 1)
    assert set(codes) == {"idempotency_in_progress"}
    assert WorkerCheck.objects.count() == 1
    # Once the winner has finished, a retry replays its response.
    replay = post(make_auth_client(user), {"quantity": 1})
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert WorkerCheck.objects.count() == 1
