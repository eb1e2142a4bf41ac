from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.apis import request_user
from notifications import events
from notifications.serializers import EventListQuerySerializer, EventListSerializer

PAGE = 100


class EventListApi(APIView):
    @extend_schema(
        tags=["events"],
        summary="Your events after a seq: the /ws/events/ stream, for clients that poll",
        parameters=[OpenApiParameter("after_seq", int, description="Default 0; at least 0.")],
        responses={200: EventListSerializer},
    )
    def get(self, request: Request) -> Response:
        query = EventListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        replay = events.events_after(
            request_user(request).pk, query.validated_data["after_seq"], limit=PAGE + 1
        )
        page = replay.events[:PAGE]
        return Response(
            {
                "results": [event.as_message() for event in page],
                "last_seq": replay.last_seq,
                "has_more": len(replay.events) > PAGE,
                "resync_required": replay.resync_required,
            }
        )
