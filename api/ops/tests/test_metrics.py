"""GET /metrics: Prometheus text for a scraper with the token (or staff), 401 for anyone else;
requests counted by route pattern, never by raw path."""

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.django_db


def samples(text: str) -> dict[str, list]:
    return {
        family.name: family.samples for family in text_string_to_metric_families(text)
    }  # fmt: skip


@pytest.fixture
def token(settings) -> str:
    settings.METRICS_TOKEN = "scrape-token-5b1c"
    settings.DEBUG = False
    return "scrape-token-5b1c"


def test_a_scraper_without_the_token_is_refused(token, client: Client):
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "not_authenticated"


def test_without_a_token_configured_only_debug_opens_it(settings, client: Client):
    settings.METRICS_TOKEN, settings.DEBUG = "", False
    assert client.get("/metrics").status_code == 401


def test_staff_signed_in_to_the_admin_may_look(token, admin_client: Client):
    assert admin_client.get("/metrics").status_code == 200


def test_requests_are_counted_by_route_and_status(token, client: Client, user):
    client.get(f"/api/stores/{10**6}/")
    client.get(f"/api/stores/{10**6 + 1}/")

    answer = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/plain")
    found = samples(answer.content.decode())
    store_404s = [
        s for s in found["sudamall_http_requests"]
        if s.labels == {"route": "/api/stores/<int:store_id>/", "method": "GET", "status": "404"}
    ]  # fmt: skip
    assert store_404s
    assert store_404s[0].value >= 2
    assert not any("1000000" in str(s.labels) for s in found["sudamall_http_requests"])
    for name in (
        "sudamall_http_request_seconds",
        "sudamall_celery_queue_depth",
        "sudamall_webhook_inbox_backlog",
        "sudamall_outbox_pending",
        "sudamall_outbox_lag_seconds",
        "sudamall_broker_up",
    ):
        assert name in found, name
