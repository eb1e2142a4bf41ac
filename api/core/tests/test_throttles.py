"""The default throttle: the user rate per signed-in user, else the anon rate per IP, in one
cache round trip (a pipelined INCR + EXPIRE on Redis)."""

import os

import pytest
from redis.connection import Connection
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from core.cache import FailSoftRedisCache
from core.tests.test_cache import cache_on, closed_port

pytestmark = pytest.mark.django_db


def rates(settings, anon: str, user: str) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                                   "anon": anon, "user": user},
    }  # fmt: skip


def test_anonymous_callers_get_the_anon_rate_then_a_429_with_retry_after(settings):
    rates(settings, anon="3/min", user="100/min")
    client = APIClient()

    answers = [client.get("/api/categories/") for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[-1].json()["code"] == "throttled"
    assert 1 <= int(answers[-1]["Retry-After"]) <= 60


def test_each_signed_in_user_has_their_own_count_at_the_user_rate(settings, make_auth_client):
    rates(settings, anon="1/min", user="3/min")
    amna, omer = make_auth_client(UserFactory()), make_auth_client(UserFactory())

    amna_answers = [amna.get("/api/categories/").status_code for _ in range(4)]
    omer_first = omer.get("/api/categories/").status_code

    assert amna_answers == [200, 200, 200, 429]
    assert omer_first == 200


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs a real Redis (REDIS_URL)")
def test_a_hit_is_one_round_trip_to_redis(monkeypatch):
    cache = FailSoftRedisCache(os.environ["REDIS_URL"], {"KEY_PREFIX": "throttle-test"})
    cache.delete("hits")
    sends = []
    original = Connection.send_packed_command

    def counting(self, command, check_health=True):
        sends.append(command)
        return original(self, command, check_health)

    monkeypatch.setattr(Connection, "send_packed_command", counting)

    counts = [cache.count_hit("hits", 60) for _ in range(3)]

    assert counts == [1, 2, 3]
    assert len(sends) == 3  # INCR and EXPIRE travel together
    client = cache._cache.get_client(write=True)
    assert 0 < client.ttl(cache.make_and_validate_key("hits")) <= 60


def test_with_redis_down_hits_count_in_local_memory():
    cache = cache_on(f"redis://127.0.0.1:{closed_port()}/0")

    assert [cache.count_hit("hits", 60) for _ in range(3)] == [1, 2, 3]
