from rest_framework import serializers

from core.serializers import QuerySerializer


class EventSerializer(serializers.Serializer):
    type = serializers.CharField(
        help_text="e.g. `cart.updated`, `payment.succeeded`, `chat.message`"
    )
    seq = serializers.IntegerField(min_value=1, help_text="Per user, strictly increasing.")
    data = serializers.DictField(  # type: ignore[assignment]
        help_text="The event's payload; its shape depends on `type`."
    )


class EventListQuerySerializer(QuerySerializer):
    after_seq = serializers.IntegerField(
        min_value=0, default=0, help_text="The last seq the client has; 0 for everything kept."
    )


class EventListSerializer(serializers.Serializer):
    results = EventSerializer(many=True, help_text="At most 100, oldest first.")
    last_seq = serializers.IntegerField(help_text="The user's newest seq.")
    has_more = serializers.BooleanField(help_text="More events wait after the last one returned.")
    resync_required = serializers.BooleanField(
        help_text="`after_seq` is older than what is kept (24 h / 1000 events) or unknown: "
        "reload state over REST, then poll from `last_seq`."
    )
