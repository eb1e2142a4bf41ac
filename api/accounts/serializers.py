from typing import Any

from drf_spectacular.utils import extend_schema_field
from phonenumber_field.serializerfields import PhoneNumberField
from rest_framework import serializers

from accounts.models import ActivityLog, User


class UserStoreSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.SlugField()


class UserSerializer(serializers.ModelSerializer):
    """The ``user`` object of the API: what a signed-in person may see about themselves."""

    phone_number = PhoneNumberField(read_only=True, help_text="E.164, e.g. +249912345678")
    whatsapp_number = PhoneNumberField(read_only=True, help_text="E.164")
    avatar = serializers.ImageField(read_only=True)
    stores = serializers.SerializerMethodField(
        help_text="The stores this account owns (business owners), active or not."
    )

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "first_name",
            "last_name",
            "account_type",
            "language",
            "phone_number",
            "whatsapp_number",
            "avatar",
            "is_email_verified",
            "date_joined",
            "stores",
        ]
        read_only_fields = fields

    @extend_schema_field(UserStoreSerializer(many=True))
    def get_stores(self, user: User) -> list[dict[str, Any]]:
        # Through the relation the stores app declares (Store.owner, related_name="stores"):
        # accounts sits below stores and imports nothing of it.
        stores = user.stores.filter(deleted_at__isnull=True).order_by("name", "id")
        return [dict(row) for row in stores.values("id", "name", "slug")]


class ProfileUpdateSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    language = serializers.ChoiceField(
        choices=["ar", "en"], required=False, help_text="Of your emails and notifications."
    )
    phone_number = PhoneNumberField(required=False, allow_blank=True)
    whatsapp_number = PhoneNumberField(required=False, allow_blank=True)
    avatar = serializers.FileField(
        required=False, allow_null=True, help_text="JPEG, PNG, WebP or GIF; at most 2 MB."
    )

    def validate(self, attrs: dict) -> dict:
        if not attrs:
            raise serializers.ValidationError("Send at least one field to change.")
        return attrs


class AccountDeleteSerializer(serializers.Serializer):
    code = serializers.RegexField(
        r"^\d{6}$", help_text="From POST /api/auth/otp/ (delete_account)."
    )


class EmailChangeSerializer(serializers.Serializer):
    new_email = serializers.EmailField(max_length=254)


class EmailChangeConfirmSerializer(serializers.Serializer):
    code = serializers.RegexField(r"^\d{6}$")


@extend_schema_field(
    {
        "type": "object",
        "description": "What else is known about the action; empty for most.",
        "properties": {
            "purpose": {"type": "string", "description": "code_sent: what the code is for"},
            "fields": {
                "type": "array",
                "items": {"type": "string"},
                "description": "profile_updated: the fields that changed",
            },
            "provider": {"type": "string", "description": "google_linked, registered: `google`"},
        },
    }
)
class ActivityDetailsField(serializers.JSONField):
    pass


class ActivitySerializer(serializers.ModelSerializer):
    details = ActivityDetailsField(read_only=True)

    class Meta:
        model = ActivityLog
        fields = ["id", "action", "ip_address", "user_agent", "details", "created_at"]
