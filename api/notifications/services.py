"""One sending path for every notification: the port domain apps call.

``notify(kind, key=..., user_id=..., address=..., context=...)`` runs in the caller's
transaction and decides everything there, in this order:

1. **dedupe** — ``key`` names the logical notification (``"order_placed:17"``); its ``Dispatch``
   row is unique, so a retried task or a double click finds it and does nothing;
2. **preferences** — the user's choice for the kind (mandatory kinds are always on);
3. **suppression** — a hard-bounced or complaining address gets no marketing;
4. **the in-app row** (``Notification``, announced as ``notification.created`` on the user's
   event log in the same transaction) and/or **the queued email** (the dispatch, handed to the
   worker through the outbox once the transaction commits — work that rolls back sends nothing).

The worker (``deliver``) claims the dispatch with one conditional UPDATE — a second copy of the
task, a sweep and a resend can't both send it — checks it has not expired (a sign-in code is
never sent late), renders it (``notifications.rendering``), records it as django-post-office's
``Email`` and sends it through the kind's sender identity. A failure is logged (post_office
``Log``) and retried with backoff by the sweep; after the last retry the dispatch is dead until
staff resend it. Callers hand over primitives only (DESIGN.md: this app imports no domain app).
"""

import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.mime.image import MIMEImage
from typing import Any

from django.conf import settings
from django.core import mail, signing
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import get_random_string
from post_office.models import PRIORITY, STATUS, Email, Log

from core import outbox
from notifications import events
from notifications import kinds as registry
from notifications.models import Dispatch, Language, Notification, Preference, Suppression
from notifications.rendering import RenderedEmail, primitive, render_email

logger = logging.getLogger(__name__)

CLAIM = timedelta(minutes=5)  # a worker that died mid-send frees its dispatch after this
UNSUBSCRIBE_SALT = "notifications.newsletter.unsubscribe"
_PRIORITY = {"now": PRIORITY.now, "high": PRIORITY.high, "medium": PRIORITY.medium,
             "low": PRIORITY.low}  # fmt: skip


# --- choosing what to send ------------------------------------------------------------------


def channels_for(user_id: int | None, kind: registry.Kind) -> tuple[bool, bool]:
    """(email, in_app) for the user and kind: their preference row, else the kind's defaults;
    a mandatory kind is always on."""
    email, in_app = kind.email_default, kind.in_app_default and kind.in_app
    if kind.mandatory or user_id is None:
        return email or kind.mandatory, in_app
    row = Preference.objects.filter(user_id=user_id, kind=kind.name).first()
    if row is not None:
        email, in_app = row.email, row.in_app and kind.in_app
    return email, in_app


def is_suppressed(address: str) -> bool:
    return Suppression.objects.filter(address=address.lower()).exists()


def notify(
    kind: str,
    *,
    key: str,
    context: Mapping[str, Any],
    user_id: int | None = None,
    address: str = "",
    language: str = Language.ARABIC,
    expires_at: datetime | None = None,
    email: bool = True,
    in_app: bool = True,
    template_id: int | None = None,
    queue: bool = True,
) -> Dispatch | None:
    """Notify one recipient (a user, an address, or both) once per ``key``; None when ``key``
    was already used. ``context`` must hold only the kind's declared variables, as primitives.
    ``email=False`` / ``in_app=False`` narrow the channels for this call; ``template_id`` sends
    that stored template of the kind instead of the one the language picks. ``queue=False``
    (a worker already): no task of its own for the email — the dispatch is written claimed by
    the caller, who sends it with ``send_claimed`` once its transaction commits; if it never
    does, the claim runs out and the sweep sends it."""
    spec = registry.get(kind)
    values = primitive(context)
    undeclared = set(values) - spec.variables
    if undeclared:
        raise TypeError(f"{kind} does not declare {', '.join(sorted(undeclared))}")
    wants_email, wants_in_app = channels_for(user_id, spec)
    wants_email = wants_email and email and bool(address)
    wants_in_app = wants_in_app and in_app and user_id is not None
    skip_reason = ""
    if wants_email and spec.marketing and is_suppressed(address):
        wants_email, skip_reason = False, "suppressed"
    elif not wants_email:
        skip_reason = "no email" if spec.mandatory or not address else "preference"
    try:
        with transaction.atomic():
            dispatch = Dispatch.objects.create(
                key=key[:191],
                kind=kind,
                user_id=user_id,
                address=address.lower() if address else "",
                language=language if language in Language.values else Language.ARABIC,
                context=values,
                state=(
                    Dispatch.State.SKIPPED
                    if not wants_email
                    else Dispatch.State.QUEUED
                    if queue
                    else Dispatch.State.SENDING
                ),
                claimed_until=None if queue or not wants_email else timezone.now() + CLAIM,
                skip_reason=skip_reason,
                expires_at=expires_at,
                template_id=template_id,
                priority=_PRIORITY[spec.priority],
            )
    except IntegrityError:
        logger.info("notification %s already sent", kind, extra={"notification_kind": kind})
        return None
    if wants_in_app:
        assert user_id is not None
        _in_app(spec, user_id=user_id, language=dispatch.language, context=values)
    if wants_email and queue:
        _queue([dispatch.pk])
    return dispatch


