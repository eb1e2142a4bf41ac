"""Limits against inventory hoarding (docs/operations.md, "Limits"). A buyer over one gets a
409 with its code; staff accounts are held to them too."""

from decimal import Decimal

from api.settings.environment import env

# Units one buyer may hold in unpaid checkouts at once (409 hold_limit_reached).
HOLD_MAX_UNITS = env.int("HOLD_MAX_UNITS", default=50)
# Unpaid checkouts one buyer may have open at once (409 too_many_open_checkouts).
HOLD_MAX_OPEN_CHECKOUTS = env.int("HOLD_MAX_OPEN_CHECKOUTS", default=3)
# Cash on delivery sells stock with no money and no deadline: an account younger than
# COD_NEW_ACCOUNT_DAYS with no delivered order may take at most this much that way per checkout,
# and any account at most COD_MAX_OPEN uncollected cash payments (409 cash_on_delivery_limit).
COD_NEW_ACCOUNT_DAYS = env.int("COD_NEW_ACCOUNT_DAYS", default=14)
COD_NEW_ACCOUNT_MAX_TOTAL = Decimal(env("COD_NEW_ACCOUNT_MAX_TOTAL", default="30000.00"))
COD_NEW_ACCOUNT_MAX_UNITS = env.int("COD_NEW_ACCOUNT_MAX_UNITS", default=10)
COD_MAX_OPEN = env.int("COD_MAX_OPEN", default=3)
