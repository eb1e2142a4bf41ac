"""Assertions about stock that every stock, checkout and payment test shares."""

from django.db.models import Sum

from products.models import Reservation, Size, StockMovement


def assert_stock_consistent(*sizes: Size) -> None:
    """The counters are within their constraints, the ledger sums to them, and the active holds
    add up to what is reserved."""
    for size in sizes:
        size.refresh_from_db()
        assert 0 <= size.reserved <= size.on_hand
        ledger = StockMovement.objects.filter(size=size).aggregate(
            on_hand=Sum("on_hand_delta"), reserved=Sum("reserved_delta")
        )
        assert (ledger["on_hand"], ledger["reserved"]) == (size.on_hand, size.reserved)
        held = Reservation.objects.filter(size=size, status="active").aggregate(t=Sum("quantity"))
        assert (held["t"] or 0) == size.reserved
