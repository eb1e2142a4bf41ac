"""The seeded email templates: every kind in Arabic (written here, ``seeds/ar/``) and English
(the file templates the apps ship, wrapped in the same layout), with the Sudamall stylesheet and
logo as assets. ``manage.py seed_email_templates`` writes them (``make run`` does); staff then
edit them in the admin or through the API. Until seeded, the file templates are used."""

import io
import re
from pathlib import Path

from django.core.files.base import ContentFile
from django.db import transaction
from django.template import TemplateDoesNotExist
from django.template.loader import get_template

from notifications import kinds as registry
from notifications.models import Asset, Language, Template

HERE = Path(__file__).resolve().parent
STYLE_NAME = "sudamall.css"
LOGO_NAME = "logo.png"
FOOTER = {
    Language.ARABIC: "تصلك هذه الرسالة بسبب نشاط في حسابك على {{ site_name }}. "
    "إن لم يكن ذلك أنت، يمكنك تجاهلها.",
    Language.ENGLISH: "You receive this email because of an action on your {{ site_name }} "
    "account. If it wasn't you, you can ignore it.",
}
# The confirmation goes to an address that may have no account.
CONFIRM_FOOTER = {
    Language.ARABIC: "وصلتك هذه الرسالة لأن أحدهم طلب اشتراك هذا العنوان في نشرة {{ site_name }}.",
    Language.ENGLISH: "You receive this because someone asked to subscribe this address to the "
    "{{ site_name }} newsletter.",
}
MARKETING_FOOTER = {
    Language.ARABIC: "وصلتك هذه الرسالة لأنك مشترك في نشرة {{ site_name }}. "
    '<a href="{{ unsubscribe_url }}">إلغاء الاشتراك</a>',
    Language.ENGLISH: "You receive this because you subscribed to the {{ site_name }} "
    'newsletter. <a href="{{ unsubscribe_url }}">Unsubscribe</a>',
}
_WRAPPER_TAGS = re.compile(r"{%\s*(extends\s+[^%]*|block\s+\w+|endblock(\s+\w+)?)\s*%}")


def _logo() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (160, 40), "#0b7a5a")
    ImageDraw.Draw(image).text((12, 12), "Sudamall", fill="#ffffff")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _asset(kind: str, name: str, content: bytes, content_type: str) -> Asset:
    found = Asset.objects.filter(kind=kind, name=name).order_by("id").first()
    if found is not None:
        return found
    return Asset.objects.create(
        kind=kind, name=name, file=ContentFile(content, name=name),
        content_type=content_type, size=len(content),
    )  # fmt: skip


def _file_source(name: str) -> str | None:
    try:
        template = get_template(name)
    except TemplateDoesNotExist:
        return None
    return template.template.source  # type: ignore[attr-defined]


def _parts(kind: str, language: str) -> tuple[str, str, str] | None:
    """(subject, content HTML, text) for the kind in the language, or None if not written."""
    if language == Language.ARABIC:
        subject_file, html_file = HERE / "ar" / f"{kind}.subject.txt", HERE / "ar" / f"{kind}.html"
        if not subject_file.exists() or not html_file.exists():
            return None
        return subject_file.read_text().strip(), html_file.read_text(), ""
    subject = _file_source(f"emails/{kind}.subject.txt")
    html = _file_source(f"emails/{kind}.html")
    if subject is None or html is None:
        return None
    return subject.strip(), _WRAPPER_TAGS.sub("", html).strip(), _file_source(
        f"emails/{kind}.txt") or ""  # fmt: skip


def seed(*, replace: bool = False) -> list[str]:
    """Create the seeded templates that don't exist yet (``replace``: overwrite them too).
    Returns the names written."""
    layout = (HERE / "layout.html").read_text()
    written = []
    with transaction.atomic():
        style = _asset(Asset.Kind.STYLE, STYLE_NAME, (HERE / STYLE_NAME).read_bytes(), "text/css")
        logo = _asset(Asset.Kind.IMAGE, LOGO_NAME, _logo(), "image/png")
        for kind in registry.all_kinds():
            for language in (Language.ARABIC, Language.ENGLISH):
                name = f"{kind.name}.{language}"
                existing = Template.objects.filter(name=name).first()
                if existing is not None and not replace:
                    continue
                parts = _parts(kind.name, language)
                if parts is None:
                    continue
                subject, content, text = parts
                footers = CONFIRM_FOOTER if kind.name == "newsletter_confirm" else FOOTER
                footer = (MARKETING_FOOTER if kind.marketing else footers)[language]
                html = (
                    layout.replace("{{ LANG }}", language)
                    .replace("CONTENT", content)
                    .replace("FOOTER", footer)
                )
                template = existing or Template(name=name)
                template.kind, template.language = kind.name, language
                template.subject, template.html, template.text = subject, html, text
                template.save()
                template.styles.set([style])
                template.images.set([logo])
                written.append(name)
    return written
