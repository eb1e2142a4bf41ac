"""The one place that finds an email's template and renders it.

Today every kind is three files found by Django's template loader — ``emails/<name>.subject.txt``,
``.txt`` and ``.html`` in the app that sends it. Templates stored in the database (the
notifications issue) slot in here, in front of the files, without any caller changing.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.template.loader import render_to_string


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def render_email(*, template: str, context: Mapping[str, Any]) -> RenderedEmail:
    full_context = {"site_name": "Sudamall", **context}
    subject = render_to_string(f"emails/{template}.subject.txt", full_context)
    return RenderedEmail(
        subject=" ".join(subject.split()),
        text=render_to_string(f"emails/{template}.txt", full_context),
        html=render_to_string(f"emails/{template}.html", full_context),
    )
