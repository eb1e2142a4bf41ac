"""The one module every stock change goes through.

Counters change only by conditional UPDATEs (``F()`` arithmetic with the guard in the WHERE
clause) or under ``select_for_update``, and every change writes a ledger row in the same
transaction. Reservations whose deadline has passed never count against availability: the
selectors add them back, and reserve paths release them on the rows they lock.
"""

import logging

from django.db import transaction
from django.db.models import F, IntegerField, OuterRef, Subquery, Sum
from django.utils import timezone

from accounts.models import User
from products.exceptions import StockBelowReserved
from products.models import Reservation, Size, StockMovement

logger = logging.getLogger(__name__)


def live_reserved(size: Size) -> int:
    """Units held by reservations that are active and not yet past their deadline."""
    expired = (
        Reservation.objects.filter(
            size=size, status=Reservation.Status.ACTIVE, expires_at__lte=timezone.now()
        ).aggregate(total=Sum("quantity"))["total"]
        or 0
    )
    return size.reserved - expired


def set_stock(
    *,
    size: Size,
    on_hand: int,
    actor: User | None,
    reason: str = StockMovement.Reason.ADJUSTMENT,
    note: str = "",
) -> Size:
    """Set the units on hand. Raises StockBelowReserved if checkouts hold more than that."""
    with transaction.atomic():
        locked = Size.objects.select_for_update().get(pk=size.pk)
        return _apply_on_hand_delta(
            size=locked, delta=on_hand - locked.on_hand, actor=actor, reason=reason, note=note
        )


def adjust_stock(
    *, size: Size, delta: int, actor: User | None, reason: str, reference: str = "", note: str = ""
) -> Size:
    """Add (or with a negative ``delta`` remove) units on hand. Raises StockBelowReserved."""
    with transaction.atomic():
        locked = Size.objects.select_for_update().get(pk=size.pk)
        return _apply_on_hand_delta(
            size=locked, delta=delta, actor=actor, reason=reason, reference=reference, note=note
        )


def _apply_on_hand_delta(
    *,
    size: Size,
    delta: int,
    actor: User | None,
    reason: str,
    reference: str = "",
    note: str = "",
) -> Size:
    """Caller holds select_for_update on ``size``."""
    if delta == 0:
        return size
    if size.on_hand + delta < live_reserved(size):
        raise StockBelowReserved(
            details={
                "size_id": size.pk,
                "reserved": live_reserved(size),
                "requested": size.on_hand + delta,
            }
        )
    # Expired reservations still counted in `reserved` are released first, so the new count
    # can't fall below the counter (the CHECK constraint would refuse it).
    if size.on_hand + delta < size.reserved:
        release_expired_reservations(size_ids=[size.pk])
        size.refresh_from_db(fields=["on_hand", "reserved"])
    updated = Size.objects.filter(pk=size.pk, on_hand__gte=F("reserved") - delta).update(
        on_hand=F("on_hand") + delta
    )
    if not updated:  # pragma: no cover - the row is locked; the CHECK constraint is the backstop
        raise StockBelowReserved(details={"size_id": size.pk})
    StockMovement.objects.create(
        size=size, reason=reason, on_hand_delta=delta, reference=reference, actor=actor, note=note
    )
    size.refresh_from_db(fields=["on_hand", "reserved"])
    logger.info("stock changed", extra={"size_id": size.pk, "delta": delta, "stock_reason": reason})
    return size


def create_initial_stock(*, size: Size, on_hand: int, actor: User | None) -> None:
    """For a size created in the caller's transaction."""
    if on_hand:
        Size.objects.filter(pk=size.pk).update(on_hand=on_hand)
        StockMovement.objects.create(
            size=size, reason=StockMovement.Reason.INITIAL, on_hand_delta=on_hand, actor=actor
        )
        size.on_hand = on_hand


def release_expired_reservations(*, size_ids: list[int] | None = None) -> int:
    """Release every active reservation past its deadline (on ``size_ids`` only, if given).

    Set-based, whatever the number of rows: the expired reservations are locked and summed per
    size, every affected size's counter drops in one UPDATE, the reservations are marked in
    another, and the ledger is written with one bulk insert. Returns the units released.
    """
    now = timezone.now()
    with transaction.atomic():
        due = Reservation.objects.select_for_update().filter(
            status=Reservation.Status.ACTIVE, expires_at__lte=now
        )
        if size_ids is not None:
            due = due.filter(size_id__in=size_ids)
        per_size = {
            row["size_id"]: row["total"]
            for row in due.order_by().values("size_id").annotate(total=Sum("quantity"))
        }
        if not per_size:
            return 0
        held = (
            due.filter(size=OuterRef("pk"))
            .order_by()
            .values("size")
            .annotate(total=Sum("quantity"))
            .values("total")
        )
        Size.objects.filter(pk__in=sorted(per_size)).update(
            reserved=F("reserved") - Subquery(held, output_field=IntegerField())
        )
        due.update(status=Reservation.Status.RELEASED)
        StockMovement.objects.bulk_create(
            batch_size=1000,
            objs=[
                StockMovement(
                    size_id=size_id,
                    reason=StockMovement.Reason.RELEASE,
                    reserved_delta=-quantity,
                    reference="expired",
                )
                for size_id, quantity in per_size.items()
            ],
        )
    released = sum(per_size.values())
    logger.info("released expired reservations", extra={"units": released})
    return released
