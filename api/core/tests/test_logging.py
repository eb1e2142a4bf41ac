import json
import logging

import pytest
from rest_framework.test import APIClient

from core.logging import JsonFormatter, RequestIdFilter, request_id_var


def test_json_formatter_writes_one_object_per_line_with_extras():
    record = logging.LogRecord("orders", logging.INFO, __file__, 1, "order %s paid", (42,), None)
    record.order_id = 42
    RequestIdFilter().filter(record)

    line = JsonFormatter().format(record)

    payload = json.loads(line)
    assert payload["message"] == "order 42 paid"
    assert payload["level"] == "INFO"
    assert payload["logger"] == "orders"
    assert payload["order_id"] == 42
    assert payload["request_id"] == "-"
    assert "\n" not in line


def test_request_id_is_echoed_and_tags_logs_written_during_the_request(
    api_client: APIClient, monkeypatch
):
    seen: list[str] = []
    from ops import apis

    original = apis.HealthApi.get

    def spy(self, request):
        seen.append(request_id_var.get())
        return original(self, request)

    monkeypatch.setattr(apis.HealthApi, "get", spy)

    response = api_client.get("/health/", HTTP_X_REQUEST_ID="abc12345-trace")

    assert response.headers["X-Request-ID"] == "abc12345-trace"
    assert seen == ["abc12345-trace"]


@pytest.mark.parametrize("incoming", ["", "short", "bad id with spaces!", "x" * 65])
def test_an_unusable_request_id_is_replaced_by_a_generated_one(api_client: APIClient, incoming):
    response = api_client.get("/health/", HTTP_X_REQUEST_ID=incoming)

    generated = response.headers["X-Request-ID"]
    assert generated != incoming
    assert len(generated) == 32
