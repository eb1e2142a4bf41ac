from phonenumber_field.serializerfields import PhoneNumberField
from rest_framework import serializers

from accounts.models import OneTimeCode, User
from accounts.serializers import UserSerializer
from stores.serializers import StoreInputSerializer

# Hashing is slow on purpose: a megabyte "password" must not reach the hasher.
PASSWORD_MAX_LENGTH = 128
TOKEN_MAX_LENGTH = 4096


class RegisterSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(
        write_only=True, max_length=PASSWORD_MAX_LENGTH, style={"input_type": "password"}
    )
    first_name = serializers.CharField(max_length=150)
    last_name = serializers.CharField(max_length=150)
    account_type = serializers.ChoiceField(choices=User.AccountType.choices)
    phone_number = PhoneNumberField(required=False, allow_blank=True, default="")
    whatsapp_number = PhoneNumberField(required=False, allow_blank=True, default="")
    store = StoreInputSerializer(
        required=False, help_text="A business owner may open their first store at sign-up."
    )

    def validate(self, attrs: dict) -> dict:
        if attrs.get("store") and attrs["account_type"] != User.AccountType.BUSINESS_OWNER:
            raise serializers.ValidationError({"store": ["Only business owners open stores."]})
        return attrs


class RegisteredSerializer(serializers.Serializer):
    user = UserSerializer()


class VerifyEmailSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    code = serializers.RegexField(r"^\d{6}$", help_text="The 6-digit code from the email.")


class EmailSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class LoginSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(
        write_only=True, max_length=PASSWORD_MAX_LENGTH, style={"input_type": "password"}
    )


class TokensSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField(max_length=TOKEN_MAX_LENGTH)


class SessionSerializer(TokensSerializer):
    user = UserSerializer()


class GoogleSessionSerializer(SessionSerializer):
    is_new_user = serializers.BooleanField()


class RefreshSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=TOKEN_MAX_LENGTH)


class GoogleSignInSerializer(serializers.Serializer):
    id_token = serializers.CharField(max_length=TOKEN_MAX_LENGTH)
    account_type = serializers.ChoiceField(
        choices=User.AccountType.choices,
        required=False,
        help_text="For a new account only; defaults to buyer.",
    )


class PasswordResetConfirmSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    code = serializers.RegexField(r"^\d{6}$", help_text="The 6-digit code from the email.")
    new_password = serializers.CharField(
        write_only=True, max_length=PASSWORD_MAX_LENGTH, style={"input_type": "password"}
    )


class PasswordChangeSerializer(serializers.Serializer):
    current_password = serializers.CharField(
        write_only=True, max_length=PASSWORD_MAX_LENGTH, style={"input_type": "password"}
    )
    new_password = serializers.CharField(
        write_only=True, max_length=PASSWORD_MAX_LENGTH, style={"input_type": "password"}
    )


class OtpRequestSerializer(serializers.Serializer):
    purpose = serializers.ChoiceField(choices=[OneTimeCode.Purpose.DELETE_ACCOUNT])


class AcceptedSerializer(serializers.Serializer):
    detail = serializers.CharField()