@dataclass(frozen=True)
class Notice:
    """One notification of a batch (``notify_many``): ``notify``'s arguments."""

    kind: str
    key: str
    context: Mapping[str, Any]
    user_id: int | None = None
    address: str = ""
    language: str = Language.ARABIC
    expires_at: datetime | None = None


def notify_many(notices: Sequence[Notice]) -> int:
    """``notify`` for many at once, in a fixed number of statements however many (a sweep that
    tells a thousand buyers their orders expired): keys already used are skipped, the rest are
    written in bulk, their in-app rows announced with one ``push_many``, their emails queued
    with one outbox row each in one INSERT. Returns how many were new."""
    chosen: dict[str, tuple[Notice, registry.Kind, dict[str, Any]]] = {}
    for notice in notices:
        spec = registry.get(notice.kind)
        values = primitive(notice.context)
        undeclared = set(values) - spec.variables
        if undeclared:
            raise TypeError(f"{notice.kind} does not declare {', '.join(sorted(undeclared))}")
        chosen.setdefault(notice.key[:191], (notice, spec, values))
    if not chosen:
        return 0
    taken = set(Dispatch.objects.filter(key__in=list(chosen)).values_list("key", flat=True))
    fresh = {key: item for key, item in chosen.items() if key not in taken}
    if not fresh:
        return 0
    choices = _channels_for_many([(n.user_id, spec) for n, spec, _ in fresh.values()])
    marketing = {n.address.lower() for n, spec, _ in fresh.values() if spec.marketing}
    suppressed = set(
        Suppression.objects.filter(address__in=marketing).values_list("address", flat=True)
    ) if marketing else set()  # fmt: skip
    rows, in_app = [], []
    for key, (notice, spec, values) in fresh.items():
        wants_email, wants_in_app = choices[(notice.user_id, spec.name)]
        wants_email = wants_email and bool(notice.address)
        wants_in_app = wants_in_app and notice.user_id is not None
        skip = ""
        if wants_email and spec.marketing and notice.address.lower() in suppressed:
            wants_email, skip = False, "suppressed"
        elif not wants_email:
            skip = "no email" if spec.mandatory or not notice.address else "preference"
        rows.append(
            Dispatch(
                key=key, kind=spec.name, user_id=notice.user_id, address=notice.address.lower(),
                language=notice.language if notice.language in Language.values else "ar",
                context=values, state=Dispatch.State.QUEUED if wants_email else
                Dispatch.State.SKIPPED, skip_reason=skip, expires_at=notice.expires_at,
                priority=_PRIORITY[spec.priority],
            )
        )  # fmt: skip
        if wants_in_app:
            in_app.append((notice, spec, values))
    _insert_many(rows, ignore_conflicts=True)  # a racing duplicate key is someone else's
    queued = [r.key for r in rows if r.state == Dispatch.State.QUEUED]
    if queued:
        _queue(list(Dispatch.objects.filter(key__in=queued).values_list("pk", flat=True)))
    if in_app:
        _in_app_many(in_app)
    return len(rows)


