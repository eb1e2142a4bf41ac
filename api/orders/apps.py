from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        # System checks, notification kinds, segment fields.
        from orders import checks, kinds, segments  # noqa: F401
