"""The providers' delivery, bounce and complaint webhooks, driven over HTTP through
django-anymail's real views with each provider's own payload format and a real signature
computed here: Mailgun (HMAC-SHA256 of timestamp + token), Resend (Svix headers), Postmark
(basic auth). Then what an event does: the dispatch's delivery status, suppression of the
address for marketing (not for transactional mail), a replay that changes nothing."""

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest
from anymail.exceptions import AnymailInsecureWebhookWarning
from django.core.checks import registry
from django.test import Client, override_settings
from django.utils import timezone

from accounts.models import User
from notifications import apis_tracking, tracking
from notifications.models import (
    Campaign,
    Dispatch,
    Subscriber,
    Suppression,
    Template,
    TrackingEvent,
)
from notifications.services import notify

pytestmark = pytest.mark.django_db

MAILGUN_KEY = "mailgun-webhook-signing-key-0123456789abcdef"
RESEND_SECRET = "whsec_" + base64.b64encode(b"resend-test-signing-key-32-bytes").decode()
BASIC_AUTH = "postmark-hook:s3cret-Passw0rd"
ALL_KEYS = {
    "WEBHOOK_SECRET": BASIC_AUTH,
    "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY,
    "RESEND_SIGNING_SECRET": RESEND_SECRET,
}
MAILGUN_URL = "/api/notifications/esp/mailgun/tracking/"
RESEND_URL = "/api/notifications/esp/resend/tracking/"
POSTMARK_URL = "/api/notifications/esp/postmark/tracking/"
ADDRESS = "amna@example.com"


@pytest.fixture(autouse=True)
def _keys() -> Iterator[None]:
    """Every provider configured as in production; a test that needs otherwise overrides."""
    with override_settings(ANYMAIL=ALL_KEYS):
        yield


@pytest.fixture
def client() -> Client:
    # Providers send no CSRF token: the webhooks must not need one.
    return Client(enforce_csrf_checks=True)


def sent_dispatch(
    esp_message_id: str, *, address: str = ADDRESS, kind: str = "welcome", **extra: Any
) -> Dispatch:
    return Dispatch.objects.create(
        key=f"test:{esp_message_id}",
        kind=kind,
        address=address,
        state="sent",
        esp_message_id=esp_message_id,
        **extra,
    )


