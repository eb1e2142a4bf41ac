"""Campaigns: who they go to, the rate, pause/resume/cancel, crashes, counters, the staff API."""

import smtplib
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest
from django.core import mail
from django.core.mail.backends import locmem
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import StaffUserFactory, UserFactory
from core.exceptions import InvalidTransition
from core.tests.concurrency import race
from notifications import campaigns, newsletter, services
from notifications.models import (
    Campaign,
    Dispatch,
    Preference,
    Subscriber,
    Suppression,
    Template,
)
from stores.tests.factories import OwnerFactory

START = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
LIST_URL = "/api/notifications/campaigns/"


# --- what leaves the machine: the mail backends -------------------------------------------------


class Killed(BaseException):
    """The worker dies: not an Exception, so nothing on the way out handles it."""


class KillingBackend(locmem.EmailBackend):
    """Delivers ``allow`` messages, then the worker dies as it sends the next."""

    allow: ClassVar[int] = 0

    def send_messages(self, messages: Sequence[Any]) -> int:
        if KillingBackend.allow < len(messages):
            raise Killed()
        KillingBackend.allow -= len(messages)
        return super().send_messages(messages)


class RefusingBackend(locmem.EmailBackend):
    """The server refuses the addresses in ``refuse``."""

    refuse: ClassVar[set[str]] = set()

    def send_messages(self, messages: Sequence[Any]) -> int:
        for message in messages:
            if message.to[0] in RefusingBackend.refuse:
                raise smtplib.SMTPRecipientsRefused({message.to[0]: (550, b"no such user")})
        return super().send_messages(messages)


class HookedBackend(locmem.EmailBackend):
    """Calls ``hook(n)`` as it sends the n-th message (from 1)."""

    hook: ClassVar[Callable[[int], None]] = staticmethod(lambda n: None)
    count: ClassVar[int] = 0

    def send_messages(self, messages: Sequence[Any]) -> int:
        HookedBackend.count += 1
        HookedBackend.hook(HookedBackend.count)
        return super().send_messages(messages)


@pytest.fixture(autouse=True)
def _mail_connections():
    """Connections are cached per thread and identity: each test gets its own backend's."""
    services.forget_connections()
    yield
    services.forget_connections()


@pytest.fixture
def use_backend(settings) -> Callable[[type], None]:
    def use(backend: type) -> None:
        settings.EMAIL_BACKEND = f"{backend.__module__}.{backend.__qualname__}"
        services.forget_connections()

    return use


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(START, tick=False)
    return time_machine


# --- data ---------------------------------------------------------------------------------------


@pytest.fixture
def template(db) -> Template:
    return Template.objects.create(
        name="June news",
        kind="newsletter",
        language="en",
        subject="News for {{ first_name }}",
        html='<p>Hello {{ first_name }}</p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>',
        text="Hello {{ first_name }}. Unsubscribe: {{ unsubscribe_url }}",
    )


def subscribed(user: User | None = None, *, by: str = "user", **fields: Any) -> User:
    """A user with a confirmed newsletter subscription, linked to the account (``by="user"``)
    or only sharing its address (``by="address"``)."""
    user = user or UserFactory(**fields)
    Subscriber.objects.create(
        address=user.email,
        user=user if by == "user" else None,
        status=Subscriber.Status.SUBSCRIBED,
        confirmed_at=timezone.now(),
    )
    return user


def schedule(template: Template, *, rate: int = 600, filters: dict | None = None, **kw: Any):
    return campaigns.create_campaign(
        template_id=template.pk,
        filters=filters or {},
        scheduled_at=kw.pop("scheduled_at", timezone.now()),
        rate_per_minute=rate,
        **kw,
    )


def sent_to() -> Counter[str]:
    return Counter(address for message in mail.outbox for address in message.to)


def refreshed(campaign: Campaign) -> Campaign:
    return campaigns.get_campaign(campaign_id=campaign.pk)


def run_until_finished(campaign: Campaign, clock, *, step: timedelta = timedelta(seconds=30)):
    for _ in range(100):
        campaigns.run_due()
        if Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.FINISHED:
            return
        clock.shift(step)
    raise AssertionError("the campaign never finished")


