"""Cash on delivery: no money moves at checkout. Creating the payment commits the stock and
sends the orders on; the store's owner marks the cash collected when the parcel is handed over.
A refund is cash the store gives back by hand, recorded here."""

import uuid
from collections.abc import Mapping
from typing import Any

from django.conf import settings

from payments.exceptions import NotCashOnDelivery
from payments.gateways.base import GatewayResult, PaymentGateway


class CashOnDeliveryGateway(PaymentGateway):
    name = "cash_on_delivery"

    def is_enabled(self) -> bool:
        return bool(settings.PAYMENT_CASH_ON_DELIVERY_ENABLED)

    def create(self, payment: Any) -> GatewayResult:
        reference = f"cod_{uuid.uuid4().hex}"
        return GatewayResult(status="pending", reference=reference, response={"id": reference})

    def confirm(self, payment: Any, data: Mapping[str, Any]) -> GatewayResult:
        raise NotCashOnDelivery(
            "Cash on delivery is confirmed by the store's owner when the cash is collected.",
            code="confirm_not_supported",
        )

    def cancel(self, payment: Any) -> GatewayResult:
        return GatewayResult(status="cancelled")

    def refund(self, payment: Any, refund: Any) -> GatewayResult:
        return GatewayResult(status="succeeded", reference=f"codr_{uuid.uuid4().hex}")
