"""The segment fields accounts owns (notifications.segments): who the person is and since when."""

from accounts.models import User
from notifications.segments import register_field

register_field(
    "account_type",
    type="choice",
    choices=User.AccountType.values,
    groupable=True,
    description="buyer or business_owner.",
)
register_field("date_joined", type="date", description="When the account was created.")
register_field(
    "is_active",
    type="bool",
    groupable=True,
    description="False for suspended and deleted accounts (campaigns never mail those).",
)