def _insert_many(rows: Sequence[Any], *, ignore_conflicts: bool = False) -> None:
    """One parameterised INSERT for all ``rows`` (model instances of one model, ids left to the
    database) however many — ``bulk_create`` splits into batches on SQLite and compiles per
    object. ``ignore_conflicts`` skips rows whose unique key exists."""
    if not rows:
        return
    model = type(rows[0])
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    values = ", ".join(["%s"] * len(fields))
    verb = "INSERT"
    if ignore_conflicts:
        verb = "INSERT IGNORE" if connection.vendor == "mysql" else "INSERT OR IGNORE"
    sql = f"{verb} INTO {table} ({names}) VALUES ({values})"
    with connection.cursor() as cursor:
        cursor.executemany(
            sql,
            [
                tuple(f.get_db_prep_save(getattr(row, f.attname), connection) for f in fields)
                for row in rows
            ],
        )


def _channels_for_many(
    wanted: Sequence[tuple[int | None, registry.Kind]],
) -> dict[tuple[int | None, str], tuple[bool, bool]]:
    """``channels_for`` for many (user, kind) pairs: one read of the preferences, and none when
    every kind is mandatory."""
    optional = {(u, spec.name) for u, spec in wanted if u is not None and not spec.mandatory}
    rows: dict[tuple[int, str], Preference] = {}
    if optional:
        found = Preference.objects.filter(
            user_id__in={u for u, _ in optional}, kind__in={k for _, k in optional}
        )
        rows = {(p.user_id, p.kind): p for p in found}
    answer = {}
    for user_id, spec in wanted:
        email, in_app = spec.email_default, spec.in_app_default and spec.in_app
        row = rows.get((user_id, spec.name)) if user_id is not None else None
        if spec.mandatory:
            email = True
        elif row is not None:
            email, in_app = row.email, row.in_app and spec.in_app
        answer[(user_id, spec.name)] = (email, in_app)
    return answer


def _in_app_many(items: Sequence[tuple[Notice, registry.Kind, dict[str, Any]]]) -> None:
    now = timezone.now()
    _insert_many(
        [
            _notification(
                spec, user_id=n.user_id or 0, language=n.language, context=values, created_at=now
            )
            for n, spec, values in items
        ]
    )
    made = Notification.objects.filter(  # their ids, for the events
        user_id__in={n.user_id for n, _, _ in items}, created_at=now
    ).order_by("id")
    events.push_many(
        (row.user_id, "notification.created", notification_data(row))
        for row in sorted(made, key=lambda r: (r.user_id, r.pk))
    )


def _queue(dispatch_ids: list[int]) -> None:
    """Hand the dispatches to the worker once the current transaction commits."""
    from notifications.tasks import deliver_email_task  # tasks import this module

    outbox.enqueue_many(deliver_email_task, [{"dispatch_id": i} for i in dispatch_ids])


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def _notification(
    spec: registry.Kind, *, user_id: int, language: str, context: Mapping, created_at: Any = None
) -> Notification:
    def text(texts: Mapping[str, str]) -> str:
        template = texts.get(language) or texts.get(Language.ARABIC) or ""
        return template.format_map(_Blank(context))

    return Notification(
        user_id=user_id,
        kind=spec.name,
        title=text(spec.title)[:200],
        body=text(spec.body),
        link=spec.link.format_map(_Blank(context))[:500],
        data={k: v for k, v in context.items() if not isinstance(v, list | dict)},
        created_at=created_at or timezone.now(),
    )


def _in_app(spec: registry.Kind, *, user_id: int, language: str, context: Mapping) -> None:
    notification = _notification(spec, user_id=user_id, language=language, context=context)
    notification.save()
    events.push_to_user(user_id, "notification.created", notification_data(notification))


