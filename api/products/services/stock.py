"""The one module every stock change goes through.

Counters change only by conditional UPDATEs (``F()`` arithmetic with the guard in the WHERE
clause) or under ``select_for_update``, and every change writes a ledger row in the same
transaction. Reservations whose deadline has passed never count against availability: the
selectors add them back, and reserve paths release them on the rows they lock.
"""

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Exists, F, IntegerField, OuterRef, Subquery, Sum
from django.utils import timezone

from accounts.models import User
from core.bulk import insert_rows, update_by_pk
from products import indexing
from products.exceptions import OutOfStock, StockBelowReserved
from products.models import Product, Reservation, Size, StockMovement
from products.selectors import on_sale

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
    indexing.sizes_changed([size.pk])
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


def release_expired_reservations(
    *,
    size_ids: list[int] | None = None,
    references: list[str] | None = None,
    sizes_locked: bool = False,
) -> int:
    """Release every active reservation past its deadline (only on ``size_ids`` or with one of
    ``references``, if given).

    Set-based, whatever the number of rows: the expired reservations are locked and summed per
    size, every affected size's counter drops in one UPDATE, the reservations are marked in
    another, and the ledger is written with one bulk insert. Returns the units released.
    """
    released = sum(
        _release_expired(size_ids=size_ids, references=references, sizes_locked=sizes_locked)
        .values()
    )  # fmt: skip
    if released:
        logger.info("released expired reservations", extra={"units": released})
    return released


def _release_expired(
    *, size_ids: list[int] | None, references: list[str] | None = None, sizes_locked: bool
) -> dict[int, int]:
    """``release_expired_reservations``, returning the units released per size id."""
    now = timezone.now()
    with transaction.atomic(savepoint=False):
        due = Reservation.objects.filter(status=Reservation.Status.ACTIVE, expires_at__lte=now)
        if size_ids is not None:
            due = due.filter(size_id__in=size_ids)
        if references is not None:
            due = due.filter(reference__in=references)
        # Lock order everywhere: sizes (by primary key), then reservations.
        if not sizes_locked:
            lock_sizes(due.order_by().values_list("size_id", flat=True).distinct())
        due = due.select_for_update()
        per_size = {
            row["size_id"]: row["total"]
            for row in due.order_by().values("size_id").annotate(total=Sum("quantity"))
        }
        if not per_size:
            return {}
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
        indexing.sizes_changed(per_size)
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
    return per_size


# --- reservations (checkout holds stock until its payment deadline) -------------------------------


@dataclass(frozen=True)
class StockRequest:
    size_id: int
    quantity: int
    reference: str = ""  # the line's own reference, when one call holds for several orders


def reserve_stock(*, lines: Sequence[StockRequest], until: datetime, reference: str = "") -> None:
    """Hold stock for every line until ``until``, all or nothing.

    Locks the size rows in primary-key order (so concurrent buyers queue instead of
    deadlocking), first releases reservations on them whose deadline has passed, then checks
    every line and raises one OutOfStock naming all the short ones. Must run inside the
    caller's transaction (checkout), which it doesn't commit.
    """
    wanted: dict[int, int] = {}
    holds: dict[tuple[int, str], int] = {}
    for line in lines:
        if line.quantity < 1:
            raise ValueError("quantities are positive")
        wanted[line.size_id] = wanted.get(line.size_id, 0) + line.quantity
        key = (line.size_id, line.reference or reference)
        holds[key] = holds.get(key, 0) + line.quantity
    size_ids = sorted(wanted)
    # Joins the caller's transaction (no savepoint): an OutOfStock aborts the whole checkout.
    with transaction.atomic(savepoint=False):
        locked = _lock_for_sale(size_ids)
        released = _release_expired(size_ids=size_ids, sizes_locked=True)
        available = {
            pk: on_hand - (reserved - released.get(pk, 0)) if sellable else 0
            for pk, (on_hand, reserved, sellable) in locked.items()
        }
        short = [
            {
                "size_id": size_id,
                "requested": wanted[size_id],
                "available": max(available.get(size_id, 0), 0),
            }
            for size_id in size_ids
            if available.get(size_id, 0) < wanted[size_id]
        ]
        if short:
            raise OutOfStock(details={"lines": short})
        # One UPDATE for every size; the rows are locked and checked, and the CHECK constraint
        # (reserved <= on_hand) is the backstop.
        update_by_pk(Size, "reserved", wanted, add=True)
        # Search knows only in stock or not: report the sizes this hold empties.
        indexing.sizes_changed(pk for pk in size_ids if available[pk] == wanted[pk])
        now = timezone.now()
        held = sorted(holds.items())
        insert_rows(
            Reservation,
            ["size_id", "quantity", "status", "expires_at", "reference", "created_at"],
            [(pk, q, Reservation.Status.ACTIVE, until, ref, now) for (pk, ref), q in held],
        )
        insert_rows(
            StockMovement,
            ["size_id", "reason", "on_hand_delta", "reserved_delta", "reference", "note",
             "created_at"],
            [(pk, StockMovement.Reason.RESERVATION, 0, q, ref, "", now) for (pk, ref), q in held],
        )  # fmt: skip
    logger.info("stock reserved", extra={"reference": reference, "sizes": len(size_ids)})


