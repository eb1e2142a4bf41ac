from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        # A cancelled paid order is refunded by this app; orders can't import it (DESIGN.md).
        from orders.services import aftersale
        from payments import checks, kinds  # noqa: F401 - system checks, notification kinds
        from payments.services import refunds

        aftersale.register_paid_order_cancelled(refunds.refund_cancelled_order)
