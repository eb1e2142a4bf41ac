import json
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.apis import optional_user, paginate, paginate_fetched, request_user
from core.http_cache import cache_anonymous_get
from core.openapi import error_responses, paginated
from products import selectors
from products.models import Category, Product, ProductImage, ProductVersion, Tag
from products.serializers import (
    CategorySerializer,
    ImageSerializer,
    ImageUploadSerializer,
    ProductCreateSerializer,
    ProductListQuerySerializer,
    ProductSearchQuerySerializer,
    ProductSerializer,
    ProductUpdateSerializer,
    ProductVersionSerializer,
    SearchPageSerializer,
    TagSerializer,
)
from products.services import catalog
from stores import selectors as store_selectors

TAGS = ["products"]
FILTER_PARAMETERS = [
    OpenApiParameter("category", str, description="Category slug; includes its subcategories"),
    OpenApiParameter("tag", str, description="Tag slug"),
    OpenApiParameter("store", int),
    OpenApiParameter("min_price", str, description="On `current_price`"),
    OpenApiParameter("max_price", str, description="On `current_price`"),
    OpenApiParameter("in_stock", bool),
    OpenApiParameter("has_offer", bool, description="An offer is running now"),
    OpenApiParameter("size", str, description="Has a size with this name"),
    OpenApiParameter("page", int),
    OpenApiParameter("page_size", int),
]
LIST_PARAMETERS = [
    OpenApiParameter(
        "search",
        str,
        description="Words to find, as `GET /api/search/products/` finds them (typo-tolerant, "
        "Arabic-normalised); ordered by relevance unless `ordering` is given",
    ),
    *FILTER_PARAMETERS,
    OpenApiParameter("ordering", str, enum=list(selectors.ORDERINGS)),
]


_NOT_FAVORITE = b'"is_favorite":false'


def _favorites(request: Request, body: bytes) -> bytes:
    """A shared catalogue answer (a page, or one product) made the caller's: their favourites
    among it marked, with one query. The answer isn't rendered again: each product carries one
    ``"is_favorite":false``, in the products' order (no string can hold it unescaped), and
    those of the caller's favourites are flipped."""
    data = json.loads(body)
    products = data.get("results", [data])
    mine = selectors.favorite_ids(
        user=request_user(request), product_ids=[p["id"] for p in products]
    )
    parts = body.split(_NOT_FAVORITE)
    if not mine or len(parts) != len(products) + 1:
        return body
    flags = [b'"is_favorite":true' if p["id"] in mine else _NOT_FAVORITE for p in products]
    return parts[0] + b"".join(flag + part for flag, part in zip(flags, parts[1:], strict=True))


def list_response(
    request: Request, view: APIView, filters: dict, store_id: int | None = None
) -> Response:
    """A page of the catalogue; with ``search``, from the search engine (no facets)."""
    user = optional_user(request)
    if filters.get("search", "").strip():

        def fetch(offset: int, limit: int) -> tuple[list, int]:
            found = selectors.search_products(
                user=user,
                text=filters["search"],
                filters=filters,
                offset=offset,
                limit=limit,
                store_id=store_id,
                facets=False,
                log=limit > 0,  # ?page=last asks for the count first: one search, one log
                absolute=request.build_absolute_uri,
            )
            return found.products, found.count

        return paginate_fetched(request, view, fetch, None)

    def page(offset: int, limit: int) -> tuple[list, int]:
        return selectors.catalogue_page(
            user=user,
            filters=filters,
            offset=offset,
            limit=limit,
            store_id=store_id,
            absolute=request.build_absolute_uri,
        )

    return paginate_fetched(request, view, page, None)