def basic(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


def status_of(dispatch: Dispatch) -> str:
    dispatch.refresh_from_db()
    return dispatch.delivery_status


# --- Mailgun: JSON "event-data" with a signature block -------------------------------------------


def mailgun_event(event: str, message_id: str, *, recipient: str = ADDRESS, **extra: Any) -> dict:
    """Mailgun's webhook ``event-data`` (its documentation's sample, trimmed)."""
    return {
        "event": event,
        "timestamp": 1714557600.329574,
        "id": secrets.token_urlsafe(16),
        "log-level": "info",
        "recipient": recipient,
        "recipient-domain": recipient.split("@")[1],
        "envelope": {"transport": "smtp", "sender": "no-reply@mg.sudamall.test"},
        "message": {
            "headers": {
                "to": f"Amna <{recipient}>",
                "message-id": message_id.strip("<>"),  # Mailgun leaves the brackets off here
                "from": "Sudamall <no-reply@mg.sudamall.test>",
                "subject": "Welcome to Sudamall",
            },
            "attachments": [],
            "size": 2048,
        },
        "flags": {"is-authenticated": True, "is-test-mode": False},
        "tags": [],
        "user-variables": {},
        **extra,
    }


def mailgun_body(event_data: dict, *, key: str = MAILGUN_KEY, token: str | None = None) -> bytes:
    timestamp = str(int(time.time()))
    token = token or secrets.token_hex(25)
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return json.dumps(
        {
            "signature": {"timestamp": timestamp, "token": token, "signature": signature},
            "event-data": event_data,
        }
    ).encode()


def post_mailgun(client: Client, body: bytes, *, credentials: str | None = BASIC_AUTH) -> Any:
    # With ANYMAIL_WEBHOOK_SECRET set, every provider also sends it (in the URL given to it).
    headers = {"HTTP_AUTHORIZATION": basic(credentials)} if credentials else {}
    return client.post(MAILGUN_URL, body, content_type="application/json", **headers)


def hard_bounce(message_id: str, recipient: str = ADDRESS) -> dict:
    return mailgun_event(
        "failed",
        message_id,
        recipient=recipient,
        severity="permanent",
        reason="bounce",
        **{
            "delivery-status": {
                "code": 550,
                "message": "5.1.1 The email account that you tried to reach does not exist.",
                "description": "",
                "attempt-no": 1,
            }
        },
    )


def test_a_delivered_event_sets_the_dispatchs_delivery_status(client):
    dispatch = sent_dispatch("<20240501.1@mg.sudamall.test>")

    response = post_mailgun(
        client, mailgun_body(mailgun_event("delivered", "<20240501.1@mg.sudamall.test>"))
    )

    assert response.status_code == 200
    assert status_of(dispatch) == "delivered"
    stored = TrackingEvent.objects.get(message_id="<20240501.1@mg.sudamall.test>")
    assert (stored.provider, stored.event_type, stored.recipient) == (
        "mailgun",
        "delivered",
        ADDRESS,
    )
    assert stored.occurred_at is not None
    assert stored.payload["event-data"]["event"] == "delivered"


def test_a_bad_mailgun_signature_is_refused_and_nothing_is_stored(client):
    dispatch = sent_dispatch("<20240501.2@mg.sudamall.test>")
    forged = mailgun_body(hard_bounce("<20240501.2@mg.sudamall.test>"), key="not-the-key")

    response = post_mailgun(client, forged)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert set(response.json()) == {"code", "message", "details"}
    assert not TrackingEvent.objects.exists()
    assert not Suppression.objects.exists()
    assert status_of(dispatch) == ""


def test_with_a_webhook_secret_set_a_signed_call_without_it_is_refused(client):
    body = mailgun_body(mailgun_event("delivered", "<20240501.13@mg.sudamall.test>"))

    response = post_mailgun(client, body, credentials=None)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert not TrackingEvent.objects.exists()


def test_a_mailgun_body_whose_event_was_altered_after_signing_is_still_its_signers_token(client):
    """Mailgun signs timestamp + token only; the token is the event id, so an altered replay of
    a signed body is the same event and is not applied a second time."""
    sent_dispatch("<20240501.3@mg.sudamall.test>")
    body = mailgun_body(mailgun_event("delivered", "<20240501.3@mg.sudamall.test>"))
    altered = json.loads(body)
    altered["event-data"] = hard_bounce("<20240501.3@mg.sudamall.test>")

    assert post_mailgun(client, body).status_code == 200
    assert post_mailgun(client, json.dumps(altered).encode()).status_code == 200

    assert TrackingEvent.objects.count() == 1
    assert not Suppression.objects.exists()


def test_a_replayed_event_stores_one_row_and_changes_nothing(client):
    dispatch = sent_dispatch("<20240501.4@mg.sudamall.test>")
    body = mailgun_body(hard_bounce("<20240501.4@mg.sudamall.test>"))
    assert post_mailgun(client, body).status_code == 200
    assert status_of(dispatch) == "bounced"
    # Staff clear what the first delivery did; a replay must not do it again.
    Dispatch.objects.filter(pk=dispatch.pk).update(delivery_status="")
    Suppression.objects.all().delete()

    again = post_mailgun(client, body)

    assert again.status_code == 200
    assert TrackingEvent.objects.count() == 1
    assert status_of(dispatch) == ""
    assert not Suppression.objects.exists()


def test_a_hard_bounce_stops_marketing_mail_but_not_transactional_mail(client):
    dispatch = sent_dispatch("<20240501.5@mg.sudamall.test>")

    response = post_mailgun(
        client,
        mailgun_body(hard_bounce("<20240501.5@mg.sudamall.test>", recipient="Amna@Example.com")),
    )

    assert response.status_code == 200
    assert status_of(dispatch) == "bounced"
    suppression = Suppression.objects.get()
    assert (suppression.address, suppression.reason) == (ADDRESS, "bounced")
    assert "does not exist" in suppression.detail
    newsletter = notify(
        "newsletter", key="newsletter:t1", address="Amna@example.com", context={"first_name": "x"}
    )
    welcome = notify("welcome", key="welcome:t1", address=ADDRESS, context={"first_name": "x"})
    assert newsletter is not None
    assert welcome is not None
    assert (newsletter.state, newsletter.skip_reason) == ("skipped", "suppressed")
    assert (welcome.state, welcome.skip_reason) == ("queued", "")


def test_a_temporary_mailgun_failure_is_a_deferral_and_suppresses_nothing(client):
    dispatch = sent_dispatch("<20240501.6@mg.sudamall.test>")
    mailbox_full = mailgun_event(
        "failed",
        "<20240501.6@mg.sudamall.test>",
        severity="temporary",
        reason="generic",
        **{"delivery-status": {"code": 452, "message": "4.2.2 Mailbox full", "attempt-no": 1}},
    )

    assert post_mailgun(client, mailgun_body(mailbox_full)).status_code == 200

    assert status_of(dispatch) == "deferred"
    assert TrackingEvent.objects.get().event_type == "deferred"
    assert not Suppression.objects.exists()


def test_a_permanent_failure_that_is_not_the_address_marks_the_bounce_without_suppressing(client):
    dispatch = sent_dispatch("<20240501.7@mg.sudamall.test>")
    gave_up = mailgun_event(
        "failed", "<20240501.7@mg.sudamall.test>", severity="permanent", reason="old"
    )

    assert post_mailgun(client, mailgun_body(gave_up)).status_code == 200

    assert status_of(dispatch) == "bounced"
    assert not Suppression.objects.exists()


def test_a_complaint_suppresses_the_address(client):
    dispatch = sent_dispatch("<20240501.8@mg.sudamall.test>")

    post_mailgun(client, mailgun_body(mailgun_event("complained", "<20240501.8@mg.sudamall.test>")))

    assert status_of(dispatch) == "complained"
    assert Suppression.objects.get().reason == "complained"
    skipped = notify("newsletter", key="newsletter:t2", address=ADDRESS, context={})
    assert skipped is not None
    assert skipped.skip_reason == "suppressed"


@pytest.mark.parametrize(
    ("events", "final"),
    [
        (["failed", "delivered", "opened"], "bounced"),  # a late delivered/opened keeps the bounce
        (["delivered", "opened", "delivered"], "opened"),
        (["opened", "complained", "clicked"], "complained"),
        (["delivered", "failed"], "bounced"),
    ],
)
def test_the_delivery_status_never_moves_back(client, events, final):
    dispatch = sent_dispatch("<20240501.9@mg.sudamall.test>")
    for event in events:
        data = (
            hard_bounce("<20240501.9@mg.sudamall.test>")
            if event == "failed"
            else mailgun_event(event, "<20240501.9@mg.sudamall.test>")
        )
        assert post_mailgun(client, mailgun_body(data)).status_code == 200

    assert status_of(dispatch) == final
    assert TrackingEvent.objects.count() == len(events)


def test_an_unsubscribe_reported_by_the_provider_unsubscribes_the_subscriber(client):
    staff = User.objects.create_user("ops@example.com", password="x-Pass-1234", is_staff=True)
    template = Template.objects.create(
        name="news-1", kind="newsletter", subject="News", html="<p>News</p>"
    )
    campaign = Campaign.objects.create(
        name="May", template=template, scheduled_at=timezone.now(), created_by=staff
    )
    sent_dispatch("<20240501.10@mg.sudamall.test>", kind="newsletter", campaign=campaign)
    subscriber = Subscriber.objects.create(address=ADDRESS, status="subscribed")

    post_mailgun(
        client, mailgun_body(mailgun_event("unsubscribed", "<20240501.10@mg.sudamall.test>"))
    )

    subscriber.refresh_from_db()
    assert subscriber.status == "unsubscribed"
    assert subscriber.unsubscribed_at is not None
    assert subscriber.unsubscribed_from == campaign
    assert not Suppression.objects.exists()  # an unsubscribe is the newsletter's, not a bounce


def test_mailgun_without_its_signing_key_is_refused_not_a_server_error(client):
    with override_settings(ANYMAIL={"WEBHOOK_SECRET": BASIC_AUTH}, DEBUG=True):
        response = post_mailgun(client, mailgun_body(mailgun_event("delivered", "<x@mg>")))

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert "MAILGUN_WEBHOOK_SIGNING_KEY" in response.json()["message"]  # DEBUG only says which
    assert not TrackingEvent.objects.exists()


def test_one_webhook_call_stays_within_a_query_budget(client, django_assert_max_num_queries):
    sent_dispatch("<20240501.11@mg.sudamall.test>")
    body = mailgun_body(hard_bounce("<20240501.11@mg.sudamall.test>"))

    # Insert the event, find and advance the dispatch, suppress: five statements, in savepoints.
    with django_assert_max_num_queries(11):
        assert post_mailgun(client, body).status_code == 200


@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True)
def test_the_same_event_delivered_concurrently_is_recorded_once():
    from core.tests.concurrency import race

    sent_dispatch("<20240501.12@mg.sudamall.test>")
    body = mailgun_body(hard_bounce("<20240501.12@mg.sudamall.test>"))

    statuses = race(8, lambda _: post_mailgun(Client(), body).status_code)

    assert statuses == [200] * 8
    assert TrackingEvent.objects.count() == 1
    assert Suppression.objects.count() == 1