def notification_data(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "title": notification.title,
        "body": notification.body,
        "link": notification.link,
        "data": notification.data,
        "read_at": notification.read_at,
        "created_at": notification.created_at,
    }


def send_email_after_commit(
    *, to: str, template: str, context: Mapping[str, Any], key: str | None = None
) -> Dispatch | None:
    """An email to an address (no account, no in-app row) after commit, once per ``key``."""
    return notify(
        template,
        key=key or f"{template}:{get_random_string(24)}",
        context=context,
        address=to,
        in_app=False,
    )


# --- sender identities ------------------------------------------------------------------------


def identity(name: str) -> Mapping[str, Any]:
    identities = settings.NOTIFICATION_IDENTITIES
    return identities.get(name) or identities["no-reply"]


_connections = threading.local()


def connection_for(name: str) -> Any:
    """A mail connection with this identity's own credentials — built from the identity's
    options, never by changing global settings, so two identities sending at once (threads of
    one worker) never swap credentials. One per identity and configuration per thread (the
    backends open and close their server connection per batch themselves)."""
    cache = getattr(_connections, "by_identity", None)
    if cache is None:
        cache = _connections.by_identity = {}
    options = dict(identity(name).get("options") or {})
    backend = options.pop("backend", None) or settings.EMAIL_BACKEND
    key = (name, backend, repr(sorted(options.items())))
    if key not in cache:
        cache[key] = mail.get_connection(backend=backend, fail_silently=False, **options)
    return cache[key]


def forget_connections() -> None:
    for mail_connection in getattr(_connections, "by_identity", {}).values():
        try:
            mail_connection.close()
        except Exception:
            logger.debug("closing a mail connection failed", exc_info=True)
    _connections.by_identity = {}


# --- delivering -------------------------------------------------------------------------------


def retry_delays() -> list[timedelta]:
    return [timedelta(seconds=s) for s in settings.EMAIL_RETRY_DELAYS]


def unsubscribe_token(address: str, campaign_id: int | None = None) -> str:
    return signing.dumps({"a": address.lower(), "c": campaign_id}, salt=UNSUBSCRIBE_SALT)


def unsubscribe_url(token: str) -> str:
    """Where mail clients POST a one-click unsubscribe (RFC 8058), without signing in."""
    return f"{settings.PUBLIC_URL}/api/newsletter/unsubscribe/?token={token}"


def unsubscribe_page_url(token: str) -> str:
    """The page the email's own "unsubscribe" link opens: a person presses its button."""
    return f"{settings.PUBLIC_URL}/newsletter/unsubscribe/?token={token}"


def _claim(dispatch_id: int, now: datetime) -> bool:
    due = Q(state=Dispatch.State.QUEUED) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    stale = Q(state=Dispatch.State.SENDING, claimed_until__lt=now)
    # A paused or cancelled campaign's dispatches wait for (or never get) its own next run.
    stopped = Q(campaign__status__in=["paused", "cancelled"])
    return bool(
        Dispatch.objects.filter(due | stale, pk=dispatch_id)
        .exclude(stopped)
        .update(state=Dispatch.State.SENDING, claimed_until=now + CLAIM)
    )


def _record(dispatch: Dispatch, spec: registry.Kind) -> RenderedEmail:
    """Render the dispatch and store it as its post_office Email (first attempt only)."""
    context = dict(dispatch.context)
    headers: dict[str, str] = {}
    if spec.marketing:
        token = unsubscribe_token(dispatch.address, dispatch.campaign_id)
        context["unsubscribe_url"] = unsubscribe_page_url(token)
        # RFC 8058: a one-click POST to this URL unsubscribes, without signing in.
        headers["List-Unsubscribe"] = f"<{unsubscribe_url(token)}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    rendered = render_email(
        template=dispatch.kind,
        context=context,
        language=dispatch.language,
        stored=dispatch.template,
    )
    sender = identity(spec.identity)
    if dispatch.email_id is None:
        with transaction.atomic():  # one commit for the record and its link
            _create_record(dispatch, rendered, spec=spec, sender=sender, headers=headers)
    return rendered


