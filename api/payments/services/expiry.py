"""Closing payments that can no longer pay their checkout: an ETA task at each payment's
deadline and the beat sweep, like checkouts."""

from django.db.models import Q
from django.utils import timezone

from orders.models import Checkout
from payments.exceptions import GatewayUnavailable
from payments.gateways import GatewayResult, get_gateway
from payments.models import Gateway, Payment, PaymentAttempt
from payments.services.attempts import record_attempt
from payments.services.settle import record_cancelled, record_success


def expire_payment(*, payment_id: int) -> bool:
    """Close an open payment whose checkout can no longer be paid by it (the window closed, or
    another payment paid it): cancel it at the provider, then here. If the provider says it
    succeeded meanwhile, that success is recorded instead (and the late-payment rule applies).
    Returns whether the payment was cancelled."""
    payment = Payment.objects.select_related("checkout").filter(pk=payment_id).first()
    if (
        payment is None
        or payment.status not in Payment.OPEN
        or payment.gateway == Gateway.CASH_ON_DELIVERY
    ):
        return False
    checkout = payment.checkout
    if checkout.status == Checkout.Status.PENDING_PAYMENT and (
        checkout.payment_deadline > timezone.now()
    ):
        return False
    try:
        if not payment.provider_reference:  # never reached the provider: nothing to cancel there
            result = GatewayResult("cancelled", message="not opened at the provider")
        else:
            result = get_gateway(payment.gateway).cancel(payment)
    except GatewayUnavailable:  # switched off since: nothing to cancel at the provider
        result = GatewayResult("cancelled", message="gateway not configured")
    if result.status == Payment.Status.SUCCEEDED:
        record_success(payment_id=payment.pk, capture_reference=result.capture_reference,
                       result=result, action=PaymentAttempt.Action.CANCEL)  # fmt: skip
        return False
    if result.status in Payment.OPEN:  # the provider is still processing it: its webhook decides
        record_attempt(payment, PaymentAttempt.Action.CANCEL, result)
        return False
    return record_cancelled(
        payment_id=payment.pk, action=PaymentAttempt.Action.CANCEL, result=result
    )


def stale_payment_ids(limit: int = 500) -> list[int]:
    """Open payments that can't pay their checkout any more, oldest first."""
    now = timezone.now()
    return list(
        Payment.objects.filter(status__in=Payment.OPEN)
        .exclude(gateway=Gateway.CASH_ON_DELIVERY)
        .filter(Q(expires_at__lte=now) | ~Q(checkout__status=Checkout.Status.PENDING_PAYMENT))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