# --- who gets it --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_campaign_sends_one_email_to_each_subscribed_member_of_its_segment(clock, template):
    amna = subscribed(first_name="Amna", language="en")
    badr = subscribed(first_name="Badr")
    carl = subscribed(by="address", first_name="Carl")
    UserFactory()  # not subscribed
    pending = UserFactory()
    Subscriber.objects.create(address=pending.email, user=pending)
    left = subscribed()
    Subscriber.objects.filter(address=left.email).update(status=Subscriber.Status.UNSUBSCRIBED)
    bounced = subscribed()
    Suppression.objects.create(address=bounced.email, reason=Suppression.Reason.BOUNCED)
    declined = subscribed()
    Preference.objects.create(user=declined, kind="newsletter", email=False)
    subscribed(is_active=False)
    subscribed(OwnerFactory())  # not a buyer: out of the segment
    subscribed(StaffUserFactory())  # staff: never in a segment
    moved = UserFactory()  # subscribed from an old address, then unsubscribed the new one
    Subscriber.objects.create(
        address="old@example.com", user=moved, status=Subscriber.Status.SUBSCRIBED
    )
    Subscriber.objects.create(address=moved.email, status=Subscriber.Status.UNSUBSCRIBED)
    campaign = schedule(template, filters={"account_type": "buyer"})

    assert campaigns.run_due() == 3

    assert sent_to() == {amna.email: 1, badr.email: 1, carl.email: 1}
    campaign = refreshed(campaign)
    assert campaign.status == Campaign.Status.FINISHED
    assert (campaign.recipients, campaign.sent, campaign.waiting) == (3, 3, 0)
    message = next(m for m in mail.outbox if m.to == [amna.email])
    assert message.subject == "News for Amna"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Hello Amna" in message.alternatives[0][0]
    dispatch = Dispatch.objects.get(campaign=campaign, user=amna)
    assert (dispatch.key, dispatch.language) == (f"campaign:{campaign.pk}:{amna.pk}", "en")
    assert campaigns.run_due() == 0  # finished: nothing more, ever


@pytest.mark.django_db
def test_users_stopped_after_they_were_counted_are_skipped_not_sent(clock, template):
    people = [subscribed() for _ in range(3)]
    campaign = schedule(template, scheduled_at=START + timedelta(minutes=5))
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENDING)
    campaigns.materialise(Campaign.objects.get(pk=campaign.pk), now=timezone.now())
    Suppression.objects.create(address=people[0].email, reason=Suppression.Reason.COMPLAINED)
    newsletter.unsubscribe(services.unsubscribe_token(people[1].email, campaign.pk))

    campaigns.run_due()

    assert sent_to() == {people[2].email: 1}
    reasons = dict(
        Dispatch.objects.filter(campaign=campaign, state=Dispatch.State.SKIPPED).values_list(
            "user_id", "skip_reason"
        )
    )
    assert reasons == {people[0].pk: "suppressed", people[1].pk: "unsubscribed"}
    campaign = refreshed(campaign)
    assert (campaign.status, campaign.sent, campaign.skipped, campaign.unsubscribed) == (
        Campaign.Status.FINISHED, 1, 2, 1,
    )  # fmt: skip


# --- the rate -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_one_run_sends_at_most_the_rate_and_a_minute_at_most_the_rate(clock, template):
    people = [subscribed() for _ in range(10)]
    campaign = schedule(template, rate=3)

    assert campaigns.run_due() == 3
    assert campaigns.run_due() == 0  # the same instant: the minute's allowance is spent
    clock.shift(timedelta(seconds=30))
    assert campaigns.run_due() == 0
    assert services.send_due() == 0  # the general sweep never sends what a campaign parked
    clock.shift(timedelta(seconds=30))
    assert campaigns.run_due() == 3
    clock.shift(timedelta(minutes=5))  # a late beat sends a minute's worth, not five
    assert campaigns.run_due() == 3
    assert len(mail.outbox) == 9

    run_until_finished(campaign, clock)
    assert sent_to() == {p.email: 1 for p in people}


@pytest.mark.django_db
def test_one_run_sends_at_most_the_batch_size(clock, template, settings):
    settings.CAMPAIGN_BATCH_SIZE = 2
    for _ in range(5):
        subscribed()
    schedule(template, rate=600)

    assert campaigns.run_due() == 2
    assert campaigns.run_due() == 2  # the rate allows more at once; the batch doesn't
    assert campaigns.run_due() == 1


