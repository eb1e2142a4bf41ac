import pytest
from django_celery_beat.models import PeriodicTask
from rest_framework.test import APIClient

from api.celery import app
from ops.models import WorkerCheck


def test_celery_speaks_json_only():
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_serializer == "json"
    assert 0 < app.conf.task_soft_time_limit < app.conf.task_time_limit


def test_every_scheduled_task_is_a_registered_task():
    app.loader.import_default_modules()
    for name, entry in app.conf.beat_schedule.items():
        assert entry["task"] in app.tasks, name


# The scheduler closes stale connections as beat does, which would end a test transaction.
@pytest.mark.django_db(transaction=True)
def test_beat_registers_the_schedule_declared_in_code():
    from django_celery_beat.schedulers import DatabaseScheduler

    DatabaseScheduler(app=app)  # what `celery beat` does when it starts

    registered = set(PeriodicTask.objects.values_list("name", flat=True))
    assert set(app.conf.beat_schedule) <= registered
    purge = PeriodicTask.objects.get(name="purge-expired-idempotency-keys")
    assert purge.task == "ops.tasks.purge_expired_idempotency_keys"
    assert purge.enabled


@pytest.mark.django_db
def test_staff_can_queue_a_worker_check_and_see_it_complete(
    staff_client: APIClient, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        created = staff_client.post("/api/ops/worker-checks/")

    assert created.status_code == 202
    assert created.json()["status"] == "queued"
    # Nothing ran yet: the task is sent only once the row is committed.
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks(execute=True):
        callbacks[0]()  # commit: the (eager) task runs and pushes its event after its own commit
    detail = staff_client.get(f"/api/ops/worker-checks/{created.json()['id']}/")
    assert detail.json()["status"] == "completed"
    assert detail.json()["completed_at"] is not None


@pytest.mark.django_db
def test_worker_checks_are_for_staff_only(auth_client: APIClient, api_client: APIClient):
    assert auth_client.post("/api/ops/worker-checks/").status_code == 403
    assert api_client.post("/api/ops/worker-checks/").status_code == 401
    assert not WorkerCheck.objects.exists()


@pytest.mark.django_db
def test_worker_check_detail_query_budget(staff_client: APIClient, django_assert_max_num_queries):
    check = WorkerCheck.objects.create()

    with django_assert_max_num_queries(2):  # the user behind the token, the check
        response = staff_client.get(f"/api/ops/worker-checks/{check.pk}/")

    assert response.status_code == 200
