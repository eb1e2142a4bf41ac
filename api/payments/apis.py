from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.apis import paginate, request_user
from core.idempotency import idempotent
from core.openapi import (
    DEMO_BUYER,
    RAW_WEBHOOK,
    error_responses,
    idempotency_key_parameter,
    paginated,
    request_example,
)
from payments import selectors
from payments.gateways import compute_fee, enabled_gateways
from payments.models import Gateway
from payments.serializers import (
    AnalyticsQuerySerializer,
    AnalyticsSerializer,
    GatewaySerializer,
    PaymentConfirmSerializer,
    PaymentCreateSerializer,
    PaymentDetailSerializer,
    PaymentSerializer,
    RefundInputSerializer,
    RefundSerializer,
    WebhookAckSerializer,
)
from payments.services import cash, confirm, create, refunds, webhooks
from stores.models import Store

TAGS = ["payments"]
GATEWAY_ERROR = (502, "payment_gateway_error")


def _payment(request: Request, payment: Any, serializer: type = PaymentSerializer) -> Any:
    user = request_user(request)
    share = selectors.store_share(payment=payment, user=user)
    return serializer(payment, context={"user": user, "store_share": share}).data


class PaymentCreateApi(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Open a payment for a checkout (amount from the checkout, never the client)",
        request=PaymentCreateSerializer,
        examples=[
            request_example(
                "Pay a checkout with the test gateway",
                {"checkout_id": 1, "gateway": "test"},
                f"{DEMO_BUYER}, after the first checkout.",
            )
        ],
        parameters=[idempotency_key_parameter],
        responses={
            201: PaymentSerializer,
            **error_responses(
                (400, "gateway_unavailable"),
                (404, "not_found"),
                (409, "checkout_expired"),
                (409, "checkout_not_payable"),
                (409, "cash_on_delivery_limit"),
                (409, "idempotency_in_progress"),
                (422, "idempotency_key_reused"),
                GATEWAY_ERROR,
            ),
        },
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = PaymentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        payment = create.create_payment(
            payer=request_user(request),
            checkout_id=data.validated_data["checkout_id"],
            gateway=data.validated_data["gateway"],
        )
        return Response(_payment(request, payment), status=status.HTTP_201_CREATED)


class PaymentConfirmApi(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Confirm a payment: charge the test card, confirm the Stripe intent, capture "
        "the approved PayPal order",
        description="Declined → 402 `payment_declined`; the attempt is recorded and the payment "
        "stays open, so another card can be tried until the deadline. A payment that already "
        "succeeded answers 200 again.",
        request=PaymentConfirmSerializer,
        examples=[
            request_example(
                "The test card that succeeds",
                {"payment_id": 1, "card_number": "4242424242424242"},
                "``4000000000000002`` is declined, ``4000000000009995`` has no funds.",
            )
        ],
        parameters=[idempotency_key_parameter],
        responses={
            200: PaymentSerializer,
            **error_responses(
                (402, "payment_declined"),
                (404, "not_found"),
                (409, "checkout_expired"),
                (409, "checkout_not_payable"),
                (409, "payment_closed"),
                (409, "payment_in_progress"),
                (409, "confirm_not_supported"),
                (409, "idempotency_in_progress"),
                (422, "idempotency_key_reused"),
                GATEWAY_ERROR,
            ),
        },
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = PaymentConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        payment = confirm.confirm_payment(
            payer=request_user(request), payment_id=values.pop("payment_id"), data=values
        )
        return Response(_payment(request, payment))


class PaymentListApi(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Your payments, newest first",
        operation_id="payments_list",
        parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses={200: paginated(PaymentSerializer)},
    )
    def get(self, request: Request) -> Response:
        user = request_user(request)
        payments = selectors.list_payer_payments(user=user)
        return paginate(request, self, payments, PaymentSerializer, context={"user": user})


class PaymentDetailApi(APIView):
    @extend_schema(
        tags=TAGS,
        summary="A payment with its attempts and refunds (payer, the stores' owners, staff)",
        operation_id="payments_retrieve",
        responses={200: PaymentDetailSerializer},
    )
    def get(self, request: Request, payment_id: int) -> Response:
        payment = selectors.get_payment_for_user(payment_id=payment_id, user=request_user(request))
        return Response(_payment(request, payment, PaymentDetailSerializer))


class PaymentRefundApi(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Refund (staff or the refunded order's store owner), optionally restocking",
        description="Capped at what the payment and the order have left: more → 409 "
        "`refund_exceeds_refundable`. The refund is `pending` until the provider confirms "
        "it (retried in the background if the provider is down). A full refund of an order "
        "moves it to `refunded`.",
        request=RefundInputSerializer,
        examples=[
            request_example(
                "Refund part of a paid order",
                {"amount": "10.00", "reason": "Arrived damaged"},
                "With `make run`'s demo data, signed in as `admin@sudamall.local` (staff) or "
                "as the order's store owner, after the buyer's first payment. `order_id` is "
                "needed only when the payment paid several stores' orders; `restock: true` "
                "puts the units back (all of them, or the `items` given).",
            )
        ],
        parameters=[idempotency_key_parameter],
        responses={
            201: RefundSerializer,
            **error_responses(
                (409, "refund_exceeds_refundable"),
                (409, "payment_not_refundable"),
                (409, "order_not_sold"),
                (409, "restock_exceeds_sold"),
                (409, "idempotency_in_progress"),
                (422, "idempotency_key_reused"),
            ),
        },
    )
    @idempotent
    def post(self, request: Request, payment_id: int) -> Response:
        payment = selectors.get_payment_for_user(payment_id=payment_id, user=request_user(request))
        data = RefundInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        refund = refunds.create_refund(
            payment=payment,
            actor=request_user(request),
            amount=values["amount"],
            reason=values["reason"],
            restock=values["restock"],
            order_id=values.get("order_id"),
            restock_items=values.get("items"),
        )
        return Response(RefundSerializer(refund).data, status=status.HTTP_201_CREATED)


class PaymentCollectApi(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Cash on delivery: the store's owner (or staff) collected the cash",
        request=None,
        responses={
            200: PaymentSerializer,
            **error_responses((409, "payment_closed"), (409, "not_cash_on_delivery")),
        },
    )
    def post(self, request: Request, payment_id: int) -> Response:
        payment = selectors.get_payment_for_user(payment_id=payment_id, user=request_user(request))
        payment = cash.collect_cash(payment=payment, actor=request_user(request))
        return Response(_payment(request, payment))


class GatewayListApi(APIView):
    @extend_schema(
        tags=TAGS,
        summary="The payment methods available here, with their fees",
        responses={200: GatewaySerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        return Response(
            [
                {
                    "gateway": name,
                    "name": Gateway(name).label,
                    "fee_fixed": settings.PAYMENT_GATEWAY_FEES[name][0],
                    "fee_percent": settings.PAYMENT_GATEWAY_FEES[name][1],
                    "fee_on_100": str(compute_fee(name, Decimal(100))),
                }
                for name in enabled_gateways()
            ]
        )


class AnalyticsApi(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Revenue, refunds and payment success rate by day (staff; a store's owner "
        "sees only their stores)",
        parameters=[AnalyticsQuerySerializer],
        responses={200: AnalyticsSerializer, **error_responses((404, "not_found"))},
    )
    def get(self, request: Request) -> Response:
        user = request_user(request)
        # A plain dict: "?to=" is then an invalid date (400), not silently "no date".
        query = AnalyticsQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        store_id = query.validated_data.get("store")
        if not user.is_staff:
            owned = Store.objects.filter(owner=user)
            if not owned.exists():
                raise PermissionDenied
            if store_id is not None and not owned.filter(pk=store_id).exists():
                raise Http404
        scope = selectors.AnalyticsScope(
            user=user,
            date_from=query.validated_data["date_from"],
            date_to=query.validated_data["date_to"],
            store_id=store_id,
        )
        return Response(AnalyticsSerializer(selectors.payment_analytics(scope)).data)


# --- webhooks -------------------------------------------------------------------------------------


class _WebhookApi(APIView):
    """Providers call these: no user, no session, no throttle; the signature is the credential.
    The raw body is read as sent (the signature covers its bytes), never re-parsed first."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []
    provider = ""

    def post(self, request: Request) -> Response:
        _, created = webhooks.receive_event(
            provider=self.provider, body=request.body, headers=request.headers
        )
        return Response({"received": True, "duplicate": not created})


TEST_EVENT = inline_serializer(
    name="TestWebhookEvent",
    fields={
        "id": serializers.CharField(),
        "type": serializers.ChoiceField(choices=["payment.succeeded", "payment.failed"]),
        "data": inline_serializer(
            name="TestWebhookEventData", fields={"payment_id": serializers.IntegerField()}
        ),
    },
)


def _webhook_schema(summary: str, description: str, body: Any = OpenApiTypes.OBJECT) -> Any:
    return extend_schema(
        tags=TAGS,
        summary=summary,
        description=description,
        request={"application/json": body},
        responses={200: WebhookAckSerializer, **error_responses((400, "invalid_signature"))},
        auth=[],
        extensions={RAW_WEBHOOK: True},
    )


class TestWebhookApi(_WebhookApi):
    provider = Gateway.TEST

    @_webhook_schema(
        "Test gateway webhook",
        "Body `{id, type: payment.succeeded|payment.failed, data: {payment_id}}`, header "
        '`X-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. A bad '
        "signature or a timestamp over 5 minutes off → 400, nothing stored. The same event id "
        "again → 200, processed once.",
        TEST_EVENT,
    )
    def post(self, request: Request) -> Response:
        return super().post(request)


class StripeWebhookApi(_WebhookApi):
    provider = Gateway.STRIPE

    @_webhook_schema(
        "Stripe webhook",
        "Verified with the `Stripe-Signature` header (Stripe's scheme, 5-minute tolerance).",
    )
    def post(self, request: Request) -> Response:
        return super().post(request)


class PayPalWebhookApi(_WebhookApi):
    provider = Gateway.PAYPAL

    @_webhook_schema(
        "PayPal webhook",
        "Verified locally per PayPal's scheme: the `PAYPAL-TRANSMISSION-SIG` over "
        "`id|time|webhook id|crc32(body)` with PayPal's certificate from `PAYPAL-CERT-URL`.",
    )
    def post(self, request: Request) -> Response:
        return super().post(request)