@pytest.mark.django_db
def test_materialising_goes_a_chunk_at_a_time_in_user_id_order(clock, template):
    people = sorted((subscribed() for _ in range(5)), key=lambda u: u.pk)
    campaign = schedule(template, rate=1)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENDING)

    result = campaigns.run_campaign(campaign_id=campaign.pk, chunk=2)

    assert (result.materialised, result.sent, result.finished) == (2, 1, False)
    assert Campaign.objects.get(pk=campaign.pk).cursor == people[1].pk
    assert sent_to() == {people[0].email: 1}
    assert campaigns.run_campaign(campaign_id=campaign.pk, chunk=2).materialised == 2
    assert campaigns.run_campaign(campaign_id=campaign.pk, chunk=2).materialised == 1
    assert Dispatch.objects.filter(campaign=campaign).count() == 5


# --- pause, resume, cancel ----------------------------------------------------------------------


@pytest.mark.django_db
def test_pause_stops_further_sends_and_resume_continues(clock, template):
    people = [subscribed() for _ in range(6)]
    campaign = schedule(template, rate=2)
    assert campaigns.run_due() == 2

    campaigns.pause_campaign(campaign_id=campaign.pk)
    clock.shift(timedelta(minutes=10))
    assert campaigns.run_due() == 0
    assert services.send_due() == 0
    assert len(mail.outbox) == 2

    assert campaigns.resume_campaign(campaign_id=campaign.pk).status == Campaign.Status.SENDING
    assert campaigns.run_due() == 2
    run_until_finished(campaign, clock, step=timedelta(minutes=1))
    assert sent_to() == {p.email: 1 for p in people}


@pytest.mark.django_db
def test_a_pause_mid_batch_stops_the_run_within_one_email(clock, template, use_backend):
    for _ in range(6):
        subscribed()
    campaign = schedule(template, rate=100)
    HookedBackend.count = 0
    HookedBackend.hook = staticmethod(  # type: ignore[assignment]
        lambda n: campaigns.pause_campaign(campaign_id=campaign.pk) if n == 2 else None
    )
    use_backend(HookedBackend)

    assert campaigns.run_due() == 2  # the second was claimed before the pause: it goes

    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.PAUSED
    assert Dispatch.objects.filter(campaign=campaign, state=Dispatch.State.QUEUED).count() == 4


@pytest.mark.django_db
def test_cancel_stops_for_good(clock, template):
    for _ in range(6):
        subscribed()
    campaign = schedule(template, rate=2)
    assert campaigns.run_due() == 2

    campaigns.cancel_campaign(campaign_id=campaign.pk)
    clock.shift(timedelta(minutes=10))
    assert campaigns.run_due() == 0
    assert services.send_due() == 0
    with pytest.raises(InvalidTransition):
        campaigns.resume_campaign(campaign_id=campaign.pk)
    with pytest.raises(InvalidTransition):
        campaigns.cancel_campaign(campaign_id=campaign.pk)

    campaign = refreshed(campaign)
    assert (campaign.status, campaign.sent, campaign.skipped, campaign.waiting) == (
        Campaign.Status.CANCELLED, 2, 4, 0,
    )  # fmt: skip
    assert set(
        Dispatch.objects.filter(campaign=campaign, state=Dispatch.State.SKIPPED).values_list(
            "skip_reason", flat=True
        )
    ) == {"cancelled"}


@pytest.mark.django_db
def test_a_retry_requeued_after_cancelling_is_never_sent(clock, template, use_backend, settings):
    person = subscribed()
    campaign = schedule(template)
    RefusingBackend.refuse = {person.email}
    use_backend(RefusingBackend)
    campaigns.run_due()  # refused: requeued for a retry in 30 s
    assert Dispatch.objects.get(campaign=campaign).state == Dispatch.State.QUEUED
    campaigns.cancel_campaign(campaign_id=campaign.pk)
    # As if it had been in flight at the cancel and came back for a retry:
    Dispatch.objects.filter(campaign=campaign).update(
        state=Dispatch.State.QUEUED, next_attempt_at=timezone.now(), skip_reason=""
    )
    RefusingBackend.refuse = set()

    campaigns.run_due()
    clock.shift(timedelta(minutes=2))
    services.send_due()

    assert mail.outbox == []
    assert Dispatch.objects.get(campaign=campaign).skip_reason == "cancelled"


@pytest.mark.django_db
def test_a_campaign_waits_for_its_time_and_a_pause_before_it_keeps_it_scheduled(clock, template):
    subscribed()
    campaign = schedule(template, scheduled_at=START + timedelta(hours=1))
    assert campaigns.run_due() == 0
    campaigns.pause_campaign(campaign_id=campaign.pk)
    assert campaigns.resume_campaign(campaign_id=campaign.pk).status == Campaign.Status.SCHEDULED
    with pytest.raises(InvalidTransition):
        campaigns.resume_campaign(campaign_id=campaign.pk)

    clock.shift(timedelta(hours=1))
    assert campaigns.run_due() == 1


