from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from carts import selectors, services
from carts.serializers import CartAddSerializer, CartQuantitySerializer, CartSerializer
from core.apis import request_user
from core.openapi import DEMO_BUYER, error_responses, request_example

TAGS = ["cart"]
OUT_OF_STOCK = error_responses((409, "out_of_stock"))


class CartApi(APIView):
    @extend_schema(tags=TAGS, summary="Your cart, with what changed since you added each item",
                   responses={200: CartSerializer})  # fmt: skip
    def get(self, request: Request) -> Response:
        return Response(CartSerializer(selectors.cart_summary(user=request_user(request))).data)


class CartAddApi(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Add to your cart (the same product and size merge)",
        request=CartAddSerializer,
        examples=[
            request_example(
                "A product without sizes",
                {"product_id": 1, "quantity": 2},
                f"{DEMO_BUYER}. Products with sizes need `size_id` too.",
            )
        ],
        responses={201: CartSerializer, **OUT_OF_STOCK},
    )
    def post(self, request: Request) -> Response:
        data = CartAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cart = services.add_item(
            user=request_user(request),
            product_id=data.validated_data["product_id"],
            size_id=data.validated_data.get("size_id"),
            quantity=data.validated_data["quantity"],
        )
        return Response(CartSerializer(cart).data, status=status.HTTP_201_CREATED)


class CartItemApi(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Change a line's quantity",
        request=CartQuantitySerializer,
        responses={200: CartSerializer, **OUT_OF_STOCK},
    )
    def put(self, request: Request, item_id: int) -> Response:
        item = selectors.get_cart_item(user=request_user(request), item_id=item_id)
        data = CartQuantitySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cart = services.update_item(
            user=request_user(request), item=item, quantity=data.validated_data["quantity"]
        )
        return Response(CartSerializer(cart).data)

    @extend_schema(tags=TAGS, summary="Remove a line", responses={200: CartSerializer})
    def delete(self, request: Request, item_id: int) -> Response:
        item = selectors.get_cart_item(user=request_user(request), item_id=item_id)
        return Response(
            CartSerializer(services.remove_item(user=request_user(request), item=item)).data
        )