def _create_record(
    dispatch: Dispatch,
    rendered: RenderedEmail,
    *,
    spec: registry.Kind,
    sender: Mapping[str, Any],
    headers: Mapping[str, str],
) -> None:
    """The rendered email as post_office's record, linked to its dispatch (first attempt)."""
    dispatch.email = Email.objects.create(
        from_email=sender["from_email"],
        to=[dispatch.address],
        subject=rendered.subject[:989],
        message=rendered.text,
        html_message=rendered.html,
        status=STATUS.queued,
        priority=dispatch.priority,
        headers=headers or None,
        expires_at=dispatch.expires_at,
        backend_alias=spec.identity,
        number_of_retries=0,
    )
    if rendered.template_id and dispatch.template_id is None:
        dispatch.template_id = rendered.template_id
    Dispatch.objects.filter(pk=dispatch.pk).update(
        email=dispatch.email, template_id=dispatch.template_id
    )


def compose(email: Email, rendered: RenderedEmail) -> mail.EmailMultiAlternatives:
    """The message as sent: text and HTML parts, ``cid:`` images inline, attachments."""
    message = mail.EmailMultiAlternatives(
        subject=email.subject,
        body=email.message,
        from_email=email.from_email,
        to=list(email.to),
        headers=dict(email.headers or {}),
    )
    message.attach_alternative(email.html_message, "text/html")
    for image in rendered.images:
        with image.file.open("rb") as handle:
            part = MIMEImage(handle.read(), _subtype=image.content_type.split("/")[-1])
        part.add_header("Content-ID", f"<{image.name}>")
        part.add_header("Content-Disposition", "inline", filename=image.name)
        message.attach(part)
    for attachment in rendered.attachments:
        with attachment.file.open("rb") as handle:
            message.attach(attachment.name, handle.read(), attachment.content_type)
    if rendered.images and not rendered.attachments:
        # Images shown in place, not listed as files.
        message.mixed_subtype = "related"  # type: ignore[attr-defined]
    return message


def deliver(dispatch_id: int, *, now: datetime | None = None) -> str:
    """Send one queued dispatch if it is due and nobody else holds it. Returns its new state
    (or ``"busy"`` when it wasn't this call's to send)."""
    now = now or timezone.now()
    if not _claim(dispatch_id, now):
        return "busy"
    dispatch = Dispatch.objects.select_related("email", "template").get(pk=dispatch_id)
    return _send(dispatch, now)


def send_claimed(dispatch: Dispatch) -> str:
    """Send a dispatch ``notify(queue=False)`` wrote claimed, once its transaction committed:
    no claim to take, nothing to read back. Returns its new state."""
    if dispatch.state != Dispatch.State.SENDING:
        return str(dispatch.state)
    return _send(dispatch, timezone.now())


def _send(dispatch: Dispatch, now: datetime) -> str:
    """Send a dispatch this call holds the claim of."""
    if dispatch.expires_at is not None and dispatch.expires_at <= now:
        Dispatch.objects.filter(pk=dispatch.pk).update(state=Dispatch.State.EXPIRED)
        if dispatch.email_id:
            Email.objects.filter(pk=dispatch.email_id).update(status=STATUS.failed)
        _forget_secret(dispatch)
        logger.info("notification %s expired unsent", dispatch.kind)
        return Dispatch.State.EXPIRED
    spec = registry.get(dispatch.kind)
    attempts = dispatch.attempts + 1
    try:
        rendered = _record(dispatch, spec)
    except Exception as exc:  # a template that can't render won't render on a retry either
        logger.exception("notification %s could not be rendered", dispatch.kind)
        Dispatch.objects.filter(pk=dispatch.pk).update(
            state=Dispatch.State.DEAD, attempts=attempts, skip_reason=type(exc).__name__[:32]
        )
        return Dispatch.State.DEAD
    assert dispatch.email is not None
    message = compose(dispatch.email, rendered)
    try:
        connection_for(spec.identity).send_messages([message])
    except Exception as exc:
        return _failed(dispatch, attempts=attempts, error=exc, now=now)
    status = getattr(message, "anymail_status", None)
    esp_id = (getattr(status, "message_id", None) or "") if status else ""
    with transaction.atomic():  # one commit for what a sent email changes
        Email.objects.filter(pk=dispatch.email_id).update(
            status=STATUS.sent, number_of_retries=attempts - 1
        )
        Log.objects.create(email_id=dispatch.email_id, status=STATUS.sent, message="")
        Dispatch.objects.filter(pk=dispatch.pk).update(
            state=Dispatch.State.SENT, attempts=attempts, sent_at=now,
            esp_message_id=str(esp_id)[:255],
        )  # fmt: skip
        _forget_secret(dispatch)
    logger.info("sent %s email", dispatch.kind, extra={"notification_kind": dispatch.kind})
    return Dispatch.State.SENT