# --- Resend: Svix-signed JSON --------------------------------------------------------------------


def resend_event(kind: str, email_id: str, *, to: str = ADDRESS, **data: Any) -> dict:
    """Resend's webhook body (its documentation's sample)."""
    return {
        "type": kind,
        "created_at": "2024-05-01T10:00:12.126Z",
        "data": {
            "created_at": "2024-05-01T10:00:11.894719+00:00",
            "email_id": email_id,
            "from": "Sudamall <no-reply@sudamall.test>",
            "to": [to],
            "subject": "Welcome to Sudamall",
            **data,
        },
    }


def post_resend(
    client: Client,
    payload: dict,
    *,
    secret: str = RESEND_SECRET,
    msg_id: str | None = None,
    sent_at: int | None = None,
) -> Any:
    body = json.dumps(payload).encode()
    msg_id = msg_id or f"msg_{secrets.token_urlsafe(18)}"
    stamp = str(sent_at if sent_at is not None else int(time.time()))
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    return client.post(
        RESEND_URL,
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=basic(BASIC_AUTH),
        HTTP_SVIX_ID=msg_id,
        HTTP_SVIX_TIMESTAMP=stamp,
        HTTP_SVIX_SIGNATURE=f"v1,{base64.b64encode(digest).decode()}",
    )


