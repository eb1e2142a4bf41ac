from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ops.models import WorkerCheck


class HealthSerializer(serializers.Serializer):
    status = serializers.CharField()


class ReadinessSerializer(serializers.Serializer):
    status = serializers.CharField()
    checks = serializers.DictField(
        child=serializers.ChoiceField(choices=["ok", "unavailable", "degraded"]),
        help_text="database, cache, broker: ok or unavailable (then 503); search: ok, or "
        "degraded while Elasticsearch is down and the database answers searches (still 200)",
    )


class WorkerCheckSerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField()

    class Meta:
        model = WorkerCheck
        fields = ["id", "status", "created_at", "completed_at", "worker"]

    @extend_schema_field(serializers.ChoiceField(choices=["queued", "completed"]))
    def get_status(self, check: WorkerCheck) -> str:
        return "completed" if check.is_completed else "queued"
