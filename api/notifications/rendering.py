"""The one place that finds an email's template, checks it and renders it.

A kind's template is looked up in the database in the recipient's language, then in Arabic (the
default and fallback), then in the files the code ships (``emails/<kind>.subject.txt``, ``.txt``
and ``.html``, found by Django's loader). Database templates are compiled by a locked-down engine:
no loaders (nothing to ``{% include %}`` or ``{% extends %}``), no ``{% load %}``, and they may
name only their kind's declared variables — checked when staff save them — while the context
that reaches them holds primitives only, so nothing like ``{{ user.password }}`` can render.

The HTML is finished here: the template's stylesheets are inlined by css-inline (remote
stylesheets never fetched, ``@media`` rules kept in a ``<style>``), Arabic gets ``dir="rtl"``,
images stay ``cid:<name>`` references to the parts the message will carry, and a text part is
derived by html2text when the template has none.
"""

import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

import css_inline
import html2text
from django.template import Engine, TemplateSyntaxError
from django.template.base import FilterExpression, Node, Variable
from django.template.defaulttags import ForNode, WithNode
from django.template.loader import render_to_string
from django.utils.html import escape

from notifications import kinds as registry
from notifications.models import Asset, Language, Template

SITE_NAME = "Sudamall"

# Tags a stored template may not use: they reach files, other templates or the request.
FORBIDDEN_TAGS = frozenset(
    {"load", "include", "extends", "block", "debug", "csrf_token", "url", "static", "ssi"}
)
_TAG = re.compile(r"{%-?\s*(\w+)")
_CID = re.compile(r"""cid:([^"'\s)>]+)""")
_HTML_TAG = re.compile(r"<html\b([^>]*)>", re.IGNORECASE)

_engine = Engine(debug=False, loaders=[], autoescape=True, string_if_invalid="")
_text_engine = Engine(debug=False, loaders=[], autoescape=False, string_if_invalid="")


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str
    images: Sequence[Asset] = field(default_factory=tuple)
    attachments: Sequence[Asset] = field(default_factory=tuple)
    template_id: int | None = None


class TemplateProblem(ValueError):
    """A stored template that can't be used; ``errors`` maps a field to its messages."""

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = dict(errors)


# --- primitives only -------------------------------------------------------------------------


