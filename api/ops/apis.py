from typing import Any
from uuid import UUID

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.exceptions import error_payload
from core.openapi import ErrorSerializer
from ops import health, selectors, services
from ops.serializers import HealthSerializer, ReadinessSerializer, WorkerCheckSerializer


class _ProbeApi(APIView):
    # Probes must answer whatever the caller sends: no auth, no throttling.
    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]
    throttle_classes: list[Any] = []


class HealthApi(_ProbeApi):
    @extend_schema(tags=["health"], summary="Liveness", responses={200: HealthSerializer})
    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


class ReadinessApi(_ProbeApi):
    @extend_schema(
        tags=["health"],
        summary="Readiness: database, cache and broker reachable",
        responses={
            200: ReadinessSerializer,
            503: OpenApiResponse(ErrorSerializer, description="`not_ready`; `details.checks`"),
        },
    )
    def get(self, request: Request) -> Response:
        checks = health.readiness_report()
        failed = [name for name, result in checks.items() if result != "ok"]
        checks["search"] = health.search_status()
        if failed:
            return Response(
                error_payload(
                    "not_ready", f"Unavailable: {', '.join(failed)}.", {"checks": checks}
                ),
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
                headers={"Retry-After": "5"},
            )
        return Response({"status": "ok", "checks": checks})


class WorkerCheckCreateApi(APIView):
    permission_classes = [permissions.IsAdminUser]

    @extend_schema(
        tags=["ops"],
        summary="Queue a task for the Celery worker (staff)",
        request=None,
        responses={202: WorkerCheckSerializer},
    )
    def post(self, request: Request) -> Response:
        check = services.request_worker_check(requested_by=request.user)
        return Response(WorkerCheckSerializer(check).data, status=status.HTTP_202_ACCEPTED)


class WorkerCheckDetailApi(APIView):
    permission_classes = [permissions.IsAdminUser]

    @extend_schema(
        tags=["ops"],
        summary="Whether a worker has run the queued check (staff)",
        responses={200: WorkerCheckSerializer},
    )
    def get(self, request: Request, check_id: UUID) -> Response:
        check = selectors.get_worker_check(check_id=check_id)
        return Response(WorkerCheckSerializer(check).data)
