from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, status
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.apis import paginate_fetched, request_user
from core.http_cache import cache_anonymous_get
from core.openapi import error_responses, paginated
from stores import selectors, services
from stores.serializers import (
    StoreInputSerializer,
    StoreListQuerySerializer,
    StoreSerializer,
    shown_stores,
)

TAGS = ["stores"]


class StoreListCreateApi(APIView):
    permission_classes = [permissions.IsAuthenticatedOrReadOnly]

    @extend_schema(
        tags=TAGS,
        summary="Active stores; with ?near= ordered by distance",
        operation_id="stores_list",
        parameters=[
            OpenApiParameter(
                "mine", bool, description="`true`: your own stores, active or not (signed in)"
            ),
            OpenApiParameter("near", str, description="`<lat>,<lng>`, e.g. `15.5007,32.5599`"),
            OpenApiParameter("radius_km", float, description="Only stores within this distance"),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses={
            200: paginated(StoreSerializer),
            **error_responses((401, "not_authenticated")),  # ?mine=true, signed out
        },
    )
    @cache_anonymous_get(unless=("mine",), shared=False)
    def get(self, request: Request) -> Response:
        query = StoreListQuerySerializer.read(request.query_params)
        owner = None
        if query.get("mine"):
            if not request.user.is_authenticated:
                raise NotAuthenticated("Sign in to list your own stores.")
            owner = request_user(request)
        near, radius_km = query.get("near"), query.get("radius_km")

        def page(offset: int, limit: int) -> tuple[list, int]:
            found, total = selectors.store_page(
                offset=offset, limit=limit, near=near, radius_km=radius_km, owner=owner
            )
            return shown_stores(found), total

        return paginate_fetched(request, self, page, None)

    @extend_schema(
        tags=TAGS,
        summary="Open a store (business owners)",
        request=StoreInputSerializer,
        responses={201: StoreSerializer},
    )
    def post(self, request: Request) -> Response:
        data = StoreInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        store = services.create_store(owner=request_user(request), data=data.validated_data)
        return Response(StoreSerializer(store).data, status=status.HTTP_201_CREATED)


class StoreDetailApi(APIView):
    permission_classes = [permissions.IsAuthenticatedOrReadOnly]

    @extend_schema(tags=TAGS, summary="A store", responses={200: StoreSerializer})
    @cache_anonymous_get(unless=("mine",))
    def get(self, request: Request, store_id: int) -> Response:
        return Response(StoreSerializer(selectors.get_public_store(store_id=store_id)).data)

    @extend_schema(
        tags=TAGS,
        summary="Change your store",
        request=StoreInputSerializer(partial=True),
        responses={200: StoreSerializer},
    )
    def patch(self, request: Request, store_id: int) -> Response:
        store = selectors.get_public_store(store_id=store_id)
        data = StoreInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        store = services.update_store(
            store=store, user=request_user(request), data=data.validated_data
        )
        return Response(StoreSerializer(store).data)

    @extend_schema(tags=TAGS, summary="Close your store", responses={204: None})
    def delete(self, request: Request, store_id: int) -> Response:
        store = selectors.get_public_store(store_id=store_id)
        services.delete_store(store=store, user=request_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
