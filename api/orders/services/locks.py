"""The lock order of the checkout family, written once (Saleor's ``lock_objects`` idea).

Every path that changes a checkout, its orders or payments, or stock takes its row locks in
this order, so concurrent payments, expiries, cancellations and refunds queue instead of
deadlocking (the MariaDB races in orders/ and payments/ tests prove each pair):

0. **the buyer row** — ``lock_buyer``, only by a buyer's new checkout and cash-on-delivery
   payment, before anything else: a buyer's concurrent checkouts then count each other's holds
   against the hoarding limits (``orders.limits``). Nothing locks a user while holding (1) to (4).
1. **the checkout row** — ``lock_checkout``. Everything that belongs to one checkout is
   serialised behind it.
2. **the checkout's own rows** — its payments, orders, order lines, refunds — ``lock_owned``,
   only ever while holding (1). Nobody locks them without their checkout, so no two
   transactions can take them in opposite orders, and a path may take them before or after (3):
   a payment's verdict locks its payment first, a cancellation its order's lines.
3. **sizes, in primary-key order** — ``lock_sizes``. Shared between checkouts, carts and staff
   adjustments, so their order is what keeps two checkouts of the same products apart.
4. **reservations** — after their sizes (``products.services.stock``).

Each lock reads only its own row: ``select_for_update`` with a join would also lock the joined
store and buyer rows (MariaDB has no ``FOR UPDATE OF``), which deadlocked two orders of one
store and buyer before. So no ``select_related`` here, ever.
"""

from collections.abc import Iterable
from typing import Any, TypeVar

from django.db.models import Model, QuerySet

from accounts.models import User
from orders.models import Checkout
from products.services import stock

RowT = TypeVar("RowT", bound=Model)


def lock_buyer(user_id: int) -> None:
    """(0) The buyer's row, for the length of the transaction."""
    User.objects.select_for_update().filter(pk=user_id).values_list("pk", flat=True).first()


def lock_checkout(checkout_id: int, **conditions: Any) -> Checkout | None:
    """(1) The checkout, locked; None if there is none matching ``conditions`` (a buyer)."""
    return Checkout.objects.select_for_update().filter(pk=checkout_id, **conditions).first()


def lock_owned(rows: QuerySet[RowT]) -> list[RowT]:
    """(2) Rows of a checkout whose lock the caller holds, in primary-key order."""
    assert not rows.query.select_related, "a locking join locks the joined rows too"
    return list(rows.select_for_update().order_by("pk"))


def lock_checkout_of(model: type[RowT], pk: int) -> tuple[Checkout, RowT]:
    """(1) then (2): a row that belongs to a checkout (a payment, an order), its checkout
    first. Raises ``model.DoesNotExist``."""
    checkout_id = model._default_manager.filter(pk=pk).values_list("checkout_id", flat=True)
    if not checkout_id:
        raise model.DoesNotExist  # type: ignore[attr-defined]
    checkout = lock_checkout(checkout_id[0])
    assert checkout is not None  # checkouts are never deleted (PROTECT)
    return checkout, lock_owned(model._default_manager.filter(pk=pk))[0]


def lock_due_checkouts(checkouts: QuerySet[Checkout]) -> QuerySet[Checkout]:
    """(1) for a sweep: the matching checkouts that nobody holds, locked; a checkout held by a
    payment or a cancellation in flight is skipped and left to it (or to the next sweep)."""
    return checkouts.select_for_update(skip_locked=True)


def lock_sizes(size_ids: Iterable[int]) -> None:
    """(3) Sizes by primary key, as every stock path takes them."""
    stock.lock_sizes(size_ids)
