"""Paying a checkout: create, confirm, the provider's verdict, cash collection and expiry.

Gateway calls (HTTP to the provider) never run inside a database transaction: the payment row
is written before the call and updated after it. Everything that changes a payment's status
locks the checkout first, then the payment (the lock order of every checkout path: checkout →
payments → orders → sizes → reservations), so a confirm, a webhook, an expiry and a refund of
the same checkout queue up instead of racing.

A provider's success is the truth: money moved, whatever we thought of the payment. It always
ends in one of three ways — the checkout is paid (stock committed, orders ``paid``); the window
had closed and the stock is gone, so the money goes back (late payment); or another payment had
already paid the checkout, so this one goes back (duplicate).
"""

import contextlib
import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from orders.models import Checkout, Order
from orders.services import checkout as checkout_services
from payments.exceptions import (
    CheckoutExpired,
    CheckoutNotPayable,
    GatewayUnavailable,
    NotCashOnDelivery,
    PaymentClosed,
    PaymentDeclined,
    PaymentGatewayError,
    PaymentInProgress,
)
from payments.gateways import GatewayResult, compute_fee, get_gateway, sanitize
from payments.models import Gateway, Payment, PaymentAttempt, Refund
from payments.services import notify

logger = logging.getLogger(__name__)

CONFIRM_LEASE = timedelta(seconds=60)


def record_attempt(
    payment: Payment, action: str, result: GatewayResult | None = None, **fields: Any
) -> PaymentAttempt:
    return PaymentAttempt.objects.create(
        payment=payment,
        action=action,
        outcome=fields.pop("outcome", result.status if result else ""),
        amount=payment.amount,
        error_code=fields.pop("error_code", result.error_code if result else "")[:64],
        message=fields.pop("message", result.message if result else "")[:255],
        response=sanitize(fields.pop("response", result.response if result else {})),
    )


def lock_payment(payment_id: int) -> tuple[Checkout, Payment]:
    """Checkout, then payment, both locked. Call inside a transaction."""
    checkout_id = Payment.objects.filter(pk=payment_id).values_list("checkout_id", flat=True)
    checkout = Checkout.objects.select_for_update().get(pk=checkout_id[0])
    payment = Payment.objects.select_for_update().get(pk=payment_id)  # no join: no payer lock
    return checkout, payment


def _check_payable(checkout: Checkout) -> None:
    if checkout.status == Checkout.Status.PAID:
        raise CheckoutNotPayable("This checkout is already paid.")
    if checkout.status == Checkout.Status.CANCELLED:
        raise CheckoutNotPayable("This checkout was cancelled.")
    if checkout.status == Checkout.Status.EXPIRED or checkout.payment_deadline <= timezone.now():
        raise CheckoutExpired(details={"payment_deadline": checkout.payment_deadline})


def payable(checkout_id: int) -> bool:
    """Whether the checkout still waits for a payment (not paid, cancelled or past its window)."""
    try:
        _check_payable(Checkout.objects.get(pk=checkout_id))
    except (CheckoutExpired, CheckoutNotPayable):
        return False
    return True


# --- create ---------------------------------------------------------------------------------------


