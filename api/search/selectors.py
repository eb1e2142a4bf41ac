"""Reads of the search log for staff."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from search.models import SearchQuery

TOP = 20


def search_analytics(*, start: date | None = None, end: date | None = None) -> dict[str, Any]:
    """Top and zero-result queries, click-through and a day-by-day count over ``[start, end]``
    (dates in UTC; default the last 30 days). A search counts as clicked when any of its
    results was opened."""
    end = end or timezone.now().date()
    start = start or end - timedelta(days=29)
    since = datetime.combine(start, time.min, tzinfo=UTC)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
    searches = SearchQuery.objects.filter(created_at__gte=since, created_at__lt=until)
    # Searches with a click ("clicks" is the relation's name, so the count is "clicked").
    clicked = Count("id", filter=Q(clicks__isnull=False), distinct=True)

    def by_text(queryset: Any) -> list[dict[str, Any]]:
        rows = (
            queryset.values("text")
            .annotate(searches=Count("id", distinct=True), clicked=clicked)
            .order_by("-searches", "text")[:TOP]
        )
        return [
            {"text": r["text"], "searches": r["searches"], "clicks": r["clicked"]} for r in rows
        ]

    totals = searches.aggregate(searches=Count("id", distinct=True), clicked=clicked)
    days = (
        searches.annotate(date=TruncDate("created_at"))
        .values("date")
        .annotate(
            searches=Count("id", distinct=True),
            zero_results=Count("id", filter=Q(results=0), distinct=True),
            clicked=clicked,
        )
        .order_by("date")
    )
    return {
        "top_queries": by_text(searches),
        "zero_result_queries": by_text(searches.filter(results=0)),
        "click_through_rate": _rate(totals["clicked"], totals["searches"]),
        "by_day": [
            {
                "date": day["date"],
                "searches": day["searches"],
                "zero_results": day["zero_results"],
                "clicks": day["clicked"],
                "click_through_rate": _rate(day["clicked"], day["searches"]),
            }
            for day in days
        ],
    }


def _rate(clicks: int, searches: int) -> float:
    return round(clicks / searches, 4) if searches else 0.0
