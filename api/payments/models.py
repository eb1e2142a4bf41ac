from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from core.models import StateMachine, TimeStampedModel


class Gateway(models.TextChoices):
    TEST = "test", "Test gateway"
    STRIPE = "stripe", "Stripe"
    PAYPAL = "paypal", "PayPal"
    CASH_ON_DELIVERY = "cash_on_delivery", "Cash on delivery"


class Payment(StateMachine, TimeStampedModel):
    """One attempt to pay a checkout through one gateway. A checkout may see several (a failed
    one, then another gateway); at most one of them pays it, any other success is refunded."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        REQUIRES_ACTION = "requires_action", "Requires action"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        REFUNDED = "refunded", "Refunded"
        PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"

    # A provider's success is the truth even for a payment we had closed: money moved.
    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        Status.PENDING: {Status.REQUIRES_ACTION, Status.SUCCEEDED, Status.FAILED, Status.CANCELLED},
        Status.REQUIRES_ACTION: {Status.PENDING, Status.SUCCEEDED, Status.FAILED,
                                 Status.CANCELLED},
        Status.FAILED: {Status.SUCCEEDED},
        Status.CANCELLED: {Status.SUCCEEDED},
        Status.SUCCEEDED: {Status.PARTIALLY_REFUNDED, Status.REFUNDED},
        Status.PARTIALLY_REFUNDED: {Status.PARTIALLY_REFUNDED, Status.REFUNDED},
        Status.REFUNDED: set(),
    }  # fmt: skip
    OPEN = (Status.PENDING, Status.REQUIRES_ACTION)
    # Money moved: a provider's success is the truth even for a payment we had given up on.
    CAPTURED = (Status.SUCCEEDED, Status.PARTIALLY_REFUNDED, Status.REFUNDED)

    checkout = models.ForeignKey(
        "orders.Checkout", on_delete=models.PROTECT, related_name="payments"
    )
    payer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payments"
    )
    gateway = models.CharField(max_length=20, choices=Gateway.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    fee = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))
    net_amount = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))
    refunded_amount = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))
    # The provider's id: Stripe's PaymentIntent, PayPal's order, the test gateway's charge.
    provider_reference = models.CharField(max_length=255, blank=True)
    # What a refund is made against: PayPal's capture id (Stripe refunds the intent).
    capture_reference = models.CharField(max_length=255, blank=True)
    client_secret = models.CharField(max_length=255, blank=True)
    approval_url = models.URLField(max_length=1000, blank=True)
    expires_at = models.DateTimeField()
    succeeded_at = models.DateTimeField(null=True, blank=True)
    # This payment is the one that paid its checkout (a duplicate or late one that was refunded
    # instead never is): only its money can be refunded against the checkout's orders.
    settled_checkout = models.BooleanField(default=False)
    failure_code = models.CharField(max_length=64, blank=True)
    failure_message = models.CharField(max_length=255, blank=True)
    # A confirm call in flight holds this lease, so a double click can't charge twice.
    confirming_until = models.DateTimeField(null=True, blank=True)
    # Cash on delivery: when and by whom the cash was collected.
    collected_at = models.DateTimeField(null=True, blank=True)
    collected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["payer", "-created_at"], name="payment_payer_recent"),
            models.Index(fields=["status", "expires_at"], name="payment_open_due"),
            models.Index(fields=["succeeded_at"], name="payment_succeeded_at"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "provider_reference"],
                condition=~Q(provider_reference=""),
                name="payment_unique_provider_reference",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0, refunded_amount__lte=F("amount")),
                name="payment_refunded_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"payment {self.pk} ({self.gateway}, {self.status})"

    @property
    def refundable_amount(self) -> Decimal:
        if self.status not in (self.Status.SUCCEEDED, self.Status.PARTIALLY_REFUNDED):
            return Decimal("0.00")
        return self.amount - self.refunded_amount


class PaymentAttempt(models.Model):
    """Every call to the gateway and every provider event about a payment, with the provider's
    response stripped of secrets (``payments.gateways.sanitize``)."""

    class Action(models.TextChoices):
        CREATE = "create", "Create"
        CONFIRM = "confirm", "Confirm"
        CANCEL = "cancel", "Cancel"
        WEBHOOK = "webhook", "Webhook"
        COLLECT = "collect", "Cash collected"
        RECONCILE = "reconcile", "Reconcile"

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="attempts")
    action = models.CharField(max_length=20, choices=Action.choices)
    outcome = models.CharField(max_length=20)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    error_code = models.CharField(max_length=64, blank=True)
    message = models.CharField(max_length=255, blank=True)
    response = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["outcome", "created_at"], name="attempt_outcome_time")]

    def __str__(self) -> str:
        return f"{self.action} {self.outcome} (payment {self.payment_id})"


class Refund(TimeStampedModel):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    class Kind(models.TextChoices):
        MANUAL = "manual", "By staff or the store's owner"
        CANCELLATION = "cancellation", "The order was cancelled"
        LATE_PAYMENT = "late_payment", "Paid after the window, stock gone"
        DUPLICATE = "duplicate", "The checkout was already paid"
        OVERPAYMENT = "overpayment", "Paid more than the checkout owes"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    # The order whose money goes back; empty for a refund of the whole payment (late payment,
    # duplicate payment) where no order was sold.
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.MANUAL)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=255, blank=True)
    restock = models.BooleanField(default=False)
    provider_reference = models.CharField(max_length=255, blank=True)
    # Sent with every try (Stripe's idempotency key, PayPal's request id): fixed when the refund
    # is written, so no later change of settings can make a retry a second refund.
    idempotency_key = models.CharField(max_length=100, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    failure_message = models.CharField(max_length=255, blank=True)
    response = models.JSONField(default=dict, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "completed_at"], name="refund_status_done")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"refund {self.pk} of payment {self.payment_id} ({self.status})"


class WebhookEvent(models.Model):
    """The inbox: every verified provider event, stored once, processed by a worker."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored (changed nothing)"
        FAILED = "failed", "Failed, will retry"
        DEAD = "dead", "Dead letter"

    provider = models.CharField(max_length=20, choices=Gateway.choices)
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RECEIVED)
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.SET_NULL, related_name="webhook_events"
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    result = models.CharField(max_length=255, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="webhook_event_once"),
        ]
        indexes = [models.Index(fields=["status", "received_at"], name="webhook_status_time")]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_id} ({self.status})"