def create_payment(*, payer: User, checkout_id: int, gateway: str) -> Payment:
    """Open a payment for the whole checkout. The amount is the checkout's, never the client's.
    Raises CheckoutExpired / CheckoutNotPayable (409), GatewayUnavailable (400),
    PaymentGatewayError (502, the payment is then failed)."""
    provider = get_gateway(gateway)
    with transaction.atomic():
        checkout = Checkout.objects.select_for_update().filter(pk=checkout_id, buyer=payer).first()
        if checkout is None:
            raise Http404
        _check_payable(checkout)
        if (
            gateway == Gateway.CASH_ON_DELIVERY
            and checkout.orders.exclude(status=Order.Status.CANCELLED).count() != 1
        ):
            # The store hands over the parcel and takes the cash: one store, one collection.
            raise GatewayUnavailable(
                "Cash on delivery is for checkouts from a single store.",
                details={"gateway": gateway},
            )
        if not provider.supports_currency(checkout.currency):
            raise GatewayUnavailable(
                f"{provider.name} can't take payments in {checkout.currency}.",
                details={"gateway": gateway, "currency": checkout.currency},
            )
        fee = compute_fee(gateway, checkout.total)
        payment = Payment.objects.create(
            checkout=checkout,
            payer=payer,
            gateway=gateway,
            amount=checkout.total,
            currency=checkout.currency,
            fee=fee,
            net_amount=checkout.total - fee,
            expires_at=checkout.payment_deadline,
        )
    late: checkout_services.LatePaymentOutOfStock | None = None
    try:
        result = provider.create(payment)
    except PaymentGatewayError as exc:
        with transaction.atomic():
            Payment.objects.filter(pk=payment.pk).update(
                status=Payment.Status.FAILED,
                failure_code="gateway_error",
                failure_message=exc.message[:255],
            )
            record_attempt(payment, PaymentAttempt.Action.CREATE, outcome="error",
                           error_code=exc.code, message=exc.message)  # fmt: skip
        raise
    with transaction.atomic():
        checkout, payment = lock_payment(payment.pk)
        if payment.status not in Payment.OPEN:
            # Closed while the provider was creating it (the window's sweep): close it there too.
            payment.provider_reference = result.reference
            payment.save(update_fields=["provider_reference", "updated_at"])
            closed_meanwhile = True
        else:
            closed_meanwhile = False
    if closed_meanwhile:
        with contextlib.suppress(PaymentGatewayError):
            record_attempt(payment, PaymentAttempt.Action.CANCEL, provider.cancel(payment))
        raise CheckoutExpired(details={"payment_deadline": payment.expires_at})
    with transaction.atomic():
        checkout, payment = lock_payment(payment.pk)
        payment.provider_reference = result.reference
        payment.client_secret = result.client_secret
        payment.approval_url = result.approval_url
        if result.status == Payment.Status.REQUIRES_ACTION:
            payment.status = result.status
        payment.save()
        record_attempt(payment, PaymentAttempt.Action.CREATE, result)
        if gateway == Gateway.CASH_ON_DELIVERY:
            try:  # no money moves: the stock is sold and the orders go on
                checkout_services.mark_checkout_paid(checkout_id=checkout.pk)
            except checkout_services.LatePaymentOutOfStock as exc:
                late = exc
            else:
                payment.settled_checkout = True
                payment.save(update_fields=["settled_checkout"])
        _schedule_expiry(payment)
    if late is not None:
        # The window closed between the two transactions: nothing was sold, nothing is owed.
        Payment.objects.filter(pk=payment.pk).update(
            status=Payment.Status.CANCELLED, updated_at=timezone.now()
        )
        raise CheckoutExpired(details=late.details)
    logger.info(
        "payment created",
        extra={"payment_id": payment.pk, "checkout_id": checkout_id, "gateway": gateway},
    )
    return payment


def _schedule_expiry(payment: Payment) -> None:
    if payment.gateway == Gateway.CASH_ON_DELIVERY:
        return
    from payments import tasks

    payment_id, eta = payment.pk, payment.expires_at
    transaction.on_commit(
        lambda: tasks.expire_payment_task.apply_async(kwargs={"payment_id": payment_id}, eta=eta),
        robust=True,  # a broker hiccup must not fail the request: the beat sweep is the backstop
    )


# --- confirm --------------------------------------------------------------------------------------


def confirm_payment(*, payer: User, payment_id: int, data: Mapping[str, Any]) -> Payment:
    """Charge (test card, Stripe payment method, PayPal capture) or look up the provider's
    verdict. Succeeded → the checkout is paid. Declined → PaymentDeclined (402); the attempt is
    recorded and the payment stays open for another try until the deadline."""
    payment = Payment.objects.filter(pk=payment_id, payer=payer).first()
    if payment is None:
        raise Http404
    if payment.status in Payment.CAPTURED:
        return payment
    if payment.status not in Payment.OPEN:
        raise PaymentClosed(details={"status": payment.status})
    if payment.gateway == Gateway.CASH_ON_DELIVERY:
        raise NotCashOnDelivery(
            "Cash on delivery is confirmed by the store when the cash is collected.",
            code="confirm_not_supported",
        )
    fetch_only = payment.gateway == Gateway.STRIPE and not data.get("payment_method")
    if not fetch_only:  # asking Stripe what Stripe.js did charges nothing: always allowed
        _check_payable(Checkout.objects.get(pk=payment.checkout_id))
    return charge(payment=payment, data=data)


