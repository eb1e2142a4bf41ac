from celery import shared_task

from search import feed, services


@shared_task(ignore_result=True)
def drain_index_feed_task() -> int:
    """Kicked after each catalogue change commits, and by beat every 30 s in case a kick was
    lost: applies the reported changes to the index."""
    return feed.drain()


@shared_task(ignore_result=True)
def reconcile_index_task() -> dict[str, int]:
    """Beat, every 10 minutes: repairs whatever drifted (a row written behind the services'
    back, a document deleted by hand)."""
    return feed.reconcile()


@shared_task(ignore_result=True)
def refresh_popular_queries_task() -> int:
    """Beat, hourly: the queries offered as suggestions."""
    return services.refresh_popular_queries()


@shared_task(ignore_result=True)
def prune_search_log_task() -> int:
    """Beat, daily: queries and clicks past SEARCH_LOG_DAYS."""
    return services.prune_search_log()
