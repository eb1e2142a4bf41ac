"""The kinds of notification: what each may say, to whom it matters, and whether it may be
turned off.

Domain apps declare their kinds (in their ``AppConfig.ready``), so this port holds no domain
rules: a kind names the variables its templates may use — the validator refuses any other, and
only those reach a template — its category (which decides whether it is mandatory and whether it
is marketing), the sender identity, and what an in-app notification says. A kind with no in-app
text is email only.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Category = Literal["security", "order", "payment", "chat", "account", "marketing"]

# Security, order and payment notices can't be turned off (API.md): they are how a buyer learns
# their code, that an order exists and that money moved.
MANDATORY_CATEGORIES: frozenset[str] = frozenset({"security", "order", "payment"})

# Ordering of the queue: a sign-in code goes before an order email, which goes before a
# newsletter (django-post-office's priorities: now, high, medium, low).
Priority = Literal["now", "high", "medium", "low"]


@dataclass(frozen=True)
class Kind:
    name: str
    category: Category
    variables: frozenset[str]
    description: str = ""
    identity: str = "no-reply"
    priority: Priority = "medium"
    # In-app text, per language, formatted with the context (``str.format_map``); none: email only.
    title: Mapping[str, str] = field(default_factory=dict)
    body: Mapping[str, str] = field(default_factory=dict)
    link: str = ""
    email_default: bool = True
    in_app_default: bool = True
    # Its content is a secret (a one-time code): wiped from the stored context and the email
    # log once sent or expired, so the database keeps no usable code.
    secret: bool = False
    # Sample values for previews (a list variable needs a list to loop over); the others show
    # as ``[name]``.
    sample: Mapping[str, Any] = field(default_factory=dict)

    @property
    def mandatory(self) -> bool:
        return self.category in MANDATORY_CATEGORIES

    @property
    def marketing(self) -> bool:
        return self.category == "marketing"

    @property
    def in_app(self) -> bool:
        return bool(self.title)


# Every template may use these; the renderer provides them.
COMMON_VARIABLES = frozenset({"site_name", "recipient_name", "unsubscribe_url"})

_kinds: dict[str, Kind] = {}


class UnknownKind(LookupError):
    pass


def register(*kinds: Kind) -> None:
    for kind in kinds:
        existing = _kinds.get(kind.name)
        if existing is not None and existing != kind:
            raise ValueError(f"notification kind {kind.name!r} is registered twice, differently")
        _kinds[kind.name] = kind


def get(name: str) -> Kind:
    try:
        return _kinds[name]
    except KeyError:
        raise UnknownKind(name) from None


def all_kinds() -> list[Kind]:
    return sorted(_kinds.values(), key=lambda k: (k.category, k.name))


def allowed_variables(kind: Kind) -> frozenset[str]:
    return kind.variables | COMMON_VARIABLES


# The notifications app's own kinds.
register(
    Kind(
        name="newsletter_confirm",
        category="security",  # mandatory: it is how an address proves it asked
        variables=frozenset({"confirm_url"}),
        description="Double opt-in: the link that confirms a newsletter subscription.",
        priority="high",
    ),
    Kind(
        name="newsletter",
        category="marketing",
        variables=frozenset({"first_name"}),
        description="A campaign's email (any template of this kind).",
        priority="low",
        identity="newsletter",
        in_app_default=False,
    ),
)
