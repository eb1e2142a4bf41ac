"""Files sent in chat: JPEG, PNG, WebP or PDF, told by their bytes (never the name or the
declared type), at most CHAT_ATTACHMENT_MAX_BYTES. Images are re-encoded (WebP, no EXIF or GPS);
PDFs are kept as they are and always served as downloads. Files are read only through short-
lived signed URLs, which only participants are given."""

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.urls import reverse

from core.images import process_image

IMAGE_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
SIGNING_SALT = "chat.attachment"
MAX_SIDE = 2048


@dataclass
class Prepared:
    content: ContentFile
    name: str
    content_type: str


def _kind(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "image"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image"
    if head.startswith(b"%PDF-"):
        return "pdf"
    return None


def prepare(upload: UploadedFile) -> Prepared:
    """Raises ValidationError under ``attachments``."""
    limit = settings.CHAT_ATTACHMENT_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise ValidationError(
            {"attachments": [f"{upload.name}: at most {limit // (1024 * 1024)} MB a file."]}
        )
    upload.seek(0)
    kind = _kind(upload.read(16))
    upload.seek(0)
    name = (upload.name or "file")[-200:]
    if kind is None:
        raise ValidationError(
            {"attachments": [f"{name}: send a JPEG, PNG or WebP image, or a PDF."]}
        )
    if kind == "pdf":
        return Prepared(ContentFile(upload.read(), name="file.pdf"), name, "application/pdf")
    image = process_image(
        upload, field="attachments", max_side=MAX_SIDE, max_bytes=limit, formats=IMAGE_FORMATS
    )
    stem = name.rsplit(".", 1)[0] or "image"
    return Prepared(image, f"{stem}.webp", "image/webp")


def signed_url(attachment_id: int) -> str:
    token = signing.dumps(attachment_id, salt=SIGNING_SALT, compress=False)
    return reverse("chat-attachment", kwargs={"token": token})


def attachment_id_from(token: str) -> int | None:
    """The attachment a URL token stands for, or None if it is forged or expired."""
    try:
        value = signing.loads(
            token, salt=SIGNING_SALT, max_age=settings.CHAT_ATTACHMENT_URL_SECONDS
        )
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) else None
