"""Staff's email templates: saved only when they compile, name only their kind's variables and
carry every image they show; one template per kind and language for the transactional kinds
(the one the dispatcher finds), any number for the marketing kind (a campaign names its own)."""

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.crypto import get_random_string

from notifications import kinds as registry
from notifications import services
from notifications.models import Asset, Template
from notifications.rendering import (
    RenderedEmail,
    TemplateProblem,
    check_template,
    preview_context,
    primitive,
    render_stored,
    with_images_inline,
)

FIELDS = ("name", "kind", "language", "subject", "html", "text")
ASSET_FIELDS = {"styles": Asset.Kind.STYLE, "images": Asset.Kind.IMAGE,
                "attachments": Asset.Kind.ATTACHMENT}  # fmt: skip


def _assets(data: Mapping[str, Any], current: Template | None) -> dict[str, list[Asset]]:
    chosen: dict[str, list[Asset]] = {}
    errors: dict[str, list[str]] = {}
    for field, kind in ASSET_FIELDS.items():
        if field in data:
            ids = list(dict.fromkeys(data[field]))
            found = {a.pk: a for a in Asset.objects.filter(pk__in=ids, kind=kind)}
            missing = [i for i in ids if i not in found]
            if missing:
                errors[field] = [f"No {kind} asset with id {', '.join(map(str, missing))}."]
            chosen[field] = [found[i] for i in ids if i in found]
        else:
            chosen[field] = list(getattr(current, field).all()) if current else []
    if errors:
        raise ValidationError(errors)
    return chosen


def save_template(*, data: Mapping[str, Any], template: Template | None = None) -> Template:
    """Create (``template`` None) or change a template; ValidationError {field: [messages]}."""
    values = {f: data[f] if f in data else getattr(template, f, "") for f in FIELDS}
    assets = _assets(data, template)
    try:
        check_template(
            kind=values["kind"],
            subject=values["subject"],
            html=values["html"],
            text=values["text"],
            image_names=[a.name for a in assets["images"]],
        )
    except TemplateProblem as problem:
        raise ValidationError(problem.errors) from None
    kind = registry.get(values["kind"])
    with transaction.atomic():
        if not kind.marketing:
            taken = Template.objects.select_for_update().filter(
                kind=kind.name, language=values["language"]
            )
            if template is not None:
                taken = taken.exclude(pk=template.pk)
            if taken.exists():
                raise ValidationError(
                    {
                        "language": [
                            f"{kind.name} already has a template in this language; change that one."
                        ]
                    }
                )
        same_name = Template.objects.filter(name=values["name"])
        if template is not None:
            same_name = same_name.exclude(pk=template.pk)
        if same_name.exists():
            raise ValidationError({"name": ["A template with this name exists."]})
        template = template or Template()
        for field, value in values.items():
            setattr(template, field, value)
        template.save()
        for field, chosen in assets.items():
            getattr(template, field).set(chosen)
    return template


def _context(template: Template, context: Mapping[str, Any] | None) -> dict[str, Any]:
    declared = registry.get(template.kind).variables
    given = primitive(dict(context or {}))
    unknown = sorted(set(given) - declared)
    if unknown:
        raise ValidationError(
            {"context": [f"Not declared by {template.kind}: {', '.join(unknown)}."]}
        )
    return {**preview_context(template.kind), **given}


def preview(template: Template, context: Mapping[str, Any] | None = None) -> RenderedEmail:
    """The template rendered as it would be sent (CSS inlined), with sample values for the
    variables the context doesn't give, its images inline (a browser can't show ``cid:``)."""
    rendered = render_stored(template, _context(template, context))
    return replace(rendered, html=with_images_inline(rendered.html, rendered.images))


def send_test(*, template: Template, address: str, context: Mapping[str, Any] | None) -> None:
    """Queue one email of ``template`` to ``address`` (staff checking what a kind looks like)."""
    services.notify(
        template.kind,
        key=f"test:{template.pk}:{get_random_string(16)}",
        context={
            k: v
            for k, v in _context(template, context).items()
            if k in registry.get(template.kind).variables
        },
        address=address,
        language=template.language,
        in_app=False,
        template_id=template.pk,
    )


def delete_template(template: Template) -> None:
    template.delete()