def charge(*, payment: Payment, data: Mapping[str, Any]) -> Payment:
    """Ask the provider to take the money (or for its verdict) under a lease: one confirm at a
    time per payment, so a double click, or a buyer racing PayPal's approval webhook, can't
    charge twice. Raises PaymentInProgress (409) while another holds it."""
    provider = get_gateway(payment.gateway)
    now = timezone.now()
    lease = now + CONFIRM_LEASE
    leased = Payment.objects.filter(
        Q(confirming_until__isnull=True) | Q(confirming_until__lt=now),
        pk=payment.pk,
        status__in=Payment.OPEN,
    ).update(confirming_until=lease)
    if not leased:
        payment.refresh_from_db()
        if payment.status in Payment.CAPTURED:
            return payment
        if payment.status not in Payment.OPEN:
            raise PaymentClosed(details={"status": payment.status})
        raise PaymentInProgress()
    try:
        try:
            result = provider.confirm(payment, data)
        except PaymentGatewayError as exc:
            record_attempt(payment, PaymentAttempt.Action.CONFIRM, outcome="error",
                           error_code=exc.code, message=exc.message)  # fmt: skip
            raise
        return apply_result(
            payment_id=payment.pk, result=result, action=PaymentAttempt.Action.CONFIRM
        )
    finally:
        # Released only once the outcome is recorded: a click arriving in between finds the
        # payment succeeded, not open again.
        # Only our own lease: after CONFIRM_LEASE another caller may hold a newer one.
        Payment.objects.filter(pk=payment.pk, confirming_until=lease).update(confirming_until=None)


def apply_result(*, payment_id: int, result: GatewayResult, action: str) -> Payment:
    """What the provider said about a confirm or a capture, applied. Raises PaymentDeclined."""
    if result.status == Payment.Status.SUCCEEDED:
        return record_success(
            payment_id=payment_id,
            capture_reference=result.capture_reference,
            result=result,
            action=action,
        )
    if result.status == Payment.Status.FAILED:
        payment = record_failure(
            payment_id=payment_id,
            error_code=result.error_code or "declined",
            message=result.message,
            result=result,
            action=action,
            terminal=False,
        )
        raise PaymentDeclined(
            result.message or None,
            details={"payment_id": payment_id, "reason": result.error_code or "declined"},
        )
    if result.status == Payment.Status.CANCELLED:
        record_cancelled(payment_id=payment_id, action=action, result=result)
        raise PaymentClosed(details={"status": Payment.Status.CANCELLED})
    with transaction.atomic():
        _, payment = lock_payment(payment_id)
        record_attempt(payment, action, result)
        if payment.status in Payment.OPEN and result.status in Payment.OPEN:
            payment.status = result.status
            if result.client_secret:
                payment.client_secret = result.client_secret
            if result.approval_url:
                payment.approval_url = result.approval_url
            payment.save()
    return payment


# --- the provider's verdicts ----------------------------------------------------------------------


