"""The newsletter: double opt-in, confirmation tokens, RFC 8058 one-click unsubscribe, throttles."""

import email
import email.policy
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import mail, signing
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import UserFactory
from notifications import newsletter, services
from notifications.models import Campaign, Dispatch, Subscriber, Template

pytestmark = pytest.mark.django_db

SUBSCRIBE = "/api/newsletter/subscribe/"
CONFIRM = "/api/newsletter/confirm/"
UNSUBSCRIBE = "/api/newsletter/unsubscribe/"
CONFIRM_LINK = re.compile(r"https?://\S+/newsletter/confirm/\?token=(\S+)")
ONE_CLICK = "List-Unsubscribe=One-Click"


@pytest.fixture
def subscribe(api_client: APIClient, django_capture_on_commit_callbacks):
    """POST /subscribe/ and run what it queued on commit (the confirmation email)."""

    def post(address: str | None, client: APIClient | None = None, **extra):
        body = {} if address is None else {"email": address}
        with django_capture_on_commit_callbacks(execute=True):
            return (client or api_client).post(SUBSCRIBE, body, format="json", **extra)

    return post


def emails_to(address: str) -> list[mail.EmailMessage]:
    return [message for message in mail.outbox if address in message.to]


def confirm_tokens(address: str) -> list[str]:
    tokens = []
    for message in emails_to(address):
        match = CONFIRM_LINK.search(message.body)
        if match:
            tokens.append(match.group(1))
    return tokens


def parsed(message: mail.EmailMessage) -> email.message.EmailMessage:
    return email.message_from_bytes(message.message().as_bytes(), policy=email.policy.default)


def subscribed(address: str = "amna@example.com") -> Subscriber:
    return Subscriber.objects.create(
        address=address, status=Subscriber.Status.SUBSCRIBED, confirmed_at=timezone.now()
    )


def rates(settings, **scopes: str) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **scopes},
    }


def tampered(token: str) -> str:
    value, _, signature = token.rpartition(":")
    return f"{value}:{signature[:-2]}{'AA' if not signature.endswith('AA') else 'BB'}"


# --- subscribing and confirming ------------------------------------------------------------------


def test_subscribing_emails_a_link_that_confirms_the_subscription(subscribe, api_client):
    response = subscribe("Amna@Example.com")

    assert response.status_code == 202
    subscriber = Subscriber.objects.get()
    assert (subscriber.address, subscriber.status) == ("amna@example.com", "pending")
    (message,) = emails_to("amna@example.com")
    assert "Confirm your subscription" in message.subject
    html = message.alternatives[0][0]
    assert "/newsletter/confirm/?token=" in html  # the page with the confirm button
    (token,) = confirm_tokens("amna@example.com")

    confirmed = api_client.get(CONFIRM, {"token": token})

    assert confirmed.status_code == 200
    assert confirmed.json() == {"status": "subscribed"}
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.SUBSCRIBED
    assert subscriber.confirmed_at is not None
    # A second click (or a mail scanner's) answers the same and changes nothing.
    again = api_client.get(CONFIRM, {"token": token})
    assert again.status_code == 200
    assert again.json() == {"status": "subscribed"}
    assert Subscriber.objects.get().confirmed_at == subscriber.confirmed_at


def test_new_pending_subscribed_and_unsubscribed_addresses_get_identical_answers(subscribe):
    subscribed("subscribed@example.com")
    Subscriber.objects.create(address="pending@example.com")
    Subscriber.objects.create(
        address="left@example.com",
        status=Subscriber.Status.UNSUBSCRIBED,
        unsubscribed_at=timezone.now(),
    )

    answers = [
        subscribe(address)
        for address in (
            "new@example.com",
            "pending@example.com",
            "subscribed@example.com",
            "left@example.com",
        )
    ]

    assert {a.status_code for a in answers} == {202}
    assert len({a.content for a in answers}) == 1
    # Everyone but the subscribed address is asked to confirm; the subscribed one hears nothing.
    assert len(emails_to("new@example.com")) == 1
    assert len(emails_to("pending@example.com")) == 1
    assert len(emails_to("left@example.com")) == 1
    assert emails_to("subscribed@example.com") == []
    statuses = dict(Subscriber.objects.values_list("address", "status"))
    assert statuses == {
        "new@example.com": "pending",
        "pending@example.com": "pending",
        "subscribed@example.com": "subscribed",
        "left@example.com": "pending",  # must confirm again
    }


