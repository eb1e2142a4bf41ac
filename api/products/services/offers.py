"""Offers start and end by the clock: ``Product.listed_price`` (what lists sort and filter
"price" by) follows them.

Each product write sets its listed price from its own offer (``listed_price``). Then, at each
offer's start and end, ``flip_due`` rewrites the listed prices that the clock has made wrong:
a Celery task scheduled for the second of each boundary (by the write, when the boundary is
near, and by the beat sweep every minute for the next ninety seconds), with the sweep itself as
the safety net. What a buyer sees and pays (``current_price``) is always worked out from the
offer at that moment; the listed price only orders and filters lists.
"""

import logging
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from products.models import Product
from products.selectors import current_price, offer_active_condition

logger = logging.getLogger(__name__)

AHEAD = timedelta(seconds=90)  # the sweep runs every 60 s: boundaries until the one after next
LOOKBACK = timedelta(days=7)  # offers ended this long ago are still checked
MAX_SCHEDULED = 200


def listed_price(product: Product, now: datetime) -> Decimal:
    """The offer's price while it runs, else the price: the current price at ``now``."""
    return current_price(product, now)


def flip_due(now: datetime | None = None) -> int:
    """Listed prices the clock has made wrong, rewritten: offers running now whose products
    still list the price, and offers ended (in the last week) whose products still list the
    offer. Each row is rewritten from its own current values. Returns how many changed."""
    now = now or timezone.now()
    running = Product.objects.filter(offer_active_condition(now)).exclude(
        listed_price=F("offer_price")
    )
    ended = Product.objects.filter(
        offer_ends_at__lte=now, offer_ends_at__gt=now - LOOKBACK
    ).exclude(listed_price=F("price"))
    flipped = running.update(listed_price=F("offer_price")) + ended.update(listed_price=F("price"))
    if flipped:
        logger.info("listed prices flipped at offer boundaries", extra={"products": flipped})
    return flipped


def boundaries(product: Product, now: datetime) -> list[datetime]:
    """The product's offer start and end still to come within ``AHEAD``."""
    ahead = now + AHEAD
    moments = [product.offer_starts_at, product.offer_ends_at] if product.offer_price else []
    return [m for m in moments if m is not None and now < m <= ahead]


def schedule(moments: list[datetime]) -> None:
    """A flip at each of these moments (to the second), after commit. A broker that is down
    leaves them to the sweep."""
    from products.tasks import flip_offer_prices_task

    def send() -> None:
        for moment in sorted(set(moments))[:MAX_SCHEDULED]:
            try:
                flip_offer_prices_task.apply_async(eta=moment, retry=False)
            except Exception:
                logger.warning("could not schedule an offer flip", exc_info=True)
                return

    if moments:
        transaction.on_commit(send)


def schedule_upcoming(now: datetime | None = None) -> int:
    """The sweep's look ahead: a flip at every offer start or end in the next ``AHEAD``."""
    now = now or timezone.now()
    window = {"gt": now, "lte": now + AHEAD}
    starts = (
        Product.objects.filter(
            offer_price__isnull=False, **{f"offer_starts_at__{k}": v for k, v in window.items()}
        )
        .order_by("offer_starts_at")
        .values_list("offer_starts_at", flat=True)
    )
    ends = (
        Product.objects.filter(
            offer_price__isnull=False, **{f"offer_ends_at__{k}": v for k, v in window.items()}
        )
        .order_by("offer_ends_at")
        .values_list("offer_ends_at", flat=True)
    )
    moments = [
        m for m in [*starts.distinct()[:MAX_SCHEDULED], *ends.distinct()[:MAX_SCHEDULED]] if m
    ]
    schedule(moments)
    return len(set(moments))
