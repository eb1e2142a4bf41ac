"""Campaigns: a newsletter template sent to a segment's subscribed users, at a rate.

**Statuses.** ``scheduled`` → (``scheduled_at`` reached, the beat's ``run_due``) ``sending`` →
``finished``; ``scheduled`` and ``sending`` may be ``paused``, and a paused campaign resumes to
where it was (``sending``, or ``scheduled`` if it never started); anything not finished may be
``cancelled``. Allowed moves are ``TRANSITIONS``; another is ``InvalidTransition`` (409).

**Recipients** are the segment's users (``segments.users``: non-staff, matching the filters)
who are active, have a newsletter subscription — a ``Subscriber`` that is ``subscribed``, found
by their user id or by their address — and none of: an ``unsubscribed`` row for their address,
a suppression of their address (hard bounce, complaint, staff), their ``newsletter`` preference
turned off. Those are never given a dispatch. The check is made again just before each batch is
sent, for whatever changed since; a recipient stopped then gets their dispatch ``skipped`` (with
``skip_reason`` ``suppressed`` or ``unsubscribed``).

**Materialising.** Each run turns the next MATERIALISE_CHUNK recipients after ``cursor`` (user id
order) into ``Dispatch`` rows keyed ``campaign:<campaign id>:<user id>`` — inserted in bulk,
ignoring keys that exist, then the cursor moves on — so a run that dies between the two, or two
runs at once, can't give anyone a second row. The rows are ``queued`` but *parked*
(``next_attempt_at`` = PARKED, far in the future) so the general email sweep leaves them alone:
only a campaign run unparks them, a batch at a time, which is how pause and the rate hold.
Users who qualify later (a new subscriber with a higher id) are picked up while the cursor has
not passed them.

**Sending.** A run first lets out (unparks) the next dispatches, lowest ids first, as far as
the rate allows: ``rate_per_minute`` less what the campaign sent in the last minute, has in
flight or has let out and not yet sent, and at most CAMPAIGN_BATCH_SIZE — under the campaign
row's lock, so runs that overlap (a slow batch, two workers) let out one allowance between
them, and a late beat can't burst: no minute holds more than ``rate_per_minute`` sends. Then it
sends what is let out. Each dispatch goes through ``services.deliver``, which claims it with a
conditional UPDATE (a second run, the general sweep or a resend can't send it again), renders
it for its recipient and records it; the batch shares one open connection. A delivery that
fails is retried by ``deliver``'s backoff. A worker killed mid-send leaves at most the dispatch
it held ``sending``; it is taken again once its claim lapses (``services.CLAIM``). So nobody
gets a second email, with the one exception no mail system avoids: a worker killed after the
server accepted a message and before its row said so sends that message again.

Pausing parks every queued dispatch again (a run's claim then fails, so it stops within one
email); cancelling skips them (``skip_reason`` ``cancelled``), and for an hour afterwards any
dispatch a failed attempt requeued is skipped too.

The campaign is ``finished`` once no recipient is left to materialise and none of its
dispatches is queued or in flight. Counters (``with_counters``) are read from the dispatch
rows in one query, so they always equal them.
"""

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.exceptions import InvalidTransition
from notifications import kinds as registry
from notifications import segments, services
from notifications.models import (
    Campaign,
    Dispatch,
    Language,
    Preference,
    Subscriber,
    Suppression,
    Template,
)

logger = logging.getLogger(__name__)

KIND = "newsletter"  # the marketing kind: campaign templates are Templates of this kind
# Queued but not yet let out: the general sweep only sends what is due by now.
PARKED = datetime(9000, 1, 1, tzinfo=UTC)
MATERIALISE_CHUNK = 5000
WINDOW = timedelta(minutes=1)
MAX_RATE_PER_MINUTE = 100_000
BOUNCED = "bounced"  # Dispatch.delivery_status of a hard bounce (anymail's event type)
# Cancelled and finished campaigns are swept this long for dispatches a retry put back.
AFTERCARE = timedelta(hours=1)

Status = Campaign.Status
TRANSITIONS: dict[str, set[str]] = {
    Status.SCHEDULED: {Status.SENDING, Status.PAUSED, Status.CANCELLED},
    Status.SENDING: {Status.PAUSED, Status.CANCELLED, Status.FINISHED},
    Status.PAUSED: {Status.SCHEDULED, Status.SENDING, Status.CANCELLED},
    Status.CANCELLED: set(),
    Status.FINISHED: set(),
}
WAITING = (Dispatch.State.QUEUED, Dispatch.State.SENDING)