def test_a_double_click_sends_one_confirmation_and_asking_later_sends_a_fresh_one(subscribe):
    subscribe("amna@example.com")
    subscribe("amna@example.com")

    assert len(emails_to("amna@example.com")) == 1
    assert Dispatch.objects.filter(kind="newsletter_confirm").count() == 1

    later = timezone.now() + newsletter.CONFIRM_RESEND_AFTER + timedelta(seconds=1)
    with time_machine.travel(later, tick=False):
        subscribe("amna@example.com")

    assert len(emails_to("amna@example.com")) == 2  # the first may be lost in a spam folder


def test_resubscribing_after_unsubscribing_sends_a_new_confirmation_and_old_links_stop(
    subscribe, api_client
):
    subscribe("amna@example.com")
    (first_token,) = confirm_tokens("amna@example.com")
    assert api_client.get(CONFIRM, {"token": first_token}).status_code == 200
    newsletter.unsubscribe(services.unsubscribe_token("amna@example.com"))

    # An old confirmation link can't undo the unsubscribe...
    stale = api_client.get(CONFIRM, {"token": first_token})
    assert stale.status_code == 400
    assert stale.json()["code"] == "invalid_token"
    assert Subscriber.objects.get().status == Subscriber.Status.UNSUBSCRIBED

    # ...asking again does (at once, in the same resend window), with a new link.
    subscribe("amna@example.com")
    tokens = confirm_tokens("amna@example.com")
    assert len(tokens) == 2
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING
    assert api_client.get(CONFIRM, {"token": first_token}).status_code == 400
    assert api_client.get(CONFIRM, {"token": tokens[-1]}).json() == {"status": "subscribed"}
    assert Subscriber.objects.get().status == Subscriber.Status.SUBSCRIBED


def test_a_signed_in_user_without_an_email_subscribes_their_own_address(
    subscribe, make_auth_client
):
    user = UserFactory(email="omer@example.com", language="en")
    client = make_auth_client(user)

    response = subscribe(None, client=client)

    assert response.status_code == 202
    subscriber = Subscriber.objects.get()
    assert (subscriber.address, subscriber.user_id, subscriber.language) == (
        "omer@example.com",
        user.pk,
        "en",
    )
    assert len(emails_to("omer@example.com")) == 1


def test_a_signed_in_user_subscribing_another_address_does_not_link_it(subscribe, make_auth_client):
    client = make_auth_client(UserFactory(email="omer@example.com"))

    subscribe("someone@example.com", client=client)

    assert Subscriber.objects.get(address="someone@example.com").user_id is None


def test_an_anonymous_subscribe_without_an_email_is_invalid(subscribe):
    response = subscribe(None)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "email" in response.json()["details"]
    assert not Subscriber.objects.exists()


def test_confirming_with_a_tampered_token_is_refused_and_changes_nothing(subscribe, api_client):
    subscribe("amna@example.com")
    (token,) = confirm_tokens("amna@example.com")
    forged = signing.dumps({"s": 1, "a": "amna@example.com", "p": 0}, salt="another-salt")

    answers = [api_client.get(CONFIRM, {"token": t}) for t in (tampered(token), forged, "junk")]

    assert [a.status_code for a in answers] == [400, 400, 400]
    assert {a.json()["code"] for a in answers} == {"invalid_token"}
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING


def test_confirming_with_an_expired_token_is_refused_and_changes_nothing(subscribe, api_client):
    subscribe("amna@example.com")
    (token,) = confirm_tokens("amna@example.com")

    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1), tick=False):
        response = api_client.get(CONFIRM, {"token": token})

    assert response.status_code == 400
    assert response.json()["code"] == "token_expired"
    subscriber = Subscriber.objects.get()
    assert (subscriber.status, subscriber.confirmed_at) == ("pending", None)


def test_confirm_without_a_token_is_a_validation_error(api_client):
    response = api_client.get(CONFIRM)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "token" in response.json()["details"]


# --- throttles -----------------------------------------------------------------------------------


def test_subscribing_one_address_is_throttled_whoever_asks(settings, subscribe):
    rates(settings, newsletter="100/hour", newsletter_email="3/hour")

    answers = [subscribe("amna@example.com", REMOTE_ADDR=f"203.0.113.{n}") for n in range(4)]

    assert [a.status_code for a in answers] == [202, 202, 202, 429]
    assert answers[-1].json()["code"] == "throttled"
    assert 1 <= int(answers[-1]["Retry-After"]) <= 3600
    # The address's limit is the address's: another one from the same IP is fine.
    assert subscribe("omer@example.com", REMOTE_ADDR="203.0.113.3").status_code == 202


