"""On Redis, the failed-login limit is shared by every web process."""

import httpx
import pytest

from core.tests.stack import ADMIN_EMAIL, running_stack, services_configured

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not services_configured(), reason="needs DATABASE_URL and REDIS_URL"),
]


def test_login_failures_count_across_two_server_processes(tmp_path):
    with running_stack("services", tmp_path, webs=2) as stack:
        first, second = (httpx.Client(base_url=url, timeout=10) for url in stack.base_urls)
        body = {"email": ADMIN_EMAIL, "password": "not-the-password"}

        statuses = [
            (first if attempt % 2 == 0 else second).post("/api/auth/login/", json=body).status_code
            for attempt in range(5)
        ]
        sixth = second.post("/api/auth/login/", json=body)
        seventh = first.post("/api/auth/login/", json=body)

        assert statuses == [401] * 5, stack.logs()
        assert sixth.status_code == 429
        assert seventh.status_code == 429
        assert int(sixth.headers["Retry-After"]) > 0
        assert sixth.json()["code"] == "throttled"
