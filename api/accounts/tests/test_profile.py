import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from accounts.models import ActivityLog
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def image_file(
    fmt: str = "PNG", size=(64, 48), mode="RGB", name="me.png", exif=None
) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    image = Image.new(mode, size, color=0 if mode == "1" else (200, 30, 30))
    kwargs = {"exif": exif} if exif is not None else {}
    image.save(buffer, format=fmt, **kwargs)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{fmt.lower()}")


def test_me_shows_your_profile_within_budget(
    auth_client: APIClient, user, django_assert_max_num_queries
):
    with django_assert_max_num_queries(2):  # the user behind the token; nothing else
        response = auth_client.get("/api/accounts/me/")

    assert response.status_code == 200
    assert response.json()["email"] == user.email
    assert "password" not in response.json()


def test_patch_updates_names_and_numbers_in_e164(auth_client: APIClient, user):
    response = auth_client.patch(
        "/api/accounts/me/",
        {"first_name": "Hiba", "phone_number": "0912345678", "whatsapp_number": "+249 91 111 2222"},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["first_name"], body["phone_number"], body["whatsapp_number"]) == (
        "Hiba",
        "+249912345678",
        "+249911112222",
    )
    assert ActivityLog.objects.get(user=user, action="profile_updated").details == {
        "fields": ["first_name", "phone_number", "whatsapp_number"]
    }


def test_an_invalid_phone_number_is_400_and_changes_nothing(auth_client: APIClient, user):
    response = auth_client.patch(
        "/api/accounts/me/", {"first_name": "X", "phone_number": "12"}, format="json"
    )

    assert response.status_code == 400
    assert "phone_number" in response.json()["details"]
    user.refresh_from_db()
    assert user.first_name != "X"


def test_fields_a_client_must_not_set_are_ignored(auth_client: APIClient, user):
    auth_client.patch(
        "/api/accounts/me/",
        {"email": "new@example.com", "is_staff": True, "account_type": "business_owner"},
        format="json",
    )

    user.refresh_from_db()
    assert (user.email, user.is_staff, user.account_type) == (user.email, False, "buyer")


def test_avatar_is_re_encoded_small_and_without_exif(auth_client: APIClient, user):
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    upload = image_file(fmt="JPEG", size=(2000, 1000), name="me.jpg", exif=exif.tobytes())

    response = auth_client.patch("/api/accounts/me/", {"avatar": upload}, format="multipart")

    assert response.status_code == 200, response.content
    assert response.json()["avatar"].endswith(".webp")
    user.refresh_from_db()
    with Image.open(user.avatar.path) as stored:
        assert stored.format == "WEBP"
        assert max(stored.size) == 512
        assert not stored.getexif()


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        pytest.param(
            SimpleUploadedFile("me.png", b"%PDF-1.4 not an image", content_type="image/png"),
            "Upload a valid image.",
            id="not-an-image",
        ),
        pytest.param(
            SimpleUploadedFile("big.png", b"\x89PNG" + b"0" * (2 * 1024 * 1024 + 1)),
            "The image must be at most 2 MB.",
            id="oversized",
        ),
        pytest.param(
            image_file(size=(20000, 20000), mode="1", name="bomb.png"),
            "The image has too many pixels.",
            id="decompression-bomb",
        ),
        pytest.param(
            image_file(size=(5000, 5000), mode="1", name="huge.png"),
            "The image has too many pixels.",
            id="over-our-pixel-cap",
        ),
        pytest.param(
            image_file(fmt="BMP", name="me.bmp"),
            "Use a JPEG, PNG, WebP or GIF image.",
            id="unsupported-format",
        ),
    ],
)
def test_bad_avatars_are_400(auth_client: APIClient, user, upload, message):
    response = auth_client.patch("/api/accounts/me/", {"avatar": upload}, format="multipart")

    assert response.status_code == 400
    assert response.json()["details"] == {"avatar": [message]}
    user.refresh_from_db()
    assert not user.avatar


def test_activity_is_yours_only_newest_first_within_budget(
    auth_client: APIClient, user, django_assert_max_num_queries
):
    other = UserFactory()
    ActivityLog.objects.create(user=other, action="login")
    for action in ("login", "logout", "login"):
        ActivityLog.objects.create(user=user, action=action, ip_address="10.0.0.1")

    with django_assert_max_num_queries(3):  # user, count, page
        response = auth_client.get("/api/accounts/me/activity/?page_size=2")

    body = response.json()
    assert body["count"] == 3
    assert [a["action"] for a in body["results"]] == ["login", "logout"]
    assert body["results"][0]["ip_address"] == "10.0.0.1"


def test_me_needs_authentication(api_client: APIClient):
    assert api_client.get("/api/accounts/me/").status_code == 401
    assert api_client.get("/api/accounts/me/activity/").status_code == 401


def test_a_patch_with_nothing_to_change_is_400(auth_client: APIClient):
    response = auth_client.patch("/api/accounts/me/", {"unknown": "x"}, format="json")

    assert response.status_code == 400
    assert response.json()["details"] == {
        "non_field_errors": ["Send at least one field to change."]
    }