# --- reading -------------------------------------------------------------------------------------


def with_counters(queryset: QuerySet[Campaign]) -> QuerySet[Campaign]:
    """Campaigns with their counters, counted from their rows in the same statement:
    ``recipients`` (dispatches: one per recipient), ``waiting`` (queued or in flight),
    ``sent``, ``failed`` (dead: retries exhausted), ``skipped``, ``bounced``, ``unsubscribed``
    (subscribers who unsubscribed through one of its emails). Each is a subquery on the
    ``(campaign, state)`` index, so a page of campaigns counts only its own rows and the list's
    COUNT(*) counts none."""

    def count(rows: QuerySet, column: str) -> Coalesce:
        counted = (
            rows.filter(**{column: OuterRef("pk")})
            .order_by()
            .values(column)
            .annotate(n=Count("pk"))
            .values("n")[:1]
        )
        return Coalesce(
            Subquery(counted, output_field=IntegerField()), Value(0), output_field=IntegerField()
        )

    def dispatches(**condition: Any) -> Coalesce:
        return count(Dispatch.objects.filter(**condition), "campaign")

    states = Dispatch.State
    return queryset.annotate(
        recipients=dispatches(),
        waiting=dispatches(state__in=WAITING),
        sent=dispatches(state=states.SENT),
        failed=dispatches(state=states.DEAD),
        skipped=dispatches(state=states.SKIPPED),
        bounced=dispatches(delivery_status=BOUNCED),
        unsubscribed=count(Subscriber.objects.all(), "unsubscribed_from"),
    )


def list_campaigns() -> QuerySet[Campaign]:
    return with_counters(Campaign.objects.select_related("template")).order_by(
        "-scheduled_at", "-id"
    )


def get_campaign(*, campaign_id: int) -> Campaign:
    """With its counters. Raises Campaign.DoesNotExist."""
    return list_campaigns().get(pk=campaign_id)


def recipients(filters: Mapping[str, Any]) -> QuerySet:
    """The users a campaign with these filters goes to (see the module's docstring). Raises
    ValidationError for bad filters."""
    email = get_user_model().get_email_field_name()
    subscribed = Subscriber.objects.filter(status=Subscriber.Status.SUBSCRIBED)
    unsubscribed = Subscriber.objects.filter(status=Subscriber.Status.UNSUBSCRIBED)
    return (
        segments.users(filters)
        .filter(is_active=True)
        .exclude(**{email: ""})
        .filter(
            Exists(subscribed.filter(user=OuterRef("pk")))
            | Exists(subscribed.filter(address=OuterRef(email)))
        )
        .exclude(Exists(unsubscribed.filter(address=OuterRef(email))))
        .exclude(Exists(Suppression.objects.filter(address=OuterRef(email))))
        .exclude(Exists(Preference.objects.filter(user=OuterRef("pk"), kind=KIND, email=False)))
    )


# --- creating and moving -------------------------------------------------------------------------


def create_campaign(
    *,
    template_id: int,
    filters: Mapping[str, Any],
    scheduled_at: datetime,
    rate_per_minute: int = 600,
    name: str = "",
    created_by_id: int | None = None,
) -> Campaign:
    """A scheduled campaign. Raises ValidationError {field: [messages]}: a template that is not
    of the newsletter kind, bad filters, a rate outside 1..MAX_RATE_PER_MINUTE."""
    errors: dict[str, list[str]] = {}
    template = Template.objects.filter(pk=template_id, kind=KIND).first()
    if template is None:
        errors["template_id"] = [f"No template of kind {KIND!r} has this id."]
    try:
        canonical = segments.validate_filters(filters)
    except ValidationError as exc:
        errors["filters"] = _flat(exc)
    if not 1 <= rate_per_minute <= MAX_RATE_PER_MINUTE:
        errors["rate_per_minute"] = [f"Between 1 and {MAX_RATE_PER_MINUTE}."]
    if errors:
        raise ValidationError(errors)
    assert template is not None
    if timezone.is_naive(scheduled_at):
        scheduled_at = timezone.make_aware(scheduled_at, UTC)
    campaign = Campaign.objects.create(
        name=(name or f"{template.name} {scheduled_at:%Y-%m-%d %H:%M}")[:200],
        template=template,
        filters=canonical,
        scheduled_at=scheduled_at,
        rate_per_minute=rate_per_minute,
        created_by_id=created_by_id,
    )
    logger.info("campaign %s scheduled", campaign.pk, extra={"campaign_id": campaign.pk})
    return campaign


