"""Uploaded images, validated by their content and re-encoded before they are stored."""

import io
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}


def process_image(
    upload: UploadedFile,
    *,
    field: str,
    max_side: int,
    max_bytes: int | None = None,
    formats: frozenset[str] | set[str] = ALLOWED_FORMATS,
) -> ContentFile:
    """A WebP re-encoding of ``upload``, at most ``max_side`` pixels a side, without metadata
    (EXIF, GPS). Raises ValidationError under ``field`` for files over ``max_bytes`` (default
    IMAGE_MAX_BYTES), anything
    that isn't a JPEG/PNG/WebP/GIF image, and images whose header announces more than
    IMAGE_MAX_PIXELS — checked before decoding, against decompression bombs."""

    def invalid(message: str) -> ValidationError:
        return ValidationError({field: [message]})

    limit = max_bytes or settings.IMAGE_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise invalid(f"The image must be at most {limit // (1024 * 1024)} MB.")
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            if image.format not in formats:
                named = (
                    "JPEG, PNG, WebP or GIF" if formats == ALLOWED_FORMATS else "JPEG, PNG or WebP"
                )
                raise invalid(f"Use a {named} image.")
            width, height = image.size
            if width * height > settings.IMAGE_MAX_PIXELS:
                raise invalid("The image has too many pixels.")
            image.load()
            # A phone's photo is stored sideways with an Orientation tag: turn it upright
            # before the tag goes with the rest of EXIF.
            converted = ImageOps.exif_transpose(image).convert("RGB")
    except ValidationError:
        raise
    except Image.DecompressionBombError as exc:  # Pillow's own, far larger, limit
        raise invalid("The image has too many pixels.") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise invalid("Upload a valid image.") from exc
    converted.thumbnail((max_side, max_side))
    buffer = io.BytesIO()
    converted.save(buffer, format="WEBP", quality=85)
    return ContentFile(buffer.getvalue(), name=f"{secrets.token_hex(8)}.webp")
