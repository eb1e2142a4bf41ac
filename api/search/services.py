"""The search engine as the rest of the project calls it: a search is run on the configured
backend and logged (normalised text, result count, backend, latency — nothing about who asked);
clicks, synonyms and the popular queries behind suggestions are kept here."""

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from search.backends import get_backend
from search.backends.base import Suggestion
from search.models import PopularQuery, SearchClick, SearchQuery, SynonymGroup
from search.query import SYNONYMS_CACHE_KEY, SearchRequest, SearchResult, normalized_query

logger = logging.getLogger(__name__)

POPULAR_DAYS = 30
POPULAR_MIN_SEARCHES = 3  # nobody is logged, so a few scripted searches could otherwise plant one
POPULAR_KEEP = 1000


@dataclass
class Outcome:
    result: SearchResult
    query_id: uuid.UUID | None  # None when nothing was typed (browsing isn't logged)


def search_products(*, request: SearchRequest, log: bool = True) -> Outcome:
    started = time.perf_counter()
    result = get_backend().search(request)
    latency_ms = round((time.perf_counter() - started) * 1000)
    text = normalized_query(request.text)
    query_id = None
    if log and text:
        entry = SearchQuery.objects.create(
            text=text, results=result.count, backend=result.backend, latency_ms=latency_ms
        )
        query_id = entry.pk
    return Outcome(result=result, query_id=query_id)


def suggest(*, text: str, size: int) -> list[Suggestion]:
    return get_backend().suggest(text, size=size)


def record_click(*, query_id: uuid.UUID, product_id: int, position: int) -> SearchClick | None:
    """A shopper opened result ``position`` (1-based) of a search. A second click on the same
    result of the same search counts once. Raises ValidationError for an unknown search."""
    if not SearchQuery.objects.filter(pk=query_id).exists():
        raise ValidationError({"query_id": ["No such search."]})
    try:
        with transaction.atomic():
            return SearchClick.objects.create(
                query_id=query_id, product_id=product_id, position=position
            )
    except IntegrityError:
        return None


def save_synonyms(*, group: SynonymGroup) -> SynonymGroup:
    """Save a synonym group; searches use it from the next query on (no reindex)."""
    group.words = ", ".join(w.strip() for w in group.words.split(",") if w.strip())
    group.save()
    transaction.on_commit(lambda: cache.delete(SYNONYMS_CACHE_KEY))
    return group


def delete_synonyms(*, group: SynonymGroup) -> None:
    group.delete()
    transaction.on_commit(lambda: cache.delete(SYNONYMS_CACHE_KEY))


def refresh_popular_queries() -> int:
    """Replace the popular queries with the last 30 days' most searched texts that found
    something (searched at least twice)."""
    since = timezone.now() - timedelta(days=POPULAR_DAYS)
    top = list(
        SearchQuery.objects.filter(created_at__gte=since, results__gt=0)
        .values("text")
        .annotate(searches=Count("id"))
        .filter(searches__gte=POPULAR_MIN_SEARCHES)
        .order_by("-searches", "text")[:POPULAR_KEEP]
    )
    with transaction.atomic():
        PopularQuery.objects.all().delete()
        PopularQuery.objects.bulk_create(
            [PopularQuery(text=row["text"], searches=row["searches"]) for row in top]
        )
    return len(top)


def prune_search_log() -> int:
    cutoff = timezone.now() - timedelta(days=settings.SEARCH_LOG_DAYS)
    deleted, _ = SearchQuery.objects.filter(created_at__lt=cutoff).delete()
    return deleted
