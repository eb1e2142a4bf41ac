"""A task queued by a web request is run by a real Celery worker — not eager mode."""

import time

import httpx
import pytest

from core.tests.stack import running_stack, services_configured, staff_token

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    "mode",
    [
        "embedded",
        pytest.param(
            "services",
            marks=pytest.mark.skipif(
                not services_configured(), reason="needs DATABASE_URL (MariaDB) and REDIS_URL"
            ),
        ),
    ],
)
def test_web_request_enqueues_a_task_that_the_real_worker_runs(tmp_path, mode):
    with running_stack(mode, tmp_path, beat=True) as stack:
        client = httpx.Client(
            base_url=stack.base_url,
            headers={"Authorization": f"Bearer {staff_token()}"},
            timeout=10,
        )
        ready = client.get("/ready/")
        assert ready.status_code == 200, stack.logs()

        created = client.post("/api/ops/worker-checks/")
        assert created.status_code == 202, stack.logs()
        check_id = created.json()["id"]

        deadline = time.monotonic() + 60
        while True:
            detail = client.get(f"/api/ops/worker-checks/{check_id}/").json()
            if detail["status"] == "completed" or time.monotonic() > deadline:
                break
            stack.assert_running()
            time.sleep(0.3)

        assert detail["status"] == "completed", stack.logs()
        assert detail["worker"].startswith("it@")
        # Beat is alive beside them and has written the code-declared schedule to the database.
        stack.assert_running()
        registered = stack.manage(
            "shell",
            "-c",
            "from django_celery_beat.models import PeriodicTask;"
            "print(PeriodicTask.objects.filter(name='purge-expired-idempotency-keys').count())",
        )
        assert registered.strip().splitlines()[-1] == "1", stack.logs()


@pytest.mark.skipif(not services_configured(), reason="needs DATABASE_URL (MariaDB) and REDIS_URL")
def test_an_event_sent_by_the_worker_reaches_a_websocket_through_redis(tmp_path):
    import asyncio
    import json

    import websockets

    with running_stack("services", tmp_path) as stack:

        async def scenario() -> dict:
            ws_url = stack.base_url.replace("http://", "ws://") + "/ws/events/"
            async with websockets.connect(ws_url) as socket:  # no Origin: a native app
                await socket.send(json.dumps({"type": "auth", "token": staff_token()}))
                assert json.loads(await socket.recv())["type"] == "auth.ok"
                created = await asyncio.to_thread(
                    httpx.post,
                    stack.base_url + "/api/ops/worker-checks/",
                    headers={"Authorization": f"Bearer {staff_token()}"},
                    timeout=10,
                )
                assert created.status_code == 202, stack.logs()
                event = json.loads(await asyncio.wait_for(socket.recv(), timeout=30))
                assert event["data"]["id"] == created.json()["id"]
                return event

        event = asyncio.run(scenario())

        assert event["type"] == "ops.worker_check.completed"
        assert event["data"]["worker"].startswith("it@")


@pytest.mark.skipif(not services_configured(), reason="needs DATABASE_URL (MariaDB) and REDIS_URL")
def test_a_socket_idle_for_30_seconds_on_redis_still_receives_and_a_silent_one_gets_4401(tmp_path):
    """channels-redis blocks 5 s on BZPOPMIN; with redis-py's default 5 s read timeout every
    idle socket died with 1011 after about 5 s — and one that never authenticated closed 1011
    instead of 4401. Both on a real daphne, on Redis."""
    import asyncio
    import json

    import websockets

    with running_stack("services", tmp_path) as stack:
        url = stack.base_url.replace("http://", "ws://") + "/ws/events/"

        async def scenario() -> tuple[dict, int]:
            async with websockets.connect(url) as idle:
                await idle.send(json.dumps({"type": "auth", "token": staff_token()}))
                assert json.loads(await idle.recv())["type"] == "auth.ok"
                await asyncio.sleep(30)
                created = await asyncio.to_thread(
                    httpx.post,
                    stack.base_url + "/api/ops/worker-checks/",
                    headers={"Authorization": f"Bearer {staff_token()}"},
                    timeout=10,
                )
                assert created.status_code == 202, stack.logs()
                event = json.loads(await asyncio.wait_for(idle.recv(), 30))
            async with websockets.connect(url) as silent:
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await asyncio.wait_for(silent.recv(), 30)
            return event, closed.value.rcvd.code

        event, silent_close = asyncio.run(scenario())

        assert event["type"] == "ops.worker_check.completed"
        assert silent_close == 4401