# --- crashes and concurrency --------------------------------------------------------------------


@pytest.mark.django_db
def test_killed_mid_send_and_resumed_sends_everyone_exactly_once(clock, template, use_backend):
    people = [subscribed() for _ in range(8)]
    campaign = schedule(template)
    KillingBackend.allow = 3
    use_backend(KillingBackend)

    with pytest.raises(Killed):
        campaigns.run_due()

    assert len(mail.outbox) == 3
    held = Dispatch.objects.get(campaign=campaign, state=Dispatch.State.SENDING)
    use_backend(locmem.EmailBackend)
    assert campaigns.run_due() == 4  # the rest; the one the dead worker held waits for its claim
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.SENDING
    clock.shift(services.CLAIM + timedelta(seconds=1))
    assert campaigns.run_due() == 1

    assert sent_to() == {p.email: 1 for p in people}
    assert held.address in sent_to()
    campaign = refreshed(campaign)
    assert (campaign.status, campaign.recipients, campaign.sent) == (
        Campaign.Status.FINISHED, 8, 8,
    )  # fmt: skip


@pytest.mark.django_db
def test_what_a_dead_worker_held_is_not_sent_after_a_cancel(clock, template, use_backend):
    for _ in range(3):
        subscribed()
    campaign = schedule(template)
    KillingBackend.allow = 1
    use_backend(KillingBackend)
    with pytest.raises(Killed):
        campaigns.run_due()
    use_backend(locmem.EmailBackend)

    campaigns.cancel_campaign(campaign_id=campaign.pk)
    clock.shift(services.CLAIM + timedelta(seconds=1))
    services.send_due()
    campaigns.run_due()

    assert len(mail.outbox) == 1
    assert refreshed(campaign).skipped == 2


@pytest.mark.django_db
def test_a_crash_between_materialising_and_moving_the_cursor_makes_no_second_row(clock, template):
    people = [subscribed() for _ in range(4)]
    campaign = schedule(template, scheduled_at=START + timedelta(hours=1))
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENDING)
    campaigns.materialise(Campaign.objects.get(pk=campaign.pk), now=timezone.now())
    Campaign.objects.filter(pk=campaign.pk).update(cursor=0)  # the cursor's move was lost

    assert campaigns.materialise(Campaign.objects.get(pk=campaign.pk), now=timezone.now()) == 4
    assert Dispatch.objects.filter(campaign=campaign).count() == 4
    campaigns.run_due()
    assert sent_to() == {p.email: 1 for p in people}


@pytest.mark.django_db(transaction=True)
def test_two_overlapping_runs_send_nobody_twice(clock, template, use_backend):
    """A run stuck in the middle of a send (a slow server) while the next beat's run goes."""
    people = [subscribed() for _ in range(6)]
    campaign = schedule(template, rate=600)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENDING)
    inside, go_on = threading.Event(), threading.Event()

    def hold_the_first(n: int) -> None:
        if n == 1:
            inside.set()
            go_on.wait(timeout=30)

    HookedBackend.count = 0
    HookedBackend.hook = staticmethod(hold_the_first)  # type: ignore[assignment]
    use_backend(HookedBackend)
    second: list[Any] = []

    def the_next_beat(_: list[Any]) -> None:
        assert inside.wait(timeout=30)
        try:
            second.append(campaigns.run_campaign(campaign_id=campaign.pk))
        finally:
            go_on.set()

    results = race(
        1,
        lambda _: campaigns.run_campaign(campaign_id=campaign.pk).sent,
        while_running=the_next_beat,
        timeout=60,
    )

    assert results == [1]  # the one it held; the second run sent the rest
    assert second[0].sent == 5
    assert sent_to() == {p.email: 1 for p in people}
    assert Dispatch.objects.filter(campaign=campaign, state=Dispatch.State.SENT).count() == 6


@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True)
def test_runs_at_once_send_nobody_twice_and_keep_to_the_rate(clock, template):
    """Racing threads, each with its own connection (on SQLite's shared in-memory test
    database a second writer fails at once instead of waiting: the test above is the overlap
    both databases run)."""
    people = [subscribed() for _ in range(12)]
    campaign = schedule(template, rate=8)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENDING)
    campaigns.materialise(Campaign.objects.get(pk=campaign.pk), now=timezone.now())

    results = race(4, lambda n: campaigns.run_campaign(campaign_id=campaign.pk).sent)

    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sum(results) == len(mail.outbox) == 8
    assert max(sent_to().values()) == 1
    clock.shift(timedelta(minutes=1))
    results = race(4, lambda n: campaigns.run_campaign(campaign_id=campaign.pk).sent)
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sent_to() == {p.email: 1 for p in people}