def primitive(value: Any, *, path: str = "context") -> Any:
    """``value`` as JSON-like primitives, or TypeError naming where something else was found:
    a model, a request or any object with attributes never reaches a template."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**53:
        raise TypeError(f"{path} is a number too large to keep exactly")
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): primitive(v, path=f"{path}.{k}") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [primitive(v, path=f"{path}[{i}]") for i, v in enumerate(value)]
    raise TypeError(f"{path} is a {type(value).__name__}: only primitives reach a template")


# --- validation --------------------------------------------------------------------------------


def _expressions(node: Node) -> Iterable[FilterExpression]:
    for value in vars(node).values():
        candidates = value if isinstance(value, list | tuple) else [value]
        for candidate in candidates:
            if isinstance(candidate, FilterExpression):
                yield candidate
            # {% if %} conditions hold their expressions in operator objects.
            for attr in ("value", "first", "second"):
                inner = getattr(candidate, attr, None)
                if isinstance(inner, FilterExpression):
                    yield inner
                elif inner is not None and hasattr(inner, "first"):
                    yield from _expressions_of_condition(inner)
        if hasattr(value, "first") and not isinstance(value, Node):
            yield from _expressions_of_condition(value)


def _expressions_of_condition(condition: Any) -> Iterable[FilterExpression]:
    for attr in ("value", "first", "second"):
        inner = getattr(condition, attr, None)
        if isinstance(inner, FilterExpression):
            yield inner
        elif inner is not None and (hasattr(inner, "first") or hasattr(inner, "value")):
            yield from _expressions_of_condition(inner)


def _names_used(nodes: Iterable[Node], bound: frozenset[str]) -> set[str]:
    """Root names of every variable the nodes read, less those bound by ``for``/``with``."""
    used: set[str] = set()
    for node in nodes:
        inner_bound = bound
        if isinstance(node, ForNode):
            used |= _roots([node.sequence], bound)
            inner_bound = bound | frozenset(node.loopvars) | {"forloop"}
        elif isinstance(node, WithNode):
            used |= _roots(node.extra_context.values(), bound)
            inner_bound = bound | frozenset(node.extra_context)
        else:
            used |= _roots(_expressions(node), bound)
        for attr in getattr(node, "child_nodelists", ()):
            children = getattr(node, attr, None)
            if children:
                used |= _names_used(children, inner_bound)
        if hasattr(node, "conditions_nodelists"):  # {% if %}: (condition, nodelist) pairs
            for condition, children in node.conditions_nodelists:
                if condition is not None:
                    used |= _roots(_expressions_of_condition(condition), bound)
                used |= _names_used(children, inner_bound)
    return used


def _roots(expressions: Iterable[Any], bound: frozenset[str]) -> set[str]:
    names = set()
    for expression in expressions:
        var = getattr(expression, "var", None)
        if isinstance(var, Variable) and var.lookups:
            root = var.lookups[0]
            if root not in bound:
                names.add(root)
        for _, args in getattr(expression, "filters", ()):
            for _lookup, arg in args:
                if isinstance(arg, Variable) and arg.lookups and arg.lookups[0] not in bound:
                    names.add(arg.lookups[0])
    return names


def check_template(
    *, kind: str, subject: str, html: str, text: str, image_names: Iterable[str] = ()
) -> None:
    """Raise TemplateProblem unless each part compiles, uses only the kind's variables (and
    the common ones) and no forbidden tag, and every ``cid:`` image is one of the template's."""
    try:
        declared = registry.allowed_variables(registry.get(kind))
    except registry.UnknownKind:
        raise TemplateProblem({"kind": [f"Unknown kind {kind!r}."]}) from None
    errors: dict[str, list[str]] = {}
    for name, source in (("subject", subject), ("html", html), ("text", text)):
        forbidden = sorted({t for t in _TAG.findall(source) if t in FORBIDDEN_TAGS})
        if forbidden:
            errors[name] = [f"Tags not allowed in a stored template: {', '.join(forbidden)}."]
            continue
        try:
            compiled = _engine.from_string(source)
        except TemplateSyntaxError as exc:
            errors[name] = [f"Does not compile: {exc}"]
            continue
        undeclared = _names_used(compiled.nodelist, frozenset()) - declared
        if undeclared:
            errors[name] = [
                f"Uses variables the kind {kind!r} does not declare: "
                f"{', '.join(sorted(undeclared))}. Declared: {', '.join(sorted(declared))}."
            ]
    missing = sorted(set(_CID.findall(html)) - set(image_names))
    if missing:
        errors.setdefault("images", []).append(
            f"The HTML shows cid: images the template does not carry: {', '.join(missing)}."
        )
    if errors:
        raise TemplateProblem(errors)


# --- finding and rendering --------------------------------------------------------------------


def find_template(kind: str, language: str) -> Template | None:
    """The kind's stored template in ``language``, else in Arabic, else None (use the files)."""
    languages = [language] if language == Language.ARABIC else [language, Language.ARABIC]
    candidates = list(
        Template.objects.filter(kind=kind, language__in=languages)
        .prefetch_related("styles", "images", "attachments")
        .order_by("-updated_at", "-id")
    )
    for wanted in languages:
        for template in candidates:
            if template.language == wanted:
                return template
    return None


@lru_cache(maxsize=256)
def _compiled(source: str, autoescape: bool) -> Any:
    return (_engine if autoescape else _text_engine).from_string(source)


@lru_cache(maxsize=64)
def _inliner(css: str) -> css_inline.CSSInliner:
    return css_inline.CSSInliner(
        load_remote_stylesheets=False, keep_at_rules=True, extra_css=css or None
    )


@dataclass(frozen=True)
class _Parts:
    css: str
    images: tuple[Asset, ...]
    attachments: tuple[Asset, ...]


_parts: dict[tuple[int, Any], tuple[float, _Parts]] = {}
PARTS_SECONDS = 60.0  # assets never change once uploaded; a template's save changes its key