def record_success(
    *,
    payment_id: int,
    capture_reference: str = "",
    result: GatewayResult | None = None,
    action: str = PaymentAttempt.Action.CONFIRM,
) -> Payment:
    """Money moved. Idempotent: a second success changes nothing. Settles the checkout: paid, or
    refunded in full if the window closed and the stock is gone, or if another payment had
    already paid it."""
    from payments.services import refunds

    with transaction.atomic():
        checkout, payment = lock_payment(payment_id)
        if result is not None:
            record_attempt(payment, action, result)
        if payment.status in Payment.CAPTURED:
            return payment
        was = payment.status
        payment.status = Payment.Status.SUCCEEDED
        payment.succeeded_at = timezone.now()
        payment.failure_code = payment.failure_message = ""
        if capture_reference:
            payment.capture_reference = capture_reference
        payment.save()
        paid_it = False
        if checkout.status == Checkout.Status.PAID:
            refunds.refund_automatically(payment, kind=Refund.Kind.DUPLICATE,
                                         reason="The checkout was already paid.")  # fmt: skip
        elif checkout.status == Checkout.Status.CANCELLED:
            refunds.refund_automatically(
                payment,
                kind=Refund.Kind.CANCELLATION,
                reason="The order was cancelled before the payment arrived.",
            )
        else:
            try:
                checkout_services.mark_checkout_paid(checkout_id=checkout.pk)
            except checkout_services.LatePaymentOutOfStock as exc:
                refunds.refund_automatically(
                    payment, kind=Refund.Kind.LATE_PAYMENT, reason=exc.message
                )
            else:
                paid_it = True
                payment.settled_checkout = True
                payment.save(update_fields=["settled_checkout"])
                checkout.refresh_from_db(fields=["total", "status"])
                if payment.amount > checkout.total:
                    refunds.refund_automatically(
                        payment,
                        kind=Refund.Kind.OVERPAYMENT,
                        amount=payment.amount - checkout.total,
                        reason="Part of the checkout was cancelled before the payment.",
                    )
        if paid_it:  # a refunded late or duplicate payment is told by its refund email
            notify.payment_succeeded(payment)
    logger.info("payment succeeded", extra={"payment_id": payment_id, "was": was})
    if was in (Payment.Status.FAILED, Payment.Status.CANCELLED):
        logger.warning("success for a closed payment", extra={"payment_id": payment_id})
    return payment


def record_failure(
    *,
    payment_id: int,
    error_code: str,
    message: str = "",
    result: GatewayResult | None = None,
    action: str = PaymentAttempt.Action.CONFIRM,
    terminal: bool,
) -> Payment:
    """A decline. ``terminal`` (the provider says the payment failed for good) closes an open
    payment; otherwise it stays open for another try. Never moves a succeeded payment back."""
    with transaction.atomic():
        _, payment = lock_payment(payment_id)
        first = not payment.attempts.filter(outcome="failed").exists()
        record_attempt(payment, action, result, outcome="failed", error_code=error_code,
                       message=message)  # fmt: skip
        if payment.status not in Payment.OPEN:
            return payment
        payment.failure_code = error_code[:64]
        payment.failure_message = message[:255]
        if terminal:
            payment.status = Payment.Status.FAILED
        payment.save()
        notify.payment_failed(payment, reason=error_code, email=first or terminal)
    logger.info("payment declined", extra={"payment_id": payment_id, "terminal": terminal})
    return payment


def record_cancelled(*, payment_id: int, action: str, result: GatewayResult | None = None) -> bool:
    """The provider cancelled the payment (or we did). Only an open payment moves."""
    with transaction.atomic():
        _, payment = lock_payment(payment_id)
        if result is not None:
            record_attempt(payment, action, result)
        if payment.status not in Payment.OPEN:
            return False
        payment.status = Payment.Status.CANCELLED
        payment.save(update_fields=["status", "updated_at"])
    logger.info("payment cancelled", extra={"payment_id": payment_id})
    return True


# --- cash on delivery -----------------------------------------------------------------------------


def collect_cash(*, payment: Payment, actor: User) -> Payment:
    """The store's owner (or staff) got the cash at the door: the payment has succeeded."""
    from orders.models import Order

    if payment.gateway != Gateway.CASH_ON_DELIVERY:
        raise NotCashOnDelivery()
    with transaction.atomic():
        checkout, payment = lock_payment(payment.pk)
        if payment.status in Payment.CAPTURED:
            return payment
        if payment.status not in Payment.OPEN or checkout.status != Checkout.Status.PAID:
            raise PaymentClosed(details={"status": payment.status})
        if (
            not actor.is_staff
            and not Order.objects.filter(checkout=checkout, store__owner=actor).exists()
        ):
            raise Http404
        payment.status = Payment.Status.SUCCEEDED
        payment.succeeded_at = payment.collected_at = timezone.now()
        payment.collected_by = actor
        payment.save()
        record_attempt(payment, PaymentAttempt.Action.COLLECT, outcome="succeeded",
                       response={"collected_by": actor.pk})  # fmt: skip
        notify.payment_succeeded(payment)
    logger.info("cash collected", extra={"payment_id": payment.pk, "user_id": actor.pk})
    return payment


# --- expiry ---------------------------------------------------------------------------------------


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