def _flat(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [f"{field}: {m}" for field, ms in exc.message_dict.items() for m in ms]
    return list(exc.messages)


def _locked(campaign_id: int, to: str) -> Campaign:
    """The campaign, locked, if it may move to ``to``. Raises InvalidTransition,
    Campaign.DoesNotExist."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
    if to not in TRANSITIONS[campaign.status]:
        raise InvalidTransition(
            f"A {campaign.status} campaign can't become {to}.",
            details={"from": campaign.status, "to": to},
        )
    return campaign


def pause_campaign(*, campaign_id: int) -> Campaign:
    """Stop sending: whatever is queued is parked again until ``resume_campaign`` (what a run
    already holds is sent). Raises InvalidTransition unless scheduled or sending."""
    with transaction.atomic(durable=True):
        campaign = _locked(campaign_id, Status.PAUSED)
        was, campaign.status = campaign.status, Status.PAUSED
        campaign.save(update_fields=["status"])
        Dispatch.objects.filter(campaign=campaign, state=Dispatch.State.QUEUED).update(
            next_attempt_at=PARKED
        )
    logger.info("campaign %s paused (was %s)", campaign.pk, was, extra={"campaign_id": campaign.pk})
    return campaign


def resume_campaign(*, campaign_id: int) -> Campaign:
    """Back to sending (or to scheduled, if it was paused before it started). Raises
    InvalidTransition unless paused."""
    with transaction.atomic(durable=True):
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        to = Status.SENDING if campaign.started_at else Status.SCHEDULED
        if campaign.status != Status.PAUSED:
            raise InvalidTransition(
                f"A {campaign.status} campaign can't be resumed.",
                details={"from": campaign.status, "to": to},
            )
        campaign.status = to
        campaign.save(update_fields=["status"])
    logger.info("campaign %s resumed (%s)", campaign.pk, to, extra={"campaign_id": campaign.pk})
    return campaign


def cancel_campaign(*, campaign_id: int) -> Campaign:
    """Stop for good: every dispatch not yet sent is skipped (``cancelled``); what a worker is
    sending at this moment still goes. Raises InvalidTransition when cancelled or finished."""
    now = timezone.now()
    with transaction.atomic(durable=True):
        campaign = _locked(campaign_id, Status.CANCELLED)
        campaign.status, campaign.finished_at = Status.CANCELLED, now
        campaign.save(update_fields=["status", "finished_at"])
        # In flight too: a worker still sending one marks it sent when done; one that died
        # holding it leaves it skipped instead of sent by the sweep once its claim lapses.
        Dispatch.objects.filter(campaign=campaign, state__in=WAITING).update(
            state=Dispatch.State.SKIPPED, skip_reason="cancelled", next_attempt_at=None
        )
    logger.info("campaign %s cancelled", campaign.pk, extra={"campaign_id": campaign.pk})
    return campaign


# --- running -------------------------------------------------------------------------------------


def run_due() -> int:
    """Beat, every 30 s: start the campaigns whose time has come and run each sending one
    (materialise its next recipients, send its next batch). Returns the emails sent."""
    now = timezone.now()
    _aftercare(now)
    due = Campaign.objects.filter(status=Status.SCHEDULED, scheduled_at__lte=now)
    for campaign_id in due.values_list("pk", flat=True):
        started = Campaign.objects.filter(pk=campaign_id, status=Status.SCHEDULED).update(
            status=Status.SENDING, started_at=now
        )
        if started:
            logger.info("campaign %s started", campaign_id, extra={"campaign_id": campaign_id})
    sent = 0
    sending = Campaign.objects.filter(status=Status.SENDING).order_by("scheduled_at", "pk")
    for campaign_id in sending.values_list("pk", flat=True):
        try:
            sent += run_campaign(campaign_id=campaign_id).sent
        except Exception:  # one campaign's trouble must not hold the others up
            logger.exception("campaign %s run failed", campaign_id)
    return sent


@dataclass(frozen=True)
class RunResult:
    materialised: int  # recipients looked at (rows inserted, or found already there)
    sent: int
    finished: bool


def run_campaign(*, campaign_id: int, chunk: int = MATERIALISE_CHUNK) -> RunResult:
    """One run of one sending campaign; a campaign in any other status is left alone."""
    campaign = Campaign.objects.filter(pk=campaign_id, status=Status.SENDING).first()
    if campaign is None:
        return RunResult(materialised=0, sent=0, finished=False)
    now = timezone.now()
    materialised = materialise(campaign, now=now, limit=chunk)
    sent = send_batch(campaign, now=now)
    finished = materialised < chunk and _finish_if_done(campaign, now=timezone.now())
    return RunResult(materialised=materialised, sent=sent, finished=finished)


def materialise(campaign: Campaign, *, now: datetime, limit: int = MATERIALISE_CHUNK) -> int:
    """Give the next ``limit`` recipients after the cursor their (parked) dispatch rows; how
    many recipients there were (fewer than ``limit``: none are left for now)."""
    email = get_user_model().get_email_field_name()
    rows = list(
        recipients(campaign.filters)
        .filter(pk__gt=campaign.cursor)
        .order_by("pk")
        .values_list("pk", email, "first_name", "language")[:limit]
    )
    if not rows:
        return 0
    Dispatch.objects.bulk_create(
        [
            Dispatch(
                key=f"campaign:{campaign.pk}:{user_id}",
                kind=KIND,
                user_id=user_id,
                address=address.lower(),
                language=language if language in Language.values else Language.ARABIC,
                context={"first_name": first_name or ""},
                template_id=campaign.template_id,
                campaign=campaign,
                state=Dispatch.State.QUEUED,
                next_attempt_at=PARKED,
                created_at=now,
            )
            for user_id, address, first_name, language in rows
        ],
        ignore_conflicts=True,  # rows a dead or parallel run made: a key is one recipient
        batch_size=1000,
    )
    last = rows[-1][0]
    count = Dispatch.objects.filter(campaign_id=campaign.pk).order_by().values("campaign")
    Campaign.objects.filter(pk=campaign.pk, cursor__lt=last).update(
        cursor=last, total=Subquery(count.annotate(n=Count("pk")).values("n")[:1])
    )
    campaign.cursor = last
    return len(rows)


def release(campaign: Campaign, *, now: datetime) -> int:
    """Unpark the campaign's next dispatches (lowest ids first) as far as its rate allows:
    ``rate_per_minute`` less what it sent in the last minute, has in flight, or has let out and
    not yet sent; at most CAMPAIGN_BATCH_SIZE. Under the campaign row's lock, so runs at once
    let out one allowance between them, and nothing once it is paused or cancelled. How many
    were let out."""
    with transaction.atomic():
        locked = (
            Campaign.objects.select_for_update()
            .filter(pk=campaign.pk, status=Status.SENDING)
            .values_list("rate_per_minute", flat=True)
            .first()
        )
        if locked is None:
            return 0
        busy = (
            Dispatch.objects.filter(campaign_id=campaign.pk)
            .filter(
                Q(state=Dispatch.State.SENT, sent_at__gt=now - WINDOW)
                | Q(state=Dispatch.State.SENDING, claimed_until__gte=now)
                | _let_out(now)
            )
            .count()
        )
        room = min(settings.CAMPAIGN_BATCH_SIZE, locked - busy)
        if room <= 0:
            return 0
        ids = list(
            Dispatch.objects.filter(
                campaign_id=campaign.pk, state=Dispatch.State.QUEUED, next_attempt_at__gte=PARKED
            )
            .order_by("pk")
            .values_list("pk", flat=True)[:room]
        )
        return Dispatch.objects.filter(
            pk__in=ids, state=Dispatch.State.QUEUED, next_attempt_at__gte=PARKED
        ).update(next_attempt_at=now)


def _let_out(now: datetime) -> Q:
    """Queued and due: let out by a run (or a retry whose backoff is over), not yet claimed."""
    return Q(state=Dispatch.State.QUEUED) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )


def send_batch(campaign: Campaign, *, now: datetime) -> int:
    """Let out what the rate allows (``release``), then send every dispatch of the campaign
    that is let out — this run's, a dead run's, due retries — or whose claim lapsed, lowest ids
    first, at most CAMPAIGN_BATCH_SIZE. How many were sent."""
    release(campaign, now=now)
    stale = Q(state=Dispatch.State.SENDING, claimed_until__lt=now)
    batch = list(
        Dispatch.objects.filter(campaign_id=campaign.pk)
        .filter(_let_out(now) | stale)
        .order_by("pk")
        .values_list("pk", "address")[: settings.CAMPAIGN_BATCH_SIZE]
    )
    if not batch:
        return 0
    ids = _hold_back(batch, now=now)
    session = _Session(registry.get(KIND).identity)
    if not session.open():
        return 0  # the mail server is down: what was let out waits for the next run
    sent = 0
    try:
        for dispatch_id in ids:
            outcome = services.deliver(dispatch_id)
            if outcome == Dispatch.State.SENT:
                sent += 1
            elif outcome == "busy" and not _still_sending(campaign.pk):
                break  # paused or cancelled meanwhile: its dispatches are parked or skipped
            session.keep_open()
    finally:
        session.close()
    if sent:
        logger.info("campaign %s sent %d", campaign.pk, sent, extra={"campaign_id": campaign.pk})
    return sent


def _hold_back(batch: list[tuple[int, str]], *, now: datetime) -> list[int]:
    """The batch's ids less those whose address was suppressed or unsubscribed since it was
    materialised; those are skipped."""
    addresses = {address for _, address in batch}
    suppressed = set(
        Suppression.objects.filter(address__in=addresses).values_list("address", flat=True)
    )
    unsubscribed = set(
        Subscriber.objects.filter(
            address__in=addresses, status=Subscriber.Status.UNSUBSCRIBED
        ).values_list("address", flat=True)
    )
    held = Q(state=Dispatch.State.QUEUED) | Q(state=Dispatch.State.SENDING, claimed_until__lt=now)
    for reason, stopped in (("suppressed", suppressed), ("unsubscribed", unsubscribed)):
        skip = [pk for pk, address in batch if address in stopped]
        if skip:
            Dispatch.objects.filter(held, pk__in=skip).update(
                state=Dispatch.State.SKIPPED, skip_reason=reason, next_attempt_at=None
            )
    stopped = suppressed | unsubscribed
    return [pk for pk, address in batch if address not in stopped]


def _still_sending(campaign_id: int) -> bool:
    return Campaign.objects.filter(pk=campaign_id, status=Status.SENDING).exists()


def _finish_if_done(campaign: Campaign, *, now: datetime) -> bool:
    if Dispatch.objects.filter(campaign=campaign, state__in=WAITING).exists():
        return False
    count = Dispatch.objects.filter(campaign_id=campaign.pk).order_by().values("campaign")
    finished = Campaign.objects.filter(pk=campaign.pk, status=Status.SENDING).update(
        status=Status.FINISHED,
        finished_at=now,
        total=Coalesce(Subquery(count.annotate(n=Count("pk")).values("n")[:1]), Value(0)),
    )
    if finished:
        logger.info("campaign %s finished", campaign.pk, extra={"campaign_id": campaign.pk})
    return bool(finished)


def _aftercare(now: datetime) -> None:
    """A dispatch in flight when its campaign was cancelled (or, rarely, materialised as it
    finished) may come back queued — a failed attempt is requeued for a retry: it is skipped,
    so nothing of a stopped campaign is sent later. (A retry due before this runs can still
    slip through the general sweep: ``services.deliver`` doesn't know campaigns.)"""
    stopped = list(
        Campaign.objects.filter(
            status__in=[Status.CANCELLED, Status.FINISHED], finished_at__gte=now - AFTERCARE
        ).values_list("pk", "status")
    )
    for campaign_id, status in stopped:
        Dispatch.objects.filter(campaign_id=campaign_id, state__in=WAITING).update(
            state=Dispatch.State.SKIPPED, skip_reason=status, next_attempt_at=None
        )


class _Session:
    """One open mail connection for a batch (the SMTP backend otherwise connects per message).
    A failed send makes ``services`` drop the connection; the next one is opened in turn."""

    def __init__(self, identity: str) -> None:
        self.identity = identity
        self.connection: Any = None
        self.opened = False

    def open(self) -> bool:
        self.connection = services.connection_for(self.identity)
        try:
            self.opened = bool(self.connection.open())
        except Exception:
            logger.warning("campaign mail connection failed", exc_info=True)
            return False
        return True

    def keep_open(self) -> None:
        current = services.connection_for(self.identity)
        if current is not self.connection:
            self.close()
            self.open()

    def close(self) -> None:
        if self.opened and self.connection is not None:
            try:
                self.connection.close()
            except Exception:
                logger.debug("closing the campaign mail connection failed", exc_info=True)
        self.opened = False


def bulk_move(
    campaign_ids: Iterable[int], move: Any
) -> tuple[list[Campaign], list[InvalidTransition]]:
    """``move`` (pause_campaign, resume_campaign, cancel_campaign) each campaign: those moved and
    the refusals (the admin's actions)."""
    moved, refused = [], []
    for campaign_id in campaign_ids:
        try:
            moved.append(move(campaign_id=campaign_id))
        except InvalidTransition as exc:
            refused.append(exc)
    return moved, refused
