from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.serializers import QuerySerializer
from payments.models import Gateway, Payment, PaymentAttempt, Refund


def _money(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=14, decimal_places=2, **kwargs)


def _id(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=2**31 - 1, **kwargs)


class GatewaySerializer(serializers.Serializer):
    gateway = serializers.ChoiceField(choices=Gateway.choices)
    name = serializers.CharField(help_text="To show the buyer, e.g. `Cash on delivery`.")
    fee_fixed = serializers.DecimalField(max_digits=12, decimal_places=2)
    fee_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    fee_on_100 = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text="The fee on a payment of 100.00."
    )


class PaymentCreateSerializer(serializers.Serializer):
    checkout_id = _id()
    gateway = serializers.ChoiceField(choices=Gateway.choices)


class PaymentConfirmSerializer(serializers.Serializer):
    payment_id = _id()
    card_number = serializers.RegexField(
        r"^\d{12,19}$",
        required=False,
        help_text="Test gateway: one of API.md's test cards. Never stored; only its last 4.",
    )
    payment_method = serializers.RegexField(
        r"^pm_[A-Za-z0-9_]{1,250}$",
        required=False,
        help_text="Stripe: a PaymentMethod id to confirm with server-side. Without it, the "
        "intent's current state is fetched (after Stripe.js confirmed it).",
    )


class PaymentAttemptSerializer(serializers.ModelSerializer):
    response = serializers.SerializerMethodField()
    amount = _money(
        read_only=True,
        allow_null=True,
        help_text="The whole payment's; null for a store's owner when it paid other stores too.",
    )

    class Meta:
        model = PaymentAttempt
        fields = ["action", "outcome", "amount", "error_code", "message", "created_at",
                  "response"]  # fmt: skip

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_response(self, attempt: PaymentAttempt) -> dict | None:
        """The provider's sanitized answer: staff only."""
        user = self.context.get("user")
        return attempt.response if user is not None and user.is_staff else None


class RefundSerializer(serializers.ModelSerializer):
    class Meta:
        model = Refund
        fields = ["id", "payment_id", "order_id", "kind", "status", "amount", "currency",
                  "reason", "restock", "failure_message", "created_at", "completed_at"]  # fmt: skip


def _text(amount: Decimal) -> str:
    return f"{amount:.2f}"


def _portion(total: Decimal, part: Decimal, whole: Decimal) -> Decimal:
    """``total`` (a fee) split in proportion to ``part`` of ``whole``, to the cent."""
    if not whole:
        return Decimal("0.00")
    return (total * part / whole).quantize(Decimal("0.01"))


class PaymentSerializer(serializers.ModelSerializer):
    client_secret = serializers.SerializerMethodField()
    approval_url = serializers.SerializerMethodField()
    refundable_amount = _money(read_only=True)

    class Meta:
        model = Payment
        fields = ["id", "checkout_id", "status", "amount", "currency", "gateway", "fee",
                  "net_amount", "refunded_amount", "refundable_amount", "expires_at",
                  "client_secret", "approval_url", "failure_code", "failure_message",
                  "succeeded_at", "collected_at", "created_at"]  # fmt: skip

    def to_representation(self, instance: Payment) -> dict[str, Any]:
        data = super().to_representation(instance)
        share = self.context.get("store_share")
        if share is not None and share.amount != instance.amount:
            # A store's owner sees their own orders' part, not the checkout's other stores'.
            fee = _portion(instance.fee, share.amount, instance.amount)
            data.update(
                amount=_text(share.amount),
                fee=_text(fee),
                net_amount=_text(share.amount - fee),
                refunded_amount=_text(share.refunded),
                refundable_amount=_text(
                    max(share.amount - share.refunded, Decimal("0.00"))
                    if instance.status
                    in (Payment.Status.SUCCEEDED, Payment.Status.PARTIALLY_REFUNDED)
                    else Decimal("0.00")
                ),
            )
            for attempt in data.get("attempts", []):
                attempt["amount"] = None  # the whole payment's: not theirs to see
        return data

    def _for_payer(self, payment: Payment) -> bool:
        user = self.context.get("user")
        return user is not None and payment.payer_id == user.pk and payment.status in Payment.OPEN

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_client_secret(self, payment: Payment) -> str | None:
        """Stripe: for Stripe.js to confirm the intent. Only the payer, only while open."""
        return payment.client_secret or None if self._for_payer(payment) else None

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_approval_url(self, payment: Payment) -> str | None:
        """PayPal: where the payer approves the payment. Only the payer, only while open."""
        return payment.approval_url or None if self._for_payer(payment) else None


