from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.models import User
from core.admin import ReadOnlyAdminMixin, money_column
from core.exceptions import ApplicationError
from orders.models import Checkout, Order, OrderEvent, OrderLine
from orders.services import transitions, window


class OrderLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = OrderLine
    fields = ("name", "size_name", "product", "product_version", "unit_price", "quantity",
              "line_total")  # fmt: skip
    readonly_fields = fields
    extra = 0
    can_delete = False


class OrderEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = OrderEvent
    fields = ("created_at", "type", "from_status", "to_status", "actor", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False


def _move_action(to_status: str, label: str):  # type: ignore[no-untyped-def]
    @admin.action(description=label)
    def action(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
        staff = request.user
        assert isinstance(staff, User)
        moved = 0
        for order in queryset.order_by("pk"):
            try:
                transitions.change_order_status(
                    order=order, actor=staff, to_status=to_status, note="from the admin"
                )
                moved += 1
            except ApplicationError as exc:
                modeladmin.message_user(request, f"{order}: {exc.message}", messages.WARNING)
        modeladmin.message_user(request, f"{moved} order(s) moved to {to_status}.")

    action.__name__ = f"move_to_{to_status}"
    return action


@admin.register(Order)
class OrderAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """State moves only through the transitions service (the actions), never by editing."""

    list_display = ("number", "store", "buyer", "status", money_column("total", "total"),
                    "created_at")  # fmt: skip
    list_filter = ("status",)
    search_fields = ("number", "buyer__email", "store__name")
    list_select_related = ("store", "buyer")
    date_hierarchy = "created_at"
    inlines = [OrderLineInline, OrderEventInline]
    readonly_fields = (
        "number", "checkout", "store", "buyer", "status", "total", "currency",
        "payment_deadline", "shipping_address", "created_at", "updated_at",
    )  # fmt: skip
    actions = [
        _move_action(Order.Status.PROCESSING, "Mark processing"),
        _move_action(Order.Status.SHIPPED, "Mark shipped"),
        _move_action(Order.Status.DELIVERED, "Mark delivered"),
        _move_action(Order.Status.CANCELLED, "Cancel (a paid order is refunded and restocked)"),
    ]


@admin.register(Checkout)
class CheckoutAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "buyer", "status", money_column("total", "total"), "payment_deadline",
                    "created_at")  # fmt: skip
    list_filter = ("status",)
    search_fields = ("buyer__email",)
    list_select_related = ("buyer",)
    readonly_fields = ("buyer", "status", "total", "currency", "payment_deadline",
                       "shipping_address", "paid_at", "created_at", "updated_at")  # fmt: skip
    actions = ["expire_due"]

    @admin.action(description="Run the expiry sweep now (all unpaid checkouts past deadline)")
    def expire_due(self, request: HttpRequest, queryset: QuerySet[Checkout]) -> None:
        count = window.expire_due_checkouts()
        self.message_user(request, f"{count} checkout(s) expired.")
