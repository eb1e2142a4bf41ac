"""Files staff upload for email templates, checked by their bytes (never the declared type):
stylesheets (UTF-8 CSS, at most 1 MB), images (JPEG or PNG, at most 5 MB) and attachments
(JPEG, PNG, PDF, DOCX or XLSX, at most 10 MB)."""

import io
import re
import zipfile
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile

from notifications.models import Asset

MB = 1024 * 1024
LIMITS: dict[str, int] = {
    Asset.Kind.STYLE: 1 * MB,
    Asset.Kind.IMAGE: 5 * MB,
    Asset.Kind.ATTACHMENT: 10 * MB,
}
ALLOWED: dict[str, set[str]] = {
    Asset.Kind.STYLE: {"text/css"},
    Asset.Kind.IMAGE: {"image/jpeg", "image/png"},
    Asset.Kind.ATTACHMENT: {
        "image/jpeg",
        "image/png",
        "application/pdf",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    },
}
EXTENSIONS = {
    "text/css": "css",
    "image/jpeg": "jpg",
    "image/png": "png",
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
}
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Checked:
    content: bytes
    content_type: str
    name: str


def _sniff(kind: str, data: bytes) -> str | None:
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except zipfile.BadZipFile:
            return None
        if any(n.startswith("word/") for n in names):
            return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        if any(n.startswith("xl/") for n in names):
            return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return None
    if kind == Asset.Kind.STYLE:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return "text/css" if "\x00" not in text else None
    return None


def safe_name(name: str, content_type: str) -> str:
    stem = _SAFE_NAME.sub("-", (name or "file").rsplit("/", 1)[-1]).strip("-.") or "file"
    stem = stem.rsplit(".", 1)[0][:80] or "file"
    return f"{stem}.{EXTENSIONS[content_type]}"


def check(kind: str, upload: UploadedFile) -> Checked:
    """Raises ValidationError under ``file``."""
    limit = LIMITS[kind]
    if upload.size is not None and upload.size > limit:
        raise ValidationError({"file": [f"A {kind} may be at most {limit // MB} MB."]})
    upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise ValidationError({"file": [f"A {kind} may be at most {limit // MB} MB."]})
    content_type = _sniff(kind, data)
    if content_type not in ALLOWED[kind]:
        allowed = ", ".join(sorted(EXTENSIONS[t].upper() for t in ALLOWED[kind]))
        raise ValidationError({"file": [f"A {kind} must be one of: {allowed}."]})
    return Checked(data, content_type, safe_name(upload.name or "", content_type))


def create_asset(*, kind: str, upload: UploadedFile) -> Asset:
    checked = check(kind, upload)
    return Asset.objects.create(
        kind=kind,
        name=checked.name,
        file=ContentFile(checked.content, name=checked.name),
        content_type=checked.content_type,
        size=len(checked.content),
    )