def _forget_secret(dispatch: Dispatch) -> None:
    """A secret kind's content is needed until it is sent or expires, never after."""
    if not registry.get(dispatch.kind).secret:
        return
    Dispatch.objects.filter(pk=dispatch.pk).update(context={})
    if dispatch.email_id:
        Email.objects.filter(pk=dispatch.email_id).update(
            message="[wiped: one-time code]", html_message=""
        )


def _failed(dispatch: Dispatch, *, attempts: int, error: Exception, now: datetime) -> str:
    delays = retry_delays()
    Log.objects.create(
        email_id=dispatch.email_id,
        status=STATUS.failed,
        message=str(error)[:2000],
        exception_type=type(error).__name__,
    )
    forget_connections()  # the next attempt opens a fresh connection
    if attempts <= len(delays):
        retry_at = now + delays[attempts - 1]
        Email.objects.filter(pk=dispatch.email_id).update(
            status=STATUS.requeued, number_of_retries=attempts, scheduled_time=retry_at
        )
        Dispatch.objects.filter(pk=dispatch.pk).update(
            state=Dispatch.State.QUEUED, attempts=attempts, next_attempt_at=retry_at
        )
        logger.warning(
            "sending %s failed (%s); retry %d at %s",
            dispatch.kind, type(error).__name__, attempts, f"{retry_at:%H:%M:%S}",
        )  # fmt: skip
        return Dispatch.State.QUEUED
    Email.objects.filter(pk=dispatch.email_id).update(
        status=STATUS.failed, number_of_retries=attempts
    )
    Dispatch.objects.filter(pk=dispatch.pk).update(state=Dispatch.State.DEAD, attempts=attempts)
    _forget_secret(dispatch)
    logger.error("sending %s failed %d times: dead-lettered", dispatch.kind, attempts)
    return Dispatch.State.DEAD


def due_dispatches(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Queued dispatches whose time has come (retries, lost task messages), most urgent first."""
    now = now or timezone.now()
    settle = now - timedelta(seconds=settings.EMAIL_SWEEP_GRACE_SECONDS)
    due = Q(state=Dispatch.State.QUEUED) & (
        Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True, created_at__lte=settle)
    )
    stale = Q(state=Dispatch.State.SENDING, claimed_until__lt=now)
    return list(
        Dispatch.objects.filter(due | stale)
        .order_by("-priority", "next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )


def send_due(*, now: datetime | None = None) -> int:
    sent = 0
    for dispatch_id in due_dispatches(now=now):
        sent += deliver(dispatch_id, now=now) == Dispatch.State.SENT
    return sent


def resend(dispatch_ids: Iterable[int]) -> int:
    """Staff's resend of dead-lettered dispatches: queued again, from the first attempt. (Not
    expired ones: what expired — a code — must not arrive late.)"""
    ids = list(
        Dispatch.objects.filter(pk__in=list(dispatch_ids), state=Dispatch.State.DEAD)
        .exclude(address="")
        .values_list("pk", flat=True)
    )
    with transaction.atomic():
        Dispatch.objects.filter(pk__in=ids).update(
            state=Dispatch.State.QUEUED, attempts=0, next_attempt_at=None, skip_reason=""
        )
        _queue(ids)
    return len(ids)