def _lock_for_sale(size_ids: list[int]) -> dict[int, tuple[int, int, bool]]:
    """``lock_sizes`` that also reads each size's (on hand, reserved, on sale). Whether the
    product is on sale is a subquery, so only the size rows are locked, not their product's or
    store's (a join would lock those too and queue every checkout of a store)."""
    product_on_sale = Exists(Product.objects.filter(on_sale(), pk=OuterRef("product_id")))
    return {
        pk: (on_hand, reserved, deleted_at is None and sellable)
        for pk, on_hand, reserved, deleted_at, sellable in Size.objects.select_for_update()
        .filter(pk__in=size_ids)
        .order_by("pk")
        .annotate(sellable=product_on_sale)
        .values_list("pk", "on_hand", "reserved", "deleted_at", "sellable")
    }


def lock_sizes(size_ids: Iterable[int]) -> None:
    """``select_for_update`` on these sizes in primary-key order. Every path that touches
    stock takes its size locks this way, before any reservation lock, so none can deadlock."""
    ids = sorted(set(size_ids))
    if ids:
        list(Size.objects.select_for_update().filter(pk__in=ids).order_by("pk"))


def _settle(*, reference: str, sold: bool) -> int:
    """Commit (sold) or release the active reservations of ``reference``. Returns units."""
    status = Reservation.Status.COMMITTED if sold else Reservation.Status.RELEASED
    with transaction.atomic(savepoint=False):
        pending = Reservation.objects.filter(reference=reference, status=Reservation.Status.ACTIVE)
        lock_sizes(pending.values_list("size_id", flat=True))
        active = list(pending.select_for_update().order_by("size_id"))
        if not active:
            return 0
        for reservation in active:
            changes: dict[str, Any] = {"reserved": F("reserved") - reservation.quantity}
            if sold:
                changes["on_hand"] = F("on_hand") - reservation.quantity
            Size.objects.filter(pk=reservation.size_id).update(**changes)
        Reservation.objects.filter(pk__in=[r.pk for r in active]).update(status=status)
        if not sold:  # units back on sale (a sale leaves what's available as it was)
            indexing.sizes_changed(r.size_id for r in active)
        StockMovement.objects.bulk_create(
            [
                StockMovement(
                    size_id=r.size_id,
                    reason=StockMovement.Reason.SALE if sold else StockMovement.Reason.RELEASE,
                    on_hand_delta=-r.quantity if sold else 0,
                    reserved_delta=-r.quantity,
                    reference=reference,
                )
                for r in active
            ]
        )
    return sum(r.quantity for r in active)


def commit_reservations(*, reference: str) -> int:
    """The payment succeeded: held units become sales (on_hand and reserved both drop)."""
    return _settle(reference=reference, sold=True)


def release_reservations(*, reference: str) -> int:
    """The checkout was cancelled: held units go back on sale."""
    return _settle(reference=reference, sold=False)