class ProductListCreateApi(APIView):
    permission_classes = [permissions.IsAuthenticatedOrReadOnly]

    @extend_schema(
        tags=TAGS,
        summary="Products on sale",
        operation_id="products_list",
        parameters=LIST_PARAMETERS,
        responses={200: paginated(ProductSerializer)},
    )
    @cache_anonymous_get(unless=("search",), personalize=_favorites)
    def get(self, request: Request) -> Response:
        return list_response(request, self, ProductListQuerySerializer.read(request.query_params))

    @extend_schema(
        tags=TAGS,
        summary="List a product in your store",
        request=ProductCreateSerializer,
        responses={201: ProductSerializer},
    )
    def post(self, request: Request) -> Response:
        data = ProductCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = request_user(request)
        store = store_selectors.find_public_store(store_id=data.validated_data["store_id"])
        if store is None:
            raise ValidationError({"store_id": ["No such store."]})
        product = catalog.create_product(user=user, store=store, data=data.validated_data)
        product = selectors.get_product(product_id=product.pk, user=user)
        body = ProductSerializer(product, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)


class ProductDetailApi(APIView):
    permission_classes = [permissions.IsAuthenticatedOrReadOnly]

    @extend_schema(tags=TAGS, summary="A product", responses={200: ProductSerializer})
    @cache_anonymous_get(personalize=_favorites)
    def get(self, request: Request, product_id: int) -> Response:
        product = selectors.product_page(
            product_id=product_id, user=optional_user(request), absolute=request.build_absolute_uri
        )
        return Response(product)

    def _update(self, request: Request, product_id: int, *, partial: bool) -> Response:
        user = request_user(request)
        product = selectors.get_product_for_owner(product_id=product_id, user=user)
        data = ProductUpdateSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        catalog.update_product(product=product, user=user, data=data.validated_data)
        product = selectors.get_product(product_id=product_id, user=user)
        return Response(ProductSerializer(product, context={"request": request}).data)

    @extend_schema(
        tags=TAGS,
        summary="Replace your product's details",
        request=ProductUpdateSerializer,
        responses={200: ProductSerializer, **error_responses((409, "stock_below_reserved"))},
    )
    def put(self, request: Request, product_id: int) -> Response:
        return self._update(request, product_id, partial=False)

    @extend_schema(
        tags=TAGS,
        summary="Change some of your product's details",
        request=ProductUpdateSerializer(partial=True),
        responses={200: ProductSerializer, **error_responses((409, "stock_below_reserved"))},
    )
    def patch(self, request: Request, product_id: int) -> Response:
        return self._update(request, product_id, partial=True)

    @extend_schema(tags=TAGS, summary="Delete your product (soft)", responses={204: None})
    def delete(self, request: Request, product_id: int) -> Response:
        user = request_user(request)
        product = selectors.get_product_for_owner(product_id=product_id, user=user)
        catalog.delete_product(product=product, user=user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProductImageCreateApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        tags=TAGS,
        summary="Add an image to your product",
        request={"multipart/form-data": ImageUploadSerializer},
        responses={201: ImageSerializer},
    )
    def post(self, request: Request, product_id: int) -> Response:
        user = request_user(request)
        product = selectors.get_product_for_owner(product_id=product_id, user=user)
        data = ImageUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        image = catalog.add_product_image(
            product=product, user=user, upload=data.validated_data["image"]
        )
        body = ImageSerializer(image, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)


class ProductImageDeleteApi(APIView):
    @extend_schema(tags=TAGS, summary="Remove an image from your product", responses={204: None})
    def delete(self, request: Request, product_id: int, image_id: int) -> Response:
        user = request_user(request)
        product = selectors.get_product_for_owner(product_id=product_id, user=user)
        image = ProductImage.objects.filter(pk=image_id, product=product).first()
        if image is None:
            raise Http404
        image.product = product
        catalog.remove_product_image(image=image, user=user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=TAGS, summary="Every version of a product (its owner and staff)")
class ProductHistoryApi(ListAPIView):
    serializer_class = ProductVersionSerializer
    queryset = ProductVersion.objects.none()

    def get_queryset(self):  # type: ignore[no-untyped-def]
        user = request_user(self.request)
        return selectors.list_product_history(product_id=self.kwargs["product_id"], user=user)