def test_the_svix_check_matches_the_schemes_published_example():
    """The Standard Webhooks / Svix reference vector: what Resend's signatures are."""
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    headers = {
        "svix-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "svix-timestamp": "1614265330",
        "svix-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    }
    key = tracking.svix_key(secret)
    body = b'{"test": 2432232314}'

    assert apis_tracking.svix_signature_ok(key, body, headers, now=1614265330)
    assert not apis_tracking.svix_signature_ok(key, body + b" ", headers, now=1614265330)
    assert not apis_tracking.svix_signature_ok(key, body, headers, now=1614265330 + 301)


def test_a_resend_delivery_is_recorded_under_its_svix_id(client):
    dispatch = sent_dispatch("4ef9a417-02e9-4d39-ad75-9611e0fcc33c")

    response = post_resend(
        client,
        resend_event("email.delivered", "4ef9a417-02e9-4d39-ad75-9611e0fcc33c"),
        msg_id="msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
    )

    assert response.status_code == 200
    assert status_of(dispatch) == "delivered"
    stored = TrackingEvent.objects.get()
    assert (stored.provider, stored.event_id) == ("resend", "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W")


@pytest.mark.parametrize(
    "tamper", ["wrong secret", "stale timestamp", "no signature"], ids=lambda t: t.replace(" ", "_")
)
def test_a_resend_call_with_a_bad_signature_is_refused(client, tamper):
    payload = resend_event("email.complained", "5a1b9e0c-0000-4000-8000-000000000001")
    if tamper == "wrong secret":
        other = "whsec_" + base64.b64encode(b"someone-else-entirely-32-bytes!!").decode()
        response = post_resend(client, payload, secret=other)
    elif tamper == "stale timestamp":
        response = post_resend(client, payload, sent_at=int(time.time()) - 3600)
    else:
        response = client.post(
            RESEND_URL,
            payload,
            content_type="application/json",
            HTTP_AUTHORIZATION=basic(BASIC_AUTH),
        )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert not TrackingEvent.objects.exists()
    assert not Suppression.objects.exists()


@pytest.mark.parametrize(
    ("bounce", "suppressed"),
    [
        (
            {
                "diagnosticCode": [
                    "smtp; 550 5.5.0 Requested action not taken: mailbox unavailable"
                ],
                "message": "The recipient's email address is on the suppression list because it "
                "has a history of producing hard bounces.",
                "subType": "Suppressed",
                "type": "Permanent",
            },
            True,
        ),
        (
            {
                "message": "The recipient's email provider sent a bounce message because the "
                "recipient's inbox was full.",
                "subType": "MailboxFull",
                "type": "Transient",
            },
            False,
        ),
    ],
    ids=["permanent", "transient"],
)
def test_only_a_permanent_resend_bounce_suppresses(client, bounce, suppressed):
    dispatch = sent_dispatch("7c1c2a8e-0000-4000-8000-000000000002")

    response = post_resend(
        client,
        resend_event("email.bounced", "7c1c2a8e-0000-4000-8000-000000000002", bounce=bounce),
    )

    assert response.status_code == 200
    # A transient bounce is a delay: the dispatch (and a campaign's bounced count) says deferred.
    assert status_of(dispatch) == ("bounced" if suppressed else "deferred")
    assert Suppression.objects.filter(address=ADDRESS, reason="bounced").exists() is suppressed


def test_a_resend_complaint_suppresses(client):
    post_resend(client, resend_event("email.complained", "9d9d-0000-4000-8000-000000000003"))

    assert Suppression.objects.get().reason == "complained"


def test_a_resend_delay_is_a_deferral(client):
    dispatch = sent_dispatch("aa00-0000-4000-8000-000000000004")

    post_resend(client, resend_event("email.delivery_delayed", "aa00-0000-4000-8000-000000000004"))

    assert status_of(dispatch) == "deferred"
    assert not Suppression.objects.exists()


# --- Postmark: basic auth ------------------------------------------------------------------------


def post_postmark(client: Client, payload: Any, *, credentials: str | None = BASIC_AUTH) -> Any:
    headers = {"HTTP_AUTHORIZATION": basic(credentials)} if credentials else {}
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return client.post(POSTMARK_URL, body, content_type="application/json", **headers)


def postmark_delivery(message_id: str) -> dict:
    return {
        "RecordType": "Delivery",
        "ServerID": 23,
        "MessageStream": "outbound",
        "MessageID": message_id,
        "Recipient": ADDRESS,
        "Tag": "welcome",
        "DeliveredAt": "2024-05-01T10:00:54.9070259Z",
        "Details": "smtp;250 2.0.0 OK",
        "Metadata": {},
    }


def postmark_bounce(message_id: str, kind: str, code: int) -> dict:
    return {
        "RecordType": "Bounce",
        "ID": 4323372036854775807 - code,
        "Type": kind,
        "TypeCode": code,
        "Name": kind,
        "Tag": "welcome",
        "MessageID": message_id,
        "Metadata": {},
        "ServerID": 23,
        "MessageStream": "outbound",
        "Description": "The server was unable to deliver your message.",
        "Details": "smtp;550 5.1.1 unknown user",
        "Email": ADDRESS,
        "From": "no-reply@sudamall.test",
        "BouncedAt": "2024-05-01T10:01:54.9070259Z",
        "DumpAvailable": False,
        "Inactive": kind == "HardBounce",
        "CanActivate": True,
        "Subject": "Welcome to Sudamall",
    }


def test_a_postmark_delivery_with_the_right_credentials_is_recorded(client):
    dispatch = sent_dispatch("883953f4-6105-42a2-a16a-77a8eac79483")

    response = post_postmark(client, postmark_delivery("883953f4-6105-42a2-a16a-77a8eac79483"))

    assert response.status_code == 200
    assert status_of(dispatch) == "delivered"


@pytest.mark.parametrize("credentials", [None, "postmark-hook:wrong"], ids=["none", "wrong"])
def test_a_postmark_call_without_the_right_credentials_is_refused(client, credentials):
    dispatch = sent_dispatch("883953f4-0000-4000-8000-000000000005")
    bounce = postmark_bounce("883953f4-0000-4000-8000-000000000005", "HardBounce", 1)

    response = post_postmark(client, bounce, credentials=credentials)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert not TrackingEvent.objects.exists()
    assert not Suppression.objects.exists()
    assert status_of(dispatch) == ""


@pytest.mark.parametrize(
    ("kind", "code", "suppressed"),
    [("HardBounce", 1, True), ("SoftBounce", 4096, False), ("Transient", 2, False)],
)
def test_only_a_postmark_hard_bounce_suppresses(client, kind, code, suppressed):
    post_postmark(client, postmark_bounce("b0b0-0000-4000-8000-000000000006", kind, code))

    assert Suppression.objects.filter(address=ADDRESS).exists() is suppressed


def test_a_postmark_spam_complaint_suppresses(client):
    complaint = postmark_bounce("c0c0-0000-4000-8000-000000000007", "SpamComplaint", 512)
    complaint["RecordType"] = "SpamComplaint"

    post_postmark(client, complaint)

    assert Suppression.objects.get().reason == "complained"


def test_an_event_without_a_provider_id_is_identified_by_its_content(client):
    """Postmark's delivery events carry no ID: a replay is known by the sha256 of the body."""
    delivery = postmark_delivery("d0d0-0000-4000-8000-000000000008")

    assert post_postmark(client, delivery).status_code == 200
    assert post_postmark(client, delivery).status_code == 200

    stored = TrackingEvent.objects.get()
    assert len(stored.event_id) == 64
    assert (
        stored.event_id
        == hashlib.sha256(
            json.dumps(delivery, sort_keys=True, separators=(",", ":")).encode()
        ).hexdigest()
    )


def test_a_huge_event_is_stored_without_its_bulky_fields(client):
    bounce = postmark_bounce("d1d1-0000-4000-8000-00000000000c", "HardBounce", 1)
    bounce["Content"] = "Received: from mx...\n" * 20_000  # the returned message, in full

    assert post_postmark(client, bounce).status_code == 200

    stored = TrackingEvent.objects.get()
    assert stored.payload["_omitted"] == ["Content"]
    assert stored.payload["Type"] == "HardBounce"
    assert Suppression.objects.filter(address=ADDRESS).exists()


def test_a_body_that_is_not_a_postmark_event_is_400_not_500(client):
    response = post_postmark(client, b"this is not json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


# --- without a secret: refused, except for a developer with DEBUG on -----------------------------


def test_a_provider_nothing_verifies_is_refused_in_production(client):
    with override_settings(ANYMAIL={}):
        response = post_postmark(
            client,
            postmark_bounce("e0e0-0000-4000-8000-000000000009", "HardBounce", 1),
            credentials=None,
        )

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_signature",
        "message": "This webhook can't be verified.",
        "details": {},
    }
    assert not TrackingEvent.objects.exists()


def test_with_debug_on_an_unverified_provider_is_let_in_with_anymails_warning(client):
    with (
        override_settings(ANYMAIL={}, DEBUG=True),
        pytest.warns(AnymailInsecureWebhookWarning),
    ):
        response = post_postmark(
            client, postmark_delivery("f0f0-0000-4000-8000-00000000000a"), credentials=None
        )

    assert response.status_code == 200
    assert TrackingEvent.objects.get().provider == "postmark"


# --- the endpoint's edges ------------------------------------------------------------------------


def test_an_unknown_provider_is_a_404_in_the_error_shape(client):
    response = client.post(
        "/api/notifications/esp/sendpigeon/tracking/", b"{}", content_type="application/json"
    )

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_get_is_a_405_in_the_error_shape(client):
    response = client.get(MAILGUN_URL)

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert "POST" in response["Allow"]


def test_every_provider_with_a_view_knows_what_verifies_it():
    assert set(apis_tracking.VIEWS) == set(tracking.PROVIDERS)


# --- deployment checks ---------------------------------------------------------------------------


def test_the_webhook_check_runs_with_check_deploy():
    assert tracking.check_tracking_webhooks in registry.registry.get_checks(
        include_deployment_checks=True
    )
    assert tracking.check_tracking_webhooks not in registry.registry.get_checks()


@pytest.mark.parametrize(
    ("backend", "anymail", "ids"),
    [
        ("django.core.mail.backends.smtp.EmailBackend", {}, []),
        ("anymail.backends.mailgun.EmailBackend", {}, ["notifications.W001"]),
        (
            "anymail.backends.mailgun.EmailBackend",
            {"WEBHOOK_SECRET": BASIC_AUTH},  # Mailgun needs its own key
            ["notifications.W001"],
        ),
        ("anymail.backends.mailgun.EmailBackend", {"MAILGUN_WEBHOOK_SIGNING_KEY": "k"}, []),
        ("anymail.backends.postmark.EmailBackend", {}, ["notifications.W001"]),
        ("anymail.backends.postmark.EmailBackend", {"WEBHOOK_SECRET": BASIC_AUTH}, []),
        ("anymail.backends.resend.EmailBackend", {"RESEND_SIGNING_SECRET": RESEND_SECRET}, []),
        ("anymail.backends.amazon_ses.EmailBackend", {}, ["notifications.W002"]),
    ],
)
def test_check_deploy_warns_when_the_sending_providers_webhooks_would_be_refused(
    backend, anymail, ids
):
    with override_settings(EMAIL_BACKEND=backend, ANYMAIL=anymail):
        messages = tracking.check_tracking_webhooks()

    assert [message.id for message in messages] == ids


def test_a_resend_secret_that_is_not_one_is_a_startup_error():
    with override_settings(ANYMAIL={"RESEND_SIGNING_SECRET": "whsec_not base64!"}):
        assert [m.id for m in tracking.check_resend_signing_secret()] == ["notifications.E001"]
    assert tracking.check_resend_signing_secret() == []


# --- admin ---------------------------------------------------------------------------------------


@pytest.fixture
def admin_client() -> Client:
    browser = Client()
    browser.force_login(User.objects.create_superuser("boss@example.com", password="x-Pass-1234"))
    return browser


def test_tracking_events_are_read_only_in_the_admin(client, admin_client):
    post_postmark(client, postmark_delivery("a1a1-0000-4000-8000-00000000000b"))
    stored = TrackingEvent.objects.get()

    listing = admin_client.get("/admin/notifications/trackingevent/?q=amna@example.com")
    page = admin_client.get(f"/admin/notifications/trackingevent/{stored.pk}/change/")

    assert listing.status_code == 200
    assert ADDRESS.encode() in listing.content
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert admin_client.get("/admin/notifications/trackingevent/add/").status_code == 403


def test_staff_add_search_and_remove_suppressions_in_the_admin(admin_client):
    added = admin_client.post(
        "/admin/notifications/suppression/add/",
        {"address": "  Omer@Example.COM ", "detail": "asked by phone"},
    )
    duplicate = admin_client.post(
        "/admin/notifications/suppression/add/", {"address": "omer@example.com", "detail": ""}
    )
    suppression = Suppression.objects.get()
    found = admin_client.get("/admin/notifications/suppression/?q=omer")
    removed = admin_client.post(
        f"/admin/notifications/suppression/{suppression.pk}/delete/", {"post": "yes"}
    )

    assert added.status_code == 302
    assert (suppression.address, suppression.reason) == ("omer@example.com", "manual")
    assert duplicate.status_code == 200  # the form again, with the unique error
    assert found.status_code == 200
    assert b"omer@example.com" in found.content
    assert removed.status_code == 302
    assert not Suppression.objects.exists()
