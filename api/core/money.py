"""Bounds every amount is held to before it reaches a column."""

from decimal import Decimal

# The largest amount a total column (max_digits=14, two places) holds.
MAX_TOTAL = Decimal("999999999999.99")
