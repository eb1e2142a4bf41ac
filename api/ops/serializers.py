from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ops.models import WorkerCheck


class HealthSerializer(serializers.Serializer):
    status = serializers.CharField()


class ReadinessSerializer(serializers.Serializer):
    status = serializers.CharField()
    checks = serializers.DictField(child=serializers.ChoiceField(choices=["ok", "unavailable"]))


class WorkerCheckSerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField()

    class Meta:
        model = WorkerCheck
        fields = ["id", "status", "created_at", "completed_at", "worker"]

    @extend_schema_field(serializers.ChoiceField(choices=["queued", "completed"]))
    def get_status(self, check: WorkerCheck) -> str:
        return "completed" if check.is_completed else "queued"