def test_subscribing_is_throttled_per_ip_across_addresses(settings, subscribe):
    rates(settings, newsletter="3/hour", newsletter_email="100/hour")

    answers = [subscribe(f"reader{n}@example.com") for n in range(4)]

    assert [a.status_code for a in answers] == [202, 202, 202, 429]
    assert answers[-1].json()["code"] == "throttled"
    assert "Retry-After" in answers[-1].headers
    assert not Subscriber.objects.filter(address="reader3@example.com").exists()
    assert subscribe("reader3@example.com", REMOTE_ADDR="198.51.100.9").status_code == 202


def test_the_default_rates_allow_three_confirmations_per_address_an_hour(subscribe):
    answers = [subscribe("amna@example.com").status_code for _ in range(4)]

    assert answers == [202, 202, 202, 429]


# --- marketing email headers and one-click unsubscribe -------------------------------------------


def send_newsletter(address: str, key: str = "newsletter:test:1") -> mail.EmailMessage:
    dispatch = services.notify(
        "newsletter", key=key, user_id=None, address=address, context={"first_name": "Amna"}
    )
    assert dispatch is not None
    assert services.deliver(dispatch.pk) == Dispatch.State.SENT
    (message,) = [m for m in emails_to(address) if "List-Unsubscribe" in m.extra_headers]
    return message


