from django.urls import path

from ops import apis

urlpatterns = [
    path("worker-checks/", apis.WorkerCheckCreateApi.as_view(), name="worker-check-create"),
    path(
        "worker-checks/<uuid:check_id>/",
        apis.WorkerCheckDetailApi.as_view(),
        name="worker-check-detail",
    ),
]
