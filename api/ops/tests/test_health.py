import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.test import APIClient

API_DIR = Path(__file__).resolve().parents[2]
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


def test_health_answers_200_without_touching_anything(api_client: APIClient):
    response = api_client.get("/health/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_health_ignores_a_bad_token(api_client: APIClient):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer expired-or-garbage")

    assert api_client.get("/health/").status_code == 200


@pytest.mark.django_db
def test_ready_reports_every_dependency_ok(api_client: APIClient):
    response = api_client.get("/ready/")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "broker": "ok", "search": "ok"},
    }


@pytest.mark.django_db
def test_ready_is_503_naming_the_cache_when_redis_is_unreachable(api_client: APIClient, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": UNREACHABLE_REDIS,
        }
    }

    response = api_client.get("/ready/")

    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "not_ready"
    assert body["details"]["checks"] == {
        "database": "ok",
        "cache": "unavailable",
        "broker": "ok",
        "search": "ok",
    }
    assert "cache" in body["message"]
    assert "127.0.0.1:1" not in response.content.decode()


def _ready_in_fresh_process(tmp_path: Path, **env: str) -> tuple[int, dict]:
    """GET /ready/ in a new process configured by ``env``: a real boot against dead services."""
    script = (
        "import json, django; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/ready/');"
        "print(json.dumps({'status': r.status_code, 'body': r.json()}))"
    )
    base_env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DB_NAME"}
    }
    completed = subprocess.run(
        [sys.executable, "-c", script],
        cwd=API_DIR,
        env={
            **base_env,
            "DJANGO_SETTINGS_MODULE": "api.settings.test",
            "SUDAMALL_VAR_DIR": str(tmp_path),
            "READINESS_TIMEOUT_SECONDS": "1",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    return result["status"], result["body"]


@pytest.mark.slow  # a new process
@pytest.mark.parametrize(
    "url",
    [
        pytest.param(
            "mysql://sudamall:secret-pw@127.0.0.1:1/sudamall",
            marks=pytest.mark.skipif(
                importlib.util.find_spec("MySQLdb") is None,
                reason="the MySQL driver belongs to the real-services tier",
            ),
            id="mysql",
        ),
        pytest.param("sqlite:////nonexistent-secret-pw/db.sqlite3", id="sqlite"),
    ],
)
def test_ready_is_503_naming_the_database_when_it_is_unreachable(tmp_path: Path, url: str):
    status, body = _ready_in_fresh_process(tmp_path, DATABASE_URL=url)

    assert status == 503
    assert body["details"]["checks"] == {
        "database": "unavailable",
        "cache": "ok",
        "broker": "ok",
        "search": "ok",
    }
    assert "secret-pw" not in json.dumps(body)


@pytest.mark.slow  # a new process
def test_ready_is_503_naming_cache_and_broker_when_redis_is_unreachable(tmp_path: Path):
    status, body = _ready_in_fresh_process(tmp_path, REDIS_URL=UNREACHABLE_REDIS)

    assert status == 503
    assert body["details"]["checks"] == {
        "database": "ok",
        "cache": "unavailable",
        "broker": "unavailable",
        "search": "ok",
    }
    assert body["message"] == "Unavailable: cache, broker."