def unsubscribe_link(message: mail.EmailMessage) -> str:
    # A long header is folded onto its own line (valid RFC 5322): the value may start with
    # the fold's whitespace.
    header = str(parsed(message)["List-Unsubscribe"]).strip()
    match = re.fullmatch(r"<(https://[^>]+)>", header)
    assert match, header
    return match.group(1)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_marketing_email_carries_one_click_unsubscribe_headers_and_transactional_does_not(
    settings, subscribe
):
    settings.PUBLIC_URL = "https://shop.example.com"
    subscribe("amna@example.com")
    (confirmation,) = emails_to("amna@example.com")

    marketing = parsed(send_newsletter("amna@example.com"))

    header = str(marketing["List-Unsubscribe"]).strip()
    assert re.fullmatch(
        r"<https://shop\.example\.com/api/newsletter/unsubscribe/\?token=[^>\s]+>", header
    )
    assert marketing["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # The fallback template greets and links the unsubscribe page (same token) in both parts.
    link = header[1:-1].replace("/api/newsletter/", "/newsletter/")
    text = marketing.get_body(preferencelist=("plain",)).get_content()
    html = marketing.get_body(preferencelist=("html",)).get_content()
    assert "Hello Amna" in text
    assert link in text
    assert link.replace("&", "&amp;") in html
    transactional = parsed(confirmation)
    assert transactional["List-Unsubscribe"] is None
    assert transactional["List-Unsubscribe-Post"] is None


def test_one_click_post_from_the_header_unsubscribes_without_auth_or_csrf(settings):
    settings.PUBLIC_URL = "https://shop.example.com"
    subscriber = subscribed()
    url = unsubscribe_link(send_newsletter(subscriber.address))
    mail_client = APIClient(enforce_csrf_checks=True)  # no credentials, no cookie, no CSRF token

    response = mail_client.post(
        path_of(url), data=ONE_CLICK, content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 200
    assert response.json() == {"status": "unsubscribed"}
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED
    assert subscriber.unsubscribed_at is not None
    assert subscriber.unsubscribed_from is None
    # Clicking again is fine and keeps the first unsubscription.
    again = mail_client.post(
        path_of(url), data=ONE_CLICK, content_type="application/x-www-form-urlencoded"
    )
    assert again.status_code == 200
    assert Subscriber.objects.get().unsubscribed_at == subscriber.unsubscribed_at


def test_unsubscribe_post_needs_no_csrf_token_even_with_a_session_cookie():
    subscriber = subscribed()
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(UserFactory())  # a session cookie, but no CSRF token

    response = browser.post(f"{UNSUBSCRIBE}?token={services.unsubscribe_token(subscriber.address)}")

    assert response.status_code == 200
    assert Subscriber.objects.get().status == Subscriber.Status.UNSUBSCRIBED


def test_one_click_post_is_not_throttled_like_an_anonymous_caller(settings):
    rates(settings, anon="2/min")
    tokens = [services.unsubscribe_token(f"reader{n}@example.com") for n in range(4)]
    client = APIClient()

    answers = [
        client.post(
            f"{UNSUBSCRIBE}?token={token}",
            data=ONE_CLICK,
            content_type="application/x-www-form-urlencoded",
        ).status_code
        for token in tokens
    ]

    assert answers == [200, 200, 200, 200]


def test_unsubscribing_from_a_campaign_records_the_campaign(api_client):
    subscriber = subscribed()
    template = Template.objects.create(name="Eid", kind="newsletter", subject="Eid", html="<p>")
    campaign = Campaign.objects.create(
        name="Eid offers", template=template, scheduled_at=timezone.now()
    )
    token = services.unsubscribe_token(subscriber.address, campaign.pk)

    response = api_client.post(
        f"{UNSUBSCRIBE}?token={token}",
        data=ONE_CLICK,
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.unsubscribed_from == campaign


def test_unsubscribing_an_address_with_no_subscription_records_the_opt_out(api_client):
    token = services.unsubscribe_token("buyer@example.com", 999_999)  # the campaign is gone

    response = api_client.post(f"{UNSUBSCRIBE}?token={token}")

    assert response.status_code == 200
    subscriber = Subscriber.objects.get()
    assert (subscriber.address, subscriber.status) == ("buyer@example.com", "unsubscribed")
    assert subscriber.unsubscribed_from is None


def test_a_tampered_unsubscribe_token_is_refused_and_changes_nothing(api_client):
    subscriber = subscribed()
    token = services.unsubscribe_token(subscriber.address)
    someone_else = signing.dumps({"a": subscriber.address, "c": None}, salt="another-salt")

    answers = [
        api_client.post(
            f"{UNSUBSCRIBE}?token={bad}",
            data=ONE_CLICK,
            content_type="application/x-www-form-urlencoded",
        )
        for bad in (tampered(token), someone_else)
    ]
    preview = api_client.get(UNSUBSCRIBE, {"token": tampered(token)})

    assert [a.status_code for a in answers] == [400, 400]
    assert {a.json()["code"] for a in answers} == {"invalid_token"}
    assert preview.status_code == 400
    subscriber.refresh_from_db()
    assert (subscriber.status, subscriber.unsubscribed_at) == ("subscribed", None)


def test_get_shows_what_unsubscribing_will_do_and_changes_nothing(api_client):
    subscriber = subscribed()
    token = services.unsubscribe_token(subscriber.address)

    response = api_client.get(UNSUBSCRIBE, {"token": token})

    assert response.status_code == 200
    assert response.json() == {
        "address": "a***@example.com",
        "status": "subscribed",
        "action": "unsubscribe",
    }
    subscriber.refresh_from_db()
    assert (subscriber.status, subscriber.unsubscribed_at) == ("subscribed", None)

    newsletter.unsubscribe(token)
    after = api_client.get(UNSUBSCRIBE, {"token": token})
    assert after.json() == {
        "address": "a***@example.com",
        "status": "unsubscribed",
        "action": "none",
    }


def test_get_for_an_address_with_no_subscription_offers_to_record_the_opt_out(api_client):
    token = services.unsubscribe_token("buyer@example.com")

    response = api_client.get(UNSUBSCRIBE, {"token": token})

    assert response.json() == {
        "address": "b***@example.com",
        "status": "not_subscribed",
        "action": "unsubscribe",
    }
    assert not Subscriber.objects.exists()


# --- admin ---------------------------------------------------------------------------------------


def test_staff_find_subscribers_by_address_and_unsubscribe_them():
    amna, omer = subscribed("amna@example.com"), subscribed("omer@example.com")
    browser = Client()
    browser.force_login(User.objects.create_superuser("boss@example.com", password="x-Pass-1234"))
    changelist = "/admin/notifications/subscriber/"

    found = browser.get(changelist, {"q": "amna", "status__exact": "subscribed"})
    acted = browser.post(
        changelist, {"action": "unsubscribe", "_selected_action": [amna.pk]}, follow=True
    )

    assert found.status_code == 200
    assert b"amna@example.com" in found.content
    assert b"omer@example.com" not in found.content
    assert acted.status_code == 200
    assert b"1 subscriber(s) unsubscribed." in acted.content
    amna.refresh_from_db()
    omer.refresh_from_db()
    assert (amna.status, omer.status) == ("unsubscribed", "subscribed")
    assert amna.unsubscribed_at is not None
