from rest_framework import status

from core.exceptions import ApplicationError, Conflict


class PaymentDeclined(ApplicationError):
    code = "payment_declined"
    http_status = status.HTTP_402_PAYMENT_REQUIRED
    default_message = "The payment was declined. Try another card or payment method."


class PaymentGatewayError(ApplicationError):
    """The provider could not be reached or answered with an error that isn't the buyer's."""

    code = "payment_gateway_error"
    http_status = status.HTTP_502_BAD_GATEWAY
    default_message = "The payment provider is not answering. Try again in a moment."


class GatewayUnavailable(ApplicationError):
    code = "gateway_unavailable"
    default_message = "This payment method is not available."


class InvalidWebhook(ApplicationError):
    code = "invalid_signature"
    default_message = "The webhook's signature could not be verified."


class CheckoutExpired(Conflict):
    code = "checkout_expired"
    default_message = "The payment window of this checkout has closed."


class CheckoutNotPayable(Conflict):
    code = "checkout_not_payable"
    default_message = "This checkout is not waiting for a payment."


class PaymentClosed(Conflict):
    code = "payment_closed"
    default_message = "This payment is closed; create a new one to pay the checkout."


class PaymentInProgress(Conflict):
    code = "payment_in_progress"
    default_message = "This payment is being confirmed by another request; retry in a moment."


class PaymentNotRefundable(Conflict):
    code = "payment_not_refundable"
    default_message = "Only a succeeded payment can be refunded."


class RefundExceedsRefundable(Conflict):
    code = "refund_exceeds_refundable"
    default_message = "The refund is larger than what is left to refund."


class NotCashOnDelivery(Conflict):
    code = "not_cash_on_delivery"
    default_message = "Only a cash-on-delivery payment is collected by hand."


class CashOnDeliveryLimit(Conflict):
    code = "cash_on_delivery_limit"
    default_message = "Cash on delivery isn't available for this checkout; pay online instead."
