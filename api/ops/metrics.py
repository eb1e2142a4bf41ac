"""``GET /metrics``: Prometheus exposition of every process's samples (``core.metrics``) plus
what is read at scrape time — the Celery queue's depth, the webhook inbox's backlog and the task
outbox's lag.

Production protects it: a scraper sends ``Authorization: Bearer $METRICS_TOKEN``; a staff
member signed in to the admin may look too. With no token configured it is open only with
``DEBUG`` on.
"""

import hmac
import logging
import os
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db.models import Min
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector

from core import outbox
from core.exceptions import error_payload
from payments.models import WebhookEvent

logger = logging.getLogger(__name__)

BACKLOG_STATUSES = (WebhookEvent.Status.RECEIVED, WebhookEvent.Status.FAILED)


def celery_queue_depth(queue: str = "celery") -> int | None:
    """Messages waiting in the broker's queue, or None when the broker can't be asked."""
    from api.celery import app

    try:
        with app.connection_for_read() as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
            channel: Any = connection.default_channel
            ok = channel.queue_declare(queue=queue, passive=True)
            return int(ok.message_count)
    except Exception as exc:  # a queue never used yet is "not found"; a broker down is down
        if "NOT_FOUND" in str(exc) or "no queue" in str(exc).lower():
            return 0
        logger.warning("could not read the broker's queue depth", exc_info=True)
        return None


class ScrapeTimeCollector(Collector):
    def collect(self) -> Iterator[Any]:
        depth = celery_queue_depth()
        up = GaugeMetricFamily("sudamall_broker_up", "Whether the broker answered the scrape.")
        up.add_metric([], 0 if depth is None else 1)
        yield up
        queue = GaugeMetricFamily(
            "sudamall_celery_queue_depth", "Tasks waiting in the broker.", labels=["queue"]
        )
        if depth is not None:
            queue.add_metric(["celery"], depth)
        yield queue

        now = timezone.now()
        backlog = WebhookEvent.objects.filter(status__in=BACKLOG_STATUSES)
        oldest_event = backlog.aggregate(oldest=Min("received_at"))["oldest"]
        yield GaugeMetricFamily(
            "sudamall_webhook_inbox_backlog",
            "Provider events stored but not yet processed.",
            value=backlog.count(),
        )
        yield GaugeMetricFamily(
            "sudamall_webhook_inbox_oldest_seconds",
            "Age of the oldest unprocessed provider event.",
            value=(now - oldest_event).total_seconds() if oldest_event else 0,
        )
        pending, oldest = outbox.backlog()
        yield GaugeMetricFamily(
            "sudamall_outbox_pending", "Tasks written but not yet handed to the broker.",
            value=pending,
        )  # fmt: skip
        yield GaugeMetricFamily(
            "sudamall_outbox_lag_seconds",
            "Age of the oldest task not yet handed to the broker (0 when none waits).",
            value=(now - oldest).total_seconds() if oldest else 0,
        )


def exposition() -> bytes:
    """Every process's samples when they share PROMETHEUS_MULTIPROC_DIR (else this process's),
    then the scrape-time readings."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        MultiProcessCollector(processes)
        recorded = generate_latest(processes)
    else:
        recorded = generate_latest(REGISTRY)
    scraped = CollectorRegistry()
    scraped.register(ScrapeTimeCollector())
    return recorded + generate_latest(scraped)


def _allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(header.encode(), f"Bearer {token}".encode()):
        return True
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_staff:
        return True
    return not token and settings.DEBUG


def metrics_view(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        response = JsonResponse(
            error_payload("not_authenticated", "Send the metrics token."), status=401
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