def _template_parts(template: Template) -> _Parts:
    """A stored template's stylesheet text, images and attachments — read once per template
    version a minute, not once per email (a campaign renders one template thousands of times)."""
    key = (template.pk, template.updated_at)
    now = time.monotonic()
    cached = _parts.get(key)
    if cached is not None and now - cached[0] < PARTS_SECONDS:
        return cached[1]
    css = []
    for style in template.styles.all():
        with style.file.open("rb") as handle:
            css.append(handle.read().decode("utf-8", errors="replace"))
    parts = _Parts("\n".join(css), tuple(template.images.all()),
                   tuple(template.attachments.all()))  # fmt: skip
    if len(_parts) > 256:
        _parts.clear()
    _parts[key] = (now, parts)
    return parts


def right_to_left(html: str) -> str:
    """Mark an Arabic document right-to-left (unless its ``<html>`` already says a direction)."""
    match = _HTML_TAG.search(html)
    if match is None:
        return f'<div dir="rtl" lang="ar">{html}</div>'
    if "dir=" in match.group(1).lower():
        return html
    return (
        html[: match.start()] + f'<html dir="rtl" lang="ar"{match.group(1)}>' + html[match.end() :]
    )


def text_from_html(html: str) -> str:
    converter = html2text.HTML2Text(bodywidth=0)
    converter.ignore_images = True
    converter.ignore_emphasis = True
    converter.ignore_tables = True
    return converter.handle(html).strip() + "\n"


def full_context(context: Mapping[str, Any], *, recipient_name: str = "") -> dict[str, Any]:
    return {
        "site_name": SITE_NAME,
        "recipient_name": recipient_name,
        "unsubscribe_url": "",
        **primitive(context),
    }


def render_subject(template: Template, context: Mapping[str, Any]) -> str:
    """Only the subject line (the admin's list shows it with sample values)."""
    values = full_context(context)
    return " ".join(_compiled(template.subject, True).render(_context(values)).split())


def render_stored(template: Template, context: Mapping[str, Any]) -> RenderedEmail:
    values = full_context(context)
    parts = _template_parts(template)
    subject = " ".join(_compiled(template.subject, True).render(_context(values)).split())
    html = _compiled(template.html, True).render(_context(values))
    if template.language == Language.ARABIC:
        html = right_to_left(html)
    html = _inliner(parts.css).inline(html)
    text = (
        _compiled(template.text, False).render(_context(values))
        if template.text.strip()
        else text_from_html(html)
    )
    return RenderedEmail(
        subject=subject,
        text=text,
        html=html,
        images=parts.images,
        attachments=parts.attachments,
        template_id=template.pk,
    )


def _context(values: Mapping[str, Any]) -> Any:
    from django.template import Context

    return Context(dict(values), autoescape=True)


def render_files(kind: str, context: Mapping[str, Any]) -> RenderedEmail:
    values = full_context(context)
    subject = render_to_string(f"emails/{kind}.subject.txt", values)
    return RenderedEmail(
        subject=" ".join(subject.split()),
        text=render_to_string(f"emails/{kind}.txt", values),
        html=render_to_string(f"emails/{kind}.html", values),
    )


def render_email(
    *,
    template: str,
    context: Mapping[str, Any],
    language: str = Language.ARABIC,
    stored: Template | None = None,
) -> RenderedEmail:
    """Render kind ``template`` for a recipient reading ``language`` (or exactly ``stored``)."""
    chosen = stored or find_template(template, language)
    if chosen is not None:
        return render_stored(chosen, context)
    return render_files(template, context)


def preview_context(kind: str) -> dict[str, Any]:
    """Sample values for a preview: the kind's own samples, else each variable shows its name."""
    spec = registry.get(kind)
    return {name: spec.sample.get(name, f"[{escape(name)}]") for name in spec.variables}


def with_images_inline(html: str, images: Sequence[Asset]) -> str:
    """``cid:`` references replaced by the images themselves (``data:`` URIs), for a preview in
    a browser, which can't follow ``cid:`` outside a mail client."""
    import base64

    for image in images:
        with image.file.open("rb") as handle:
            data = base64.b64encode(handle.read()).decode()
        html = html.replace(f"cid:{image.name}", f"data:{image.content_type};base64,{data}")
    return html