class FavoriteApi(APIView):
    @extend_schema(
        tags=TAGS, summary="Add to your favourites", request=None, responses={201: None, 200: None}
    )
    def post(self, request: Request, product_id: int) -> Response:
        user = request_user(request)
        product = selectors.get_product(product_id=product_id, user=user)
        created = catalog.add_favorite(user=user, product=product)
        return Response(status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(tags=TAGS, summary="Remove from your favourites", responses={204: None})
    def delete(self, request: Request, product_id: int) -> Response:
        user = request_user(request)
        product = Product.objects.filter(pk=product_id).first()
        if product is not None:
            catalog.remove_favorite(user=user, product=product)
        return Response(status=status.HTTP_204_NO_CONTENT)


class FavoriteListApi(APIView):
    @extend_schema(
        tags=["accounts"],
        summary="Your favourite products",
        parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses={200: paginated(ProductSerializer)},
    )
    def get(self, request: Request) -> Response:
        favorites = selectors.list_favorites(user=request_user(request))
        return paginate(request, self, favorites, ProductSerializer)


class StoreProductListApi(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        tags=["stores"],
        summary="A store's catalogue",
        operation_id="stores_products_list",
        parameters=LIST_PARAMETERS,
        responses={200: paginated(ProductSerializer)},
    )
    @cache_anonymous_get(unless=("search",), personalize=_favorites)
    def get(self, request: Request, store_id: int) -> Response:
        store = store_selectors.get_public_store(store_id=store_id)
        filters = ProductListQuerySerializer.read(request.query_params)
        return list_response(request, self, filters, store_id=store.pk)


class ProductSearchApi(APIView):
    """The search page: products matching ``q`` with facet counts to narrow them."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(
        tags=["search"],
        summary="Search products",
        operation_id="search_products",
        parameters=[
            OpenApiParameter(
                "q",
                str,
                description="What the shopper typed (empty: browse, newest first). Typo-tolerant "
                "(one edit from 4 letters, two from 8) and Arabic-normalised.",
            ),
            *FILTER_PARAMETERS,
            OpenApiParameter(
                "ordering",
                str,
                enum=list(selectors.ORDERINGS),
                description="Default: relevance (name matches first, in stock first)",
            ),
        ],
        responses={200: SearchPageSerializer},
    )
    def get(self, request: Request) -> Response:
        query = ProductSearchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        user = optional_user(request)
        found: dict = {}

        def fetch(offset: int, limit: int) -> tuple[list, int]:
            page = selectors.search_products(
                user=user,
                text=filters.get("q", ""),
                filters=filters,
                offset=offset,
                limit=limit,
                facets=limit > 0,  # ?page=last asks for the count first: one search, one log
                log=limit > 0,
                absolute=request.build_absolute_uri,
            )
            found["page"] = page
            return page.products, page.count

        response = paginate_fetched(request, self, fetch, None)
        page = found["page"]
        response.data["facets"] = page.facets
        response.data["backend"] = page.backend
        response.data["query_id"] = str(page.query_id) if page.query_id else None
        return response


@extend_schema(tags=TAGS, summary="The category tree, flattened in tree order")
class CategoryListApi(ListAPIView):
    permission_classes = [permissions.AllowAny]
    serializer_class = CategorySerializer
    queryset = Category.objects.none()  # the schema's; a page is read as rows

    @cache_anonymous_get(shared=False)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        def page(offset: int, limit: int) -> tuple[list, int]:
            found, total = selectors.category_page(offset=offset, limit=limit)
            return [CategorySerializer.shown(*row) for row in found], total

        return paginate_fetched(request, self, page, None)


@extend_schema(tags=TAGS, summary="Tags")
class TagListApi(ListAPIView):
    permission_classes = [permissions.AllowAny]
    serializer_class = TagSerializer
    queryset = Tag.objects.none()  # the schema's; a page is read as rows

    @cache_anonymous_get(shared=False)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        def page(offset: int, limit: int) -> tuple[list, int]:
            found, total = selectors.tag_page(offset=offset, limit=limit)
            return [TagSerializer.shown(*row) for row in found], total

        return paginate_fetched(request, self, page, None)
