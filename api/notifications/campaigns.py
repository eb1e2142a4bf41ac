"""Campaigns (placeholder until written): see docs/notifications.md."""


def run_due() -> int:
    return 0