@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True)
def test_many_runs_racing_from_the_start_send_everyone_once(clock, template):
    people = [subscribed() for _ in range(40)]
    campaign = schedule(template, rate=600)

    results = race(6, lambda n: campaigns.run_due())

    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sum(results) == 40
    assert sent_to() == {p.email: 1 for p in people}
    assert Dispatch.objects.filter(campaign=campaign).count() == 40


# --- counters -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_counters_equal_the_per_recipient_rows(
    clock, template, use_backend, settings, staff_client, django_assert_max_num_queries
):
    settings.EMAIL_RETRY_DELAYS = []  # the first failure is the last
    people = [subscribed() for _ in range(6)]
    campaign = schedule(template)
    RefusingBackend.refuse = {people[0].email}
    use_backend(RefusingBackend)
    campaigns.run_due()
    Dispatch.objects.filter(campaign=campaign, user=people[1]).update(delivery_status="bounced")
    newsletter.unsubscribe(services.unsubscribe_token(people[2].email, campaign.pk))
    newsletter.unsubscribe(services.unsubscribe_token(people[3].email))  # not from a campaign

    with django_assert_max_num_queries(2):  # the caller, the campaign with its counters
        body = staff_client.get(f"{LIST_URL}{campaign.pk}/").json()

    rows = Dispatch.objects.filter(campaign=campaign)
    assert body["total"] == rows.count() == 6
    assert body["sent"] == rows.filter(state=Dispatch.State.SENT).count() == 5
    assert body["failed"] == rows.filter(state=Dispatch.State.DEAD).count() == 1
    assert body["bounced"] == rows.filter(delivery_status="bounced").count() == 1
    assert body["unsubscribed"] == Subscriber.objects.filter(unsubscribed_from=campaign).count()
    assert body["unsubscribed"] == 1
    assert (body["waiting"], body["skipped"], body["status"]) == (0, 0, "finished")
    assert Campaign.objects.get(pk=campaign.pk).total == 6


