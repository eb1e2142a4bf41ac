from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.openapi import error_responses
from core.throttles import IpScopedRateThrottle
from search import selectors, services
from search.serializers import (
    ClickSerializer,
    SearchAnalyticsQuerySerializer,
    SearchAnalyticsSerializer,
    SuggestionSerializer,
    SuggestionsSerializer,
    SuggestQuerySerializer,
)

TAGS = ["search"]


class SuggestApi(APIView):
    """What a shopper may be typing: popular queries, categories, stores and product names."""

    permission_classes = [permissions.AllowAny]
    # Asked at each keystroke: its own per-IP rate instead of the general anonymous one.
    throttle_classes = [IpScopedRateThrottle]
    throttle_scope = "suggest"

    @extend_schema(
        tags=TAGS,
        summary="Suggestions for what is being typed",
        parameters=[
            OpenApiParameter("q", str, required=True, description="What has been typed so far"),
            OpenApiParameter("size", int, description="1 to 15, default 10"),
        ],
        responses={200: SuggestionsSerializer},
    )
    def get(self, request: Request) -> Response:
        query = SuggestQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        found = services.suggest(text=query.validated_data["q"], size=query.validated_data["size"])
        return Response(
            {"suggestions": SuggestionSerializer([s.__dict__ for s in found], many=True).data}
        )


class ClickApi(APIView):
    """A shopper opened a search result: the click-through that analytics report."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(
        tags=TAGS,
        summary="Record a click on a search result",
        request=ClickSerializer,
        responses={204: None},
    )
    def post(self, request: Request) -> Response:
        data = ClickSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.record_click(**data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AnalyticsApi(APIView):
    permission_classes = [permissions.IsAdminUser]

    @extend_schema(
        tags=TAGS,
        summary="Search analytics (staff)",
        parameters=[
            OpenApiParameter("from", str, description="YYYY-MM-DD, default 30 days ago"),
            OpenApiParameter("to", str, description="YYYY-MM-DD inclusive, default today"),
        ],
        responses={200: SearchAnalyticsSerializer, **error_responses((403, "permission_denied"))},
    )
    def get(self, request: Request) -> Response:
        query = SearchAnalyticsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        report = selectors.search_analytics(
            start=query.validated_data.get("from"), end=query.validated_data.get("to")
        )
        return Response(SearchAnalyticsSerializer(report).data)