class PaymentDetailSerializer(PaymentSerializer):
    attempts = PaymentAttemptSerializer(many=True)
    refunds = serializers.SerializerMethodField()

    class Meta(PaymentSerializer.Meta):
        fields = [*PaymentSerializer.Meta.fields, "attempts", "refunds"]

    @extend_schema_field(RefundSerializer(many=True))
    def get_refunds(self, payment: Payment) -> list[dict[str, Any]]:
        """The payer and staff see every refund; a store's owner only their own orders' (a
        checkout's other stores are their competitors)."""
        user = self.context.get("user")
        refunds = list(payment.refunds.all())
        if user is not None and not user.is_staff and payment.payer_id != user.pk:
            refunds = [
                r for r in refunds if r.order is not None and r.order.store.owner_id == user.pk
            ]
        return RefundSerializer(refunds, many=True).data  # type: ignore[return-value]


class RestockItemSerializer(serializers.Serializer):
    line_id = _id()
    quantity = serializers.IntegerField(min_value=1, max_value=100000)


class RefundInputSerializer(serializers.Serializer):
    amount = _money(min_value=Decimal("0.01"))
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    restock = serializers.BooleanField(required=False, default=False)
    order_id = _id(
        required=False,
        help_text="The order refunded; required when the payment paid several stores' orders.",
    )
    items = RestockItemSerializer(
        many=True,
        required=False,
        help_text="With restock: which lines and how many units come back (default: all).",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        items = attrs.get("items")
        if items and not attrs["restock"]:
            raise serializers.ValidationError({"items": ["Items are only for a restock."]})
        if items:
            seen: dict[int, int] = {}
            for item in items:
                seen[item["line_id"]] = seen.get(item["line_id"], 0) + item["quantity"]
            attrs["items"] = seen
        return attrs


EARLIEST, LATEST = date(2000, 1, 1), date(2999, 12, 31)


class AnalyticsQuerySerializer(QuerySerializer):
    store = _id(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # `from` is a Python keyword: these fields can't be declared as class attributes.
        self.fields["from"] = serializers.DateField(
            required=False, source="date_from", help_text="First day (default: 30 days ago)."
        )
        self.fields["to"] = serializers.DateField(
            required=False, source="date_to", help_text="Last day, included (default: today)."
        )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        for field, name in (("date_from", "from"), ("date_to", "to")):
            if field in attrs and not EARLIEST <= attrs[field] <= LATEST:
                raise serializers.ValidationError(
                    {name: [f"Between {EARLIEST.isoformat()} and {LATEST.isoformat()}."]}
                )
        today = timezone.now().date()
        attrs["date_to"] = attrs.get("date_to") or today
        attrs["date_from"] = attrs.get("date_from") or max(
            attrs["date_to"] - timedelta(days=29), EARLIEST
        )
        if attrs["date_from"] > attrs["date_to"]:
            raise serializers.ValidationError({"from": ["Must not be after `to`."]})
        if (attrs["date_to"] - attrs["date_from"]).days > 366:
            raise serializers.ValidationError({"from": ["At most 366 days at a time."]})
        return attrs


class AnalyticsRowSerializer(serializers.Serializer):
    currency = serializers.CharField()
    revenue = _money()
    orders = serializers.IntegerField()
    refunded = _money()
    refunds = serializers.IntegerField()
    net = _money()
    payments_succeeded = serializers.IntegerField()
    payments_failed = serializers.IntegerField()
    success_rate = serializers.FloatField(allow_null=True)


class AnalyticsDaySerializer(AnalyticsRowSerializer):
    date = serializers.DateField()


class AnalyticsSerializer(serializers.Serializer):
    store_id = serializers.IntegerField(allow_null=True)
    totals = AnalyticsRowSerializer(many=True, help_text="One row per currency.")
    by_day = AnalyticsDaySerializer(many=True, help_text="Days with activity, per currency.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["from"] = serializers.DateField()
        self.fields["to"] = serializers.DateField()


class WebhookAckSerializer(serializers.Serializer):
    received = serializers.BooleanField()
    duplicate = serializers.BooleanField()
