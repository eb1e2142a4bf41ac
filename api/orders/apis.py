from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.apis import paginate, request_user
from core.idempotency import idempotent
from core.openapi import (
    DEMO_BUYER,
    error_responses,
    idempotency_key_parameter,
    paginated,
    request_example,
)
from orders import selectors
from orders.models import Checkout
from orders.serializers import (
    BuyNowSerializer,
    CheckoutInputSerializer,
    CheckoutSerializer,
    OrderSerializer,
    StatusChangeSerializer,
)
from orders.services import checkout as checkout_services
from orders.services import transitions
from stores import selectors as store_selectors
from stores.services import check_store_owner

TAGS = ["orders"]
SHIPPING_EXAMPLE = {
    "full_name": "Amna Osman",
    "phone": "+249912345678",
    "line1": "Street 15, Block 3",
    "city": "Khartoum",
    "country": "Sudan",
}
PLACE_ERRORS = error_responses(
    (409, "out_of_stock"),
    (409, "hold_limit_reached"),
    (409, "too_many_open_checkouts"),
    (409, "purchase_limit_reached"),
    (409, "idempotency_in_progress"),
    (422, "idempotency_key_reused"),
)


def _checkout_response(checkout: Checkout) -> Response:
    # The service hands back the checkout shaped as get_checkout_for_user loads it: no re-read.
    return Response(CheckoutSerializer(checkout).data, status=status.HTTP_201_CREATED)


class CartCheckoutApi(APIView):
    @extend_schema(
        tags=["cart"],
        summary="Check out the cart: stock is held for the payment window",
        request=CheckoutInputSerializer,
        examples=[
            request_example(
                "Deliver to Khartoum",
                {"shipping_address": SHIPPING_EXAMPLE},
                f"{DEMO_BUYER}, after adding to the cart.",
            )
        ],
        parameters=[idempotency_key_parameter],
        responses={201: CheckoutSerializer, **PLACE_ERRORS},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = CheckoutInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        checkout = checkout_services.place_checkout_from_cart(
            buyer=request_user(request), shipping_address=data.validated_data["shipping_address"]
        )
        return _checkout_response(checkout)


class OrderListCreateApi(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Your orders, newest first",
        operation_id="orders_list",
        parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses={200: paginated(OrderSerializer)},
    )
    def get(self, request: Request) -> Response:
        return paginate(
            request, self, selectors.list_buyer_orders(user=request_user(request)), OrderSerializer
        )

    @extend_schema(
        tags=TAGS,
        summary="Buy now: check out these items without the cart",
        request=BuyNowSerializer,
        examples=[
            request_example(
                "Buy one item now",
                {"items": [{"product_id": 1, "quantity": 1}], "shipping_address": SHIPPING_EXAMPLE},
                f"{DEMO_BUYER}. Products with sizes need `size_id` too.",
            )
        ],
        parameters=[idempotency_key_parameter],
        responses={201: CheckoutSerializer, **PLACE_ERRORS},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = BuyNowSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lines = [
            checkout_services.LineRequest(i["product_id"], i.get("size_id"), i["quantity"])
            for i in data.validated_data["items"]
        ]
        checkout = checkout_services.place_checkout(
            buyer=request_user(request),
            lines=lines,
            shipping_address=data.validated_data["shipping_address"],
        )
        return _checkout_response(checkout)


class OrderDetailApi(APIView):
    @extend_schema(tags=TAGS, summary="An order (its buyer, its store's owner, staff)",
                   responses={200: OrderSerializer})  # fmt: skip
    def get(self, request: Request, order_id: int) -> Response:
        order = selectors.get_order_for_user(order_id=order_id, user=request_user(request))
        return Response(OrderSerializer(order).data)


class OrderStatusApi(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Move an order on (owner: paid→processing→shipped→delivered; buyer: cancel "
        "while pending payment)",
        request=StatusChangeSerializer,
        responses={200: OrderSerializer, **error_responses((409, "invalid_transition"))},
    )
    def put(self, request: Request, order_id: int) -> Response:
        order = selectors.get_order_for_user(order_id=order_id, user=request_user(request))
        data = StatusChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        transitions.change_order_status(
            order=order,
            actor=request_user(request),
            to_status=data.validated_data["status"],
            note=data.validated_data["note"],
        )
        order = selectors.get_order_for_user(order_id=order_id, user=request_user(request))
        return Response(OrderSerializer(order).data)


class StoreOrderListApi(APIView):
    @extend_schema(
        tags=["stores"],
        summary="Your store's orders to fulfil, newest first",
        operation_id="stores_orders_list",
        parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses={200: paginated(OrderSerializer)},
    )
    def get(self, request: Request, store_id: int) -> Response:
        store = store_selectors.get_public_store(store_id=store_id)
        check_store_owner(store=store, user=request_user(request))
        return paginate(
            request, self, selectors.list_store_orders(store_id=store.pk), OrderSerializer
        )
