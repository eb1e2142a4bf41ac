"""Opening a payment for a checkout (cash on delivery settles at once: no money moves).

Gateway calls (HTTP to the provider) never run inside a database transaction: the payment row
is written before the call and updated after it, each time under the checkout family's locks
(``orders.services.locks``), so a create racing the window's sweep can't leave an open payment
for a closed checkout.
"""

import contextlib
import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from core import outbox
from orders.models import Checkout, Order, OrderLine
from orders.services import locks, window
from payments.exceptions import (
    CashOnDeliveryLimit,
    CheckoutExpired,
    CheckoutNotPayable,
    GatewayUnavailable,
    PaymentGatewayError,
)
from payments.gateways import compute_fee, get_gateway
from payments.models import Gateway, Payment, PaymentAttempt
from payments.services.attempts import record_attempt

logger = logging.getLogger(__name__)


def check_payable(checkout: Checkout) -> None:
    if checkout.status == Checkout.Status.PAID:
        raise CheckoutNotPayable("This checkout is already paid.")
    if checkout.status == Checkout.Status.CANCELLED:
        raise CheckoutNotPayable("This checkout was cancelled.")
    if checkout.status == Checkout.Status.EXPIRED or checkout.payment_deadline <= timezone.now():
        raise CheckoutExpired(details={"payment_deadline": checkout.payment_deadline})


def payable(checkout_id: int) -> bool:
    """Whether the checkout still waits for a payment (not paid, cancelled or past its window)."""
    try:
        check_payable(Checkout.objects.get(pk=checkout_id))
    except (CheckoutExpired, CheckoutNotPayable):
        return False
    return True


def _check_cash_on_delivery_limits(*, payer: User, checkout: Checkout) -> None:
    """Cash on delivery sells the stock with no money and no deadline: a new account may take
    only so much that way, and nobody may have too many uncollected cash payments."""
    open_cash = Payment.objects.filter(
        payer=payer, gateway=Gateway.CASH_ON_DELIVERY, status__in=Payment.OPEN
    ).count()
    if open_cash >= settings.COD_MAX_OPEN:
        raise CashOnDeliveryLimit(
            "You have as many cash-on-delivery orders waiting as one buyer may.",
            details={"reason": "open_payments", "open": open_cash, "limit": settings.COD_MAX_OPEN},
        )
    new_account = (
        payer.date_joined > timezone.now() - timedelta(days=settings.COD_NEW_ACCOUNT_DAYS)
        and not Order.objects.filter(checkout__buyer=payer, status=Order.Status.DELIVERED).exists()
    )
    if not new_account:
        return
    units = (
        OrderLine.objects.filter(order__checkout=checkout).aggregate(units=Sum("quantity"))["units"]
        or 0
    )
    if (
        checkout.total > settings.COD_NEW_ACCOUNT_MAX_TOTAL
        or units > settings.COD_NEW_ACCOUNT_MAX_UNITS
    ):
        raise CashOnDeliveryLimit(
            "New accounts may pay this much only online until their first delivery.",
            details={
                "reason": "new_account",
                "max_total": f"{settings.COD_NEW_ACCOUNT_MAX_TOTAL:.2f}",
                "max_units": settings.COD_NEW_ACCOUNT_MAX_UNITS,
            },
        )


def create_payment(*, payer: User, checkout_id: int, gateway: str) -> Payment:
    """Open a payment for the whole checkout. The amount is the checkout's, never the client's.
    Raises CheckoutExpired / CheckoutNotPayable (409), GatewayUnavailable (400),
    PaymentGatewayError (502, the payment is then failed)."""
    provider = get_gateway(gateway)
    with transaction.atomic():
        if gateway == Gateway.CASH_ON_DELIVERY:
            locks.lock_buyer(payer.pk)  # (0): the buyer's concurrent requests count each other
        checkout = locks.lock_checkout(checkout_id, buyer=payer)
        if checkout is None:
            raise Http404
        check_payable(checkout)
        if gateway == Gateway.CASH_ON_DELIVERY:
            _check_cash_on_delivery_limits(payer=payer, checkout=checkout)
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
    late: window.LatePaymentOutOfStock | None = None
    try:
        result = provider.create(payment)
    except PaymentGatewayError as exc:
        with transaction.atomic():
            Payment.objects.filter(
                pk=payment.pk,
                status__in=Payment.statuses_that_can_move_to(Payment.Status.FAILED),
            ).update(
                status=Payment.Status.FAILED,
                failure_code="gateway_error",
                failure_message=exc.message[:255],
            )
            record_attempt(payment, PaymentAttempt.Action.CREATE, outcome="error",
                           error_code=exc.code, message=exc.message)  # fmt: skip
        raise
    with transaction.atomic():
        checkout, payment = locks.lock_checkout_of(Payment, payment.pk)
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
        checkout, payment = locks.lock_checkout_of(Payment, payment.pk)
        payment.provider_reference = result.reference
        payment.client_secret = result.client_secret
        payment.approval_url = result.approval_url
        if result.status == Payment.Status.REQUIRES_ACTION and payment.status in Payment.OPEN:
            payment.move_to(result.status)
        payment.save()
        record_attempt(payment, PaymentAttempt.Action.CREATE, result)
        if gateway == Gateway.CASH_ON_DELIVERY:
            try:  # no money moves: the stock is sold and the orders go on
                window.mark_checkout_paid(checkout_id=checkout.pk)
            except window.LatePaymentOutOfStock as exc:
                late = exc
            else:
                payment.settled_checkout = True
                payment.save(update_fields=["settled_checkout"])
        _schedule_expiry(payment)
    if late is not None:
        # The window closed between the two transactions: nothing was sold, nothing is owed.
        Payment.objects.filter(
            pk=payment.pk,
            status__in=Payment.statuses_that_can_move_to(Payment.Status.CANCELLED),
        ).update(status=Payment.Status.CANCELLED, updated_at=timezone.now())
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

    # The beat sweep is the backstop for a timer that never fires.
    outbox.enqueue(tasks.expire_payment_task, {"payment_id": payment.pk}, eta=payment.expires_at)