# --- the staff API ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_staff_schedule_a_campaign(clock, template, staff_client, staff_user):
    response = staff_client.post(
        LIST_URL,
        {
            "template_id": template.pk,
            "segment": {"filters": {"account_type": "buyer", "total_spent": {"gte": 100}}},
            "scheduled_at": "2026-06-02T09:00:00Z",
            "rate_per_minute": 120,
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "June news 2026-06-02 09:00"
    assert body["status"] == "scheduled"
    assert body["segment"] == {
        "filters": {"account_type": ["buyer"], "total_spent": {"gte": "100"}}
    }
    assert body["rate_per_minute"] == 120
    assert body["scheduled_at"] == "2026-06-02T09:00:00Z"
    counters = ("total", "waiting", "sent", "failed", "skipped", "bounced", "unsubscribed")
    assert [body[c] for c in counters] == [0] * len(counters)
    assert Campaign.objects.get(pk=body["id"]).created_by == staff_user


@pytest.mark.django_db
def test_the_campaign_list_and_its_query_budget(
    clock, template, staff_client, django_assert_max_num_queries
):
    for n in range(3):
        subscribed()
        schedule(template, name=f"c{n}", scheduled_at=START + timedelta(days=n))
    campaigns.run_due()

    with django_assert_max_num_queries(3):  # the caller, the count, the page with its counters
        body = staff_client.get(LIST_URL).json()

    assert body["count"] == 3
    assert [c["name"] for c in body["results"]] == ["c2", "c1", "c0"]
    assert body["results"][2]["sent"] == 3


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"template_id": 0}, "template_id"),
        ({"template_id": "welcome"}, "template_id"),
        ({"rate_per_minute": 0}, "rate_per_minute"),
        ({"scheduled_at": "tomorrow"}, "scheduled_at"),
        ({"segment": {"filters": {"is_active": "yes"}}}, "segment"),
        ({"segment": {"filters": {"nope": 1}}}, "segment"),
        ({"segment": "buyers"}, "segment"),
    ],
)
@pytest.mark.django_db
def test_a_bad_campaign_is_a_400(template, staff_client, change, field):
    other = Template.objects.create(name="Hi", kind="welcome", subject="Hi", html="<p>Hi</p>")
    body = {"template_id": template.pk, "segment": {"filters": {}},
            "scheduled_at": "2026-06-02T09:00:00Z"}  # fmt: skip
    if change.get("template_id") == "welcome":
        change = {"template_id": other.pk}
    response = staff_client.post(LIST_URL, {**body, **change}, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    assert list(response.json()["details"]) == [field]
    assert not Campaign.objects.exists()


@pytest.mark.django_db
def test_a_bad_filter_is_named_inside_the_segment(template, staff_client):
    body = {"template_id": template.pk, "scheduled_at": "2026-06-02T09:00:00Z",
            "segment": {"filters": {"cart_state": "lost", "city": "Khartoum"}}}  # fmt: skip
    details = staff_client.post(LIST_URL, body, format="json").json()["details"]
    assert list(details["segment"]["filters"]) == ["cart_state"]


@pytest.mark.django_db
def test_pause_resume_and_cancel_through_the_api(clock, template, staff_client):
    subscribed()
    campaign = schedule(template, scheduled_at=START + timedelta(hours=1))
    url = f"{LIST_URL}{campaign.pk}/"

    response = staff_client.post(f"{url}resume/")
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"
    assert staff_client.post(f"{url}pause/").json()["status"] == "paused"
    assert staff_client.post(f"{url}pause/").status_code == 409
    assert staff_client.post(f"{url}resume/").json()["status"] == "scheduled"
    assert staff_client.post(f"{url}cancel/").json()["status"] == "cancelled"
    assert staff_client.post(f"{url}cancel/").status_code == 409
    assert staff_client.get(url).json()["status"] == "cancelled"
    assert staff_client.get(f"{LIST_URL}{campaign.pk + 1}/").status_code == 404
    assert staff_client.post(f"{LIST_URL}{campaign.pk + 1}/pause/").status_code == 404


@pytest.mark.django_db
def test_every_campaign_endpoint_is_staff_only(template, api_client, make_auth_client):
    campaign = schedule(template)
    url = f"{LIST_URL}{campaign.pk}/"
    calls = [
        ("get", LIST_URL),
        ("post", LIST_URL),
        ("get", url),
        ("post", f"{url}pause/"),
        ("post", f"{url}resume/"),
        ("post", f"{url}cancel/"),
        ("post", "/api/notifications/segments/preview/"),
    ]
    buyer, owner = make_auth_client(UserFactory()), make_auth_client(OwnerFactory())
    for method, path in calls:
        assert getattr(api_client, method)(path, {}, format="json").status_code == 401, path
        for client in (buyer, owner):
            response = getattr(client, method)(path, {}, format="json")
            assert response.status_code == 403, path
            assert response.json()["code"] == "permission_denied"
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.SCHEDULED


# --- the admin ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_admin_shows_counters_and_pauses_resumes_and_cancels_through_the_services(
    clock, template, client, django_assert_max_num_queries
):
    admin = User.objects.create_superuser("boss@example.com", password="x" * 20)
    client.force_login(admin)
    for _ in range(3):
        subscribed()
    running, waiting = schedule(template, name="running", rate=2), schedule(template, name="later")
    Campaign.objects.filter(pk=waiting.pk).update(scheduled_at=START + timedelta(days=1))
    campaigns.run_due()
    url = "/admin/notifications/campaign/"

    with django_assert_max_num_queries(8):
        listing = client.get(url)
    assert listing.status_code == 200
    row = next(r for r in listing.context["cl"].result_list if r.pk == running.pk)
    assert (row.recipients, row.sent, row.waiting) == (3, 2, 1)
    assert client.get(f"{url}{running.pk}/change/").status_code == 200

    def act(action: str, *campaign_list: Campaign) -> list[str]:
        response = client.post(
            url,
            {"action": action, "_selected_action": [c.pk for c in campaign_list]},
            follow=True,
        )
        return [str(m) for m in response.context["messages"]]

    assert act("pause", running, waiting) == ["2 campaign(s) paused."]
    assert act("pause", running) == ["A paused campaign can't become paused."]
    assert act("resume", running, waiting) == ["2 campaign(s) resumed."]
    assert Campaign.objects.get(pk=waiting.pk).status == Campaign.Status.SCHEDULED
    assert act("cancel", running) == ["1 campaign(s) cancelled."]
    assert Dispatch.objects.get(campaign=running, state=Dispatch.State.SKIPPED).skip_reason == (
        "cancelled"
    )
