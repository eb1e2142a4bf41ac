"""System checks: what the orders app needs from the apps above it, checked at startup."""

from typing import Any

from django.core.checks import Error, register


@register()
def check_paid_order_cancelled_handler(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Cancelling a paid order must refund it: without a handler (the payments app registers
    one in its ready()), the first such cancellation would fail in front of a buyer."""
    from orders.services import aftersale

    if aftersale.paid_order_cancelled_handlers():
        return []
    return [
        Error(
            "No handler refunds a cancelled paid order.",
            hint="Install the payments app, or register one with "
            "orders.services.aftersale.register_paid_order_cancelled in an AppConfig.ready().",
            id="orders.E001",
        )
    ]
