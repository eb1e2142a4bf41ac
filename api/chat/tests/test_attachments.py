"""Files in chat: told by their bytes, images re-encoded without EXIF/GPS, served only through
short-lived signed URLs."""

import io
from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from chat.models import Attachment, Message
from chat.tests.factories import conversation
from stores.tests.factories import StoreFactory

pytestmark = pytest.mark.django_db

GPS_IFD = 0x8825


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 120, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[GPS_IFD] = {1: "N", 2: (15.0, 35.0, 0.0), 3: "E", 4: (32.0, 32.0, 0.0)}  # Khartoum
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


@pytest.fixture
def talk():
    return conversation(UserFactory(), StoreFactory())


@pytest.fixture
def client(talk, make_auth_client) -> APIClient:
    return make_auth_client(talk.buyer)


def post(client: APIClient, talk, *files, body: str = "") -> object:
    return client.post(
        f"/api/chat/conversations/{talk.pk}/messages/",
        {"body": body, "attachments": list(files)},
        format="multipart",
    )


def test_a_photo_comes_back_re_encoded_without_its_gps(client, talk):
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get(GPS_IFD) is not None

    answer = post(client, talk, SimpleUploadedFile("IMG_2041.jpg", original, "image/jpeg"))
    attachment = answer.json()["attachments"][0]
    served = APIClient().get(attachment["url"])  # the URL alone, no token
    data = b"".join(served.streaming_content)

    assert answer.status_code == 201
    assert attachment["content_type"] == "image/webp"
    assert attachment["name"] == "IMG_2041.webp"
    assert served.status_code == 200
    assert served["Content-Type"] == "image/webp"
    image = Image.open(io.BytesIO(data))
    assert image.format == "WEBP"
    assert image.size == (64, 48)
    assert not image.getexif()
    assert b"PhoneMaker" not in data


def test_html_named_png_is_refused(client, talk):
    fake = SimpleUploadedFile("cat.png", b"<html><script>alert(1)</script></html>", "image/png")

    answer = post(client, talk, fake, body="look")

    assert answer.status_code == 400
    assert "attachments" in answer.json()["details"]
    assert Message.objects.count() == 0
    assert Attachment.objects.count() == 0


def test_a_pdf_is_kept_and_served_as_a_download(client, talk):
    pdf = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"

    answer = post(client, talk, SimpleUploadedFile("invoice.pdf", pdf, "application/pdf"))
    served = APIClient().get(answer.json()["attachments"][0]["url"])

    assert served.status_code == 200
    assert served["Content-Disposition"].startswith("attachment")
    assert b"".join(served.streaming_content) == pdf


def test_at_most_five_files_and_ten_megabytes(client, talk, settings):
    png = io.BytesIO()
    Image.new("RGB", (4, 4)).save(png, format="PNG")
    six = [SimpleUploadedFile(f"p{n}.png", png.getvalue(), "image/png") for n in range(6)]
    assert post(client, talk, *six).status_code == 400

    settings.CHAT_ATTACHMENT_MAX_BYTES = 100
    big = SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * 200, "application/pdf")
    answer = post(client, talk, big)
    assert answer.status_code == 400
    assert "MB" in str(answer.json()["details"])


def test_a_signed_url_expires_and_cannot_be_forged(client, talk):
    pdf = SimpleUploadedFile("a.pdf", b"%PDF-1.4 x", "application/pdf")
    url = post(client, talk, pdf).json()["attachments"][0]["url"]
    attachment = Attachment.objects.get()

    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        expired = APIClient().get(url)
    forged = APIClient().get(f"/api/chat/attachments/{attachment.pk}/")

    assert expired.status_code == 404
    assert forged.status_code == 404


def test_a_sideways_phone_photo_comes_out_upright(client, talk):
    image = Image.new("RGB", (200, 100), (10, 120, 200))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to view
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)

    answer = post(client, talk, SimpleUploadedFile("IMG.jpg", out.getvalue(), "image/jpeg"))
    served = APIClient().get(answer.json()["attachments"][0]["url"])

    assert Image.open(io.BytesIO(b"".join(served.streaming_content))).size == (100, 200)
