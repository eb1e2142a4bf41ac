"""Payments in the admin: everything read-only; money and state move only through the services
(the actions), so the admin can't skip a check the API enforces."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.models import User
from core.admin import ReadOnlyAdminMixin, money_column
from core.exceptions import ApplicationError
from orders.models import Order
from payments.models import Payment, PaymentAttempt, Refund, WebhookEvent
from payments.services import refunds, webhooks
from payments.services.expiry import expire_payment


class AttemptInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = PaymentAttempt
    fields = ("created_at", "action", "outcome", "amount", "error_code", "message", "response")
    readonly_fields = fields
    extra = 0


class RefundInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Refund
    fields = ("created_at", "order", "kind", "status", "amount", "reason", "restock",
              "requested_by", "attempts", "failure_message")  # fmt: skip
    readonly_fields = fields
    extra = 0


def _message(exc: Exception) -> str:
    return (
        exc.message
        if isinstance(exc, ApplicationError)
        else "; ".join(str(m) for m in getattr(exc, "messages", [exc]))
    )


def _staff(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "created_at", "payer", "checkout", "gateway", "status",
                    money_column("amount", "amount"),
                    money_column("refunded_amount", "refunded"))  # fmt: skip
    list_filter = ("status", "gateway", "currency")
    search_fields = ("=id", "=checkout__id", "payer__email", "provider_reference")
    date_hierarchy = "created_at"
    list_select_related = ("payer",)
    readonly_fields = [f.name for f in Payment._meta.fields if f.name != "client_secret"]
    exclude = ("client_secret",)
    inlines = [AttemptInline, RefundInline]
    actions = ["refund_in_full", "close_if_expired"]

    @admin.action(description="Refund what is left, every order (no restock)")
    def refund_in_full(self, request: HttpRequest, queryset: QuerySet[Payment]) -> None:
        done = 0
        for payment in queryset.order_by("pk"):
            orders = list(Order.objects.filter(checkout_id=payment.checkout_id).order_by("pk"))
            if not any(refunds.order_refundable(payment, order) > 0 for order in orders):
                # Nothing of it was sold (a late payment whose automatic refund failed): the
                # payment itself goes back.
                orders = []
                left = refunds.payment_refundable(payment)
                if left > 0:
                    try:
                        refunds.create_refund(payment=payment, actor=_staff(request), amount=left,
                                              reason="refunded from the admin")  # fmt: skip
                        done += 1
                    except (ApplicationError, ValidationError) as exc:
                        self.message_user(request, f"{payment}: {_message(exc)}", messages.WARNING)
            for order in orders:
                left = refunds.order_refundable(payment, order)
                if left <= 0:
                    continue
                try:
                    refunds.create_refund(
                        payment=payment,
                        actor=_staff(request),
                        amount=left,
                        reason="refunded from the admin",
                        order_id=order.pk,
                    )
                    done += 1
                except (ApplicationError, ValidationError) as exc:
                    self.message_user(request, f"{payment}: {_message(exc)}", messages.WARNING)
                payment.refresh_from_db()
        self.message_user(request, f"{done} refund(s) requested.")

    @admin.action(description="Close open payments whose window has passed")
    def close_if_expired(self, request: HttpRequest, queryset: QuerySet[Payment]) -> None:
        closed = sum(expire_payment(payment_id=p.pk) for p in queryset.order_by("pk"))
        self.message_user(request, f"{closed} payment(s) cancelled.")


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "created_at", "payment", "order", "kind", "status",
                    money_column("amount", "amount"), "attempts")  # fmt: skip
    list_filter = ("status", "kind")
    search_fields = ("=id", "=payment__id", "order__number")
    readonly_fields = [f.name for f in Refund._meta.fields]
    actions = ["retry_at_provider"]

    @admin.action(description="Retry pending refunds at the provider now")
    def retry_at_provider(self, request: HttpRequest, queryset: QuerySet[Refund]) -> None:
        settled = 0
        for refund in queryset.filter(status=Refund.Status.PENDING).order_by("pk"):
            try:
                settled += refunds.process_refund(refund_id=refund.pk).status != "pending"
            except (ApplicationError, ValidationError) as exc:
                self.message_user(request, f"{refund}: {_message(exc)}", messages.WARNING)
        self.message_user(request, f"{settled} refund(s) settled.")


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "received_at", "provider", "event_id", "type", "status", "attempts",
                    "payment", "result")  # fmt: skip
    list_filter = ("status", "provider", "type")
    search_fields = ("event_id", "=payment__id")
    readonly_fields = [f.name for f in WebhookEvent._meta.fields]
    actions = ["replay"]

    @admin.action(description="Replay: process again from the inbox")
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookEvent]) -> None:
        for event in queryset.order_by("pk"):
            webhooks.replay_event(event=event)
        self.message_user(request, f"{queryset.count()} event(s) queued again.")
