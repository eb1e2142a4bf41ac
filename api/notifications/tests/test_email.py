"""Email through the one sending path: stored templates (checked on save, rendered with their
styles, images and attachments, right-to-left in Arabic), dedupe, rollback, sender identities,
retries with backoff, the dead letter and its resend, expiry. Emails are read back from the
locmem backend and parsed with the ``email`` package, as a mail client would."""

import email
import email.policy
import io
from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from PIL import Image
from post_office.models import STATUS, Log
from post_office.models import Email as LoggedEmail

from accounts.tests.factories import UserFactory
from notifications import services
from notifications.models import Dispatch, Notification, Template
from notifications.seeds import seed

pytestmark = pytest.mark.django_db(transaction=True)

WELCOME_AR = {
    "name": "welcome-ar-test",
    "kind": "welcome",
    "language": "ar",
    "subject": "أهلاً {{ first_name }} في {{ site_name }}",
    "html": '<html><head></head><body><p class="hello">مرحباً {{ first_name }}</p>'
    '<img src="cid:logo.png" alt=""></body></html>',
    "text": "",
}


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "#0b7a5a").save(buffer, format="PNG")
    return buffer.getvalue()


def upload(client, kind: str, name: str, content: bytes, content_type: str) -> int:
    response = client.post(
        "/api/notifications/assets/",
        {"kind": kind, "file": SimpleUploadedFile(name, content, content_type=content_type)},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def parsed(message) -> email.message.EmailMessage:
    return email.message_from_bytes(message.message().as_bytes(), policy=email.policy.default)


@pytest.fixture
def assets(staff_client) -> dict[str, int]:
    css = b".hello { color: #0b7a5a; font-weight: bold; } @media (max-width: 600px) { .hello { font-size: 20px; } }"  # noqa: E501
    return {
        "style": upload(staff_client, "style", "brand.css", css, "text/css"),
        "image": upload(staff_client, "image", "logo.png", png(), "image/png"),
        "attachment": upload(
            staff_client, "attachment", "terms.pdf", b"%PDF-1.4 terms", "application/pdf"
        ),
    }


def test_a_template_with_an_undeclared_variable_or_bad_syntax_is_refused(staff_client):
    for html, field_message in [
        ("<p>{{ user.password }}</p>", "user"),
        ("<p>{% if first_name %}never closed</p>", "Does not compile"),
        ("{% load static %}<p>x</p>", "not allowed"),
        ('<img src="cid:missing.png">', "missing.png"),
    ]:
        response = staff_client.post(
            "/api/notifications/templates/", {**WELCOME_AR, "html": html}, format="json"
        )
        assert response.status_code == 400
        assert field_message in str(response.json()["details"])
    assert Template.objects.count() == 0


def test_preview_inlines_the_stylesheet_and_keeps_media_rules(staff_client, assets):
    created = staff_client.post(
        "/api/notifications/templates/",
        {**WELCOME_AR, "styles": [assets["style"]], "images": [assets["image"]]},
        format="json",
    )
    assert created.status_code == 201, created.json()

    preview = staff_client.post(
        f"/api/notifications/templates/{created.json()['id']}/preview/",
        {"context": {"first_name": "آمنة"}},
        format="json",
    ).json()

    assert 'style="color: #0b7a5a;font-weight: bold;"' in preview["html"]
    assert "@media (max-width: 600px)" in preview["html"]
    assert 'dir="rtl"' in preview["html"]
    assert preview["subject"] == "أهلاً آمنة في Sudamall"
    assert "مرحباً آمنة" in preview["text"]


def test_the_sent_email_carries_both_parts_cid_images_attachments_and_an_encoded_subject(
    staff_client, assets
):
    staff_client.post(
        "/api/notifications/templates/",
        {**WELCOME_AR, "styles": [assets["style"]], "images": [assets["image"]],
         "attachments": [assets["attachment"]]},
        format="json",
    )  # fmt: skip
    amna = UserFactory(first_name="آمنة", language="ar")

    services.notify(
        "welcome", key="welcome:test", context={"first_name": "آمنة", "account_type": "buyer"},
        user_id=amna.pk, address=amna.email, language="ar",
    )  # fmt: skip

    [sent] = mail.outbox
    raw = sent.message().as_bytes()
    assert b"Subject: =?utf-8?" in raw  # RFC 2047: the Arabic subject is encoded
    message = parsed(sent)
    assert message["Subject"] == "أهلاً آمنة في Sudamall"
    assert "List-Unsubscribe" not in message  # transactional
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "مرحباً آمنة" in text
    assert 'dir="rtl"' in html
    assert 'style="color: #0b7a5a;font-weight: bold;"' in html
    shown = {ref for ref in ["logo.png"] if f"cid:{ref}" in html}
    images = {part["Content-ID"].strip("<>"): part for part in message.walk()
              if part.get_content_type() == "image/png"}  # fmt: skip
    assert shown == set(images) == {"logo.png"}
    assert images["logo.png"].get_content() == png()
    [attachment] = list(message.iter_attachments())[-1:]
    assert attachment.get_filename() == "terms.pdf"
    assert attachment.get_content() == b"%PDF-1.4 terms"
    # The log: post_office's Email and a "sent" Log line.
    logged = LoggedEmail.objects.get()
    assert logged.status == STATUS.sent
    assert logged.logs.get().status == STATUS.sent


def test_the_recipients_language_is_used_with_arabic_as_the_fallback():
    seed()
    english = UserFactory(language="en")
    arabic = UserFactory(language="ar")
    Template.objects.filter(kind="password_changed", language="en").delete()

    for user in (english, arabic):
        services.notify("welcome", key=f"w{user.pk}", context={"first_name": "A"},
                        user_id=user.pk, address=user.email, language=user.language)  # fmt: skip
    services.notify("password_changed", key="pc", context={"first_name": "A"},
                    user_id=english.pk, address=english.email, language="en")  # fmt: skip

    subjects = {m.to[0] + ":" + m.subject for m in mail.outbox}
    assert f"{english.email}:Welcome to Sudamall" in subjects
    assert f"{arabic.email}:أهلاً بك في Sudamall" in subjects
    assert f"{english.email}:تم تغيير كلمة مرور حسابك في Sudamall" in subjects  # no English row


def test_every_seeded_template_passes_the_checks_staff_templates_must_pass():
    from notifications.rendering import check_template

    written = seed()

    assert len(written) >= 20  # every kind, in Arabic and English
    for template in Template.objects.prefetch_related("images"):
        check_template(kind=template.kind, subject=template.subject, html=template.html,
                       text=template.text,
                       image_names=[i.name for i in template.images.all()])  # fmt: skip
    assert seed() == []  # idempotent


def test_the_same_notification_triggered_twice_sends_one_email_and_one_in_app_row():
    amna = UserFactory()
    for _ in range(2):  # a retried task, a double click
        with transaction.atomic():
            services.notify("password_changed", key="password_changed:1:7",
                            context={"first_name": "Amna"}, user_id=amna.pk,
                            address=amna.email)  # fmt: skip

    assert len(mail.outbox) == 1
    assert Notification.objects.filter(user=amna).count() == 1
    assert Dispatch.objects.count() == 1


def test_work_that_rolled_back_sends_nothing():
    amna = UserFactory()

    def failing_change() -> None:
        with transaction.atomic():
            services.notify(
                "password_changed", key="pc:rolled-back", context={"first_name": "A"},
                user_id=amna.pk, address=amna.email,
            )  # fmt: skip
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        failing_change()

    assert mail.outbox == []
    assert not Dispatch.objects.exists()
    assert not Notification.objects.exists()


def test_a_context_with_anything_but_primitives_never_reaches_a_template():
    amna = UserFactory()
    with pytest.raises(TypeError, match="only primitives"):
        services.notify("welcome", key="w", context={"first_name": amna}, address=amna.email)
    with pytest.raises(TypeError, match="does not declare"):
        services.notify("welcome", key="w", context={"password": "x"}, address=amna.email)


def test_a_failing_provider_is_retried_with_backoff_then_dead_lettered_then_resent():
    amna = UserFactory()
    start = timezone.now()
    with override_settings(EMAIL_BACKEND="notifications.tests.backends.DownBackend",
                           EMAIL_RETRY_DELAYS=[30, 120, 600]):  # fmt: skip
        services.forget_connections()
        dispatch = services.notify("welcome", key="w:down", context={"first_name": "A"},
                                   user_id=amna.pk, address=amna.email)  # fmt: skip
        assert dispatch is not None
        dispatch.refresh_from_db()
        assert dispatch.state == Dispatch.State.QUEUED
        assert dispatch.attempts == 1
        waits = [dispatch.next_attempt_at - start]
        assert services.deliver(dispatch.pk, now=start + timedelta(seconds=10)) == "busy"
        now = dispatch.next_attempt_at
        for _ in range(3):
            now = now + timedelta(seconds=1)
            services.deliver(dispatch.pk, now=now)
            dispatch.refresh_from_db()
            if dispatch.next_attempt_at and dispatch.state == Dispatch.State.QUEUED:
                waits.append(dispatch.next_attempt_at - now)
                now = dispatch.next_attempt_at
        services.forget_connections()

    assert [round(w.total_seconds()) for w in waits] == [30, 120, 600]  # backoff grows
    assert dispatch.state == Dispatch.State.DEAD
    assert dispatch.attempts == 4
    assert Log.objects.filter(email=dispatch.email, status=STATUS.failed).count() == 4
    assert mail.outbox == []

    assert services.resend([dispatch.pk]) == 1  # the admin's action; delivered after commit

    dispatch.refresh_from_db()
    assert dispatch.state == Dispatch.State.SENT
    assert [m.to for m in mail.outbox] == [[amna.email]]


def test_an_expired_code_is_never_sent_and_leaves_no_code_behind():
    amna = UserFactory()
    with override_settings(CELERY_TASK_ALWAYS_EAGER=False), transaction.atomic():
        dispatch = services.notify(
            "code", key="code:1", address=amna.email,
            context={"purpose": "verify_email", "code": "123456", "first_name": "A",
                     "minutes": 10},
            expires_at=timezone.now() + timedelta(minutes=10),
        )  # fmt: skip
    assert dispatch is not None

    state = services.deliver(dispatch.pk, now=timezone.now() + timedelta(minutes=11))

    dispatch.refresh_from_db()
    assert state == Dispatch.State.EXPIRED == dispatch.state
    assert mail.outbox == []
    assert "123456" not in str(dispatch.context)
    assert services.resend([dispatch.pk]) == 0  # never sent late, not even by staff


def test_a_sent_code_is_wiped_from_the_log():
    amna = UserFactory()
    services.notify("code", key="code:2", address=amna.email,
                    context={"purpose": "verify_email", "code": "654321", "first_name": "A",
                             "minutes": 10})  # fmt: skip

    assert "654321" in mail.outbox[0].body
    dispatch = Dispatch.objects.get()
    assert "654321" not in str(dispatch.context)
    assert "654321" not in dispatch.email.message + dispatch.email.html_message


def test_the_sweep_sends_the_most_urgent_first():
    with override_settings(CELERY_TASK_ALWAYS_EAGER=False), transaction.atomic():
        newsletter = services.notify("newsletter", key="n", context={"first_name": "A"},
                                     address="a@example.com")  # fmt: skip
        code = services.notify("code", key="c", address="b@example.com",
                               context={"purpose": "verify_email", "code": "1",
                                        "first_name": "B", "minutes": 10})  # fmt: skip
    assert newsletter is not None
    assert code is not None
    later = timezone.now() + timedelta(minutes=5)

    assert services.due_dispatches(now=later) == [code.pk, newsletter.pk]
    assert services.send_due(now=later) == 2
    assert [m.to for m in mail.outbox] == [["b@example.com"], ["a@example.com"]]


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/api/notifications/templates/", "get"),
        ("/api/notifications/templates/", "post"),
        ("/api/notifications/templates/1/", "get"),
        ("/api/notifications/templates/1/", "patch"),
        ("/api/notifications/templates/1/", "delete"),
        ("/api/notifications/templates/1/preview/", "post"),
        ("/api/notifications/assets/", "post"),
        ("/api/notifications/send-email/", "post"),
    ],
)
def test_template_endpoints_are_staff_only(path, method, make_auth_client):
    from stores.tests.factories import StoreFactory

    Template.objects.create(name="t", kind="welcome", subject="s", html="h")
    buyer = UserFactory()
    owner = StoreFactory().owner
    for person in (buyer, owner):
        assert getattr(make_auth_client(person), method)(path, {}, format="json").status_code == 403


def test_asset_uploads_are_checked_by_their_bytes(staff_client):
    fake_png = staff_client.post(
        "/api/notifications/assets/",
        {"kind": "image", "file": SimpleUploadedFile("x.png", b"<script>", "image/png")},
        format="multipart",
    )
    too_big = staff_client.post(
        "/api/notifications/assets/",
        {
            "kind": "style",
            "file": SimpleUploadedFile("x.css", b"a" * (1024 * 1024 + 1), "text/css"),
        },
        format="multipart",
    )

    assert fake_png.status_code == 400
    assert too_big.status_code == 400


def test_staff_send_a_test_email_of_a_template(staff_client):
    seed()
    template = Template.objects.get(name="order_status.en")

    response = staff_client.post(
        "/api/notifications/send-email/",
        {"email": "qa@example.com", "template_id": template.pk, "context": {"number": "A-1"}},
        format="json",
    )

    assert response.status_code == 202
    [sent] = mail.outbox
    assert sent.to == ["qa@example.com"]
    assert "A-1" in sent.subject


def test_many_notifications_at_once_in_a_fixed_number_of_statements(
    django_assert_max_num_queries,
):
    from notifications import events
    from notifications.models import Preference

    people = [UserFactory() for _ in range(30)]
    Preference.objects.create(user=people[2], kind="chat_unread", email=False)
    services.notify("chat_unread", key="chat:0", context={"count": 1}, user_id=people[0].pk,
                    address=people[0].email)  # fmt: skip
    mail.outbox.clear()
    notices = [
        services.Notice(
            "chat_unread",
            key=f"chat:{n}",
            context={"count": 1, "sender": "Shop"},
            user_id=person.pk,
            address=person.email,
        )
        for n, person in enumerate(people)
    ]

    with (
        override_settings(CELERY_TASK_ALWAYS_EAGER=False),
        transaction.atomic(),
        django_assert_max_num_queries(12),
    ):
        made = services.notify_many(notices + notices[:3])  # a repeat in a batch: once
    services.send_due(now=timezone.now() + timedelta(minutes=5))  # the worker's part

    assert made == 29  # chat:0's key was used by the notify above
    assert Notification.objects.filter(kind="chat_unread").count() == 30
    # people[0]'s notification went out before (its key); people[2] turned chat emails off.
    expected = [people[1], *people[3:]]
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in expected)
    [event] = events.events_after(people[5].pk, 0).events
    assert event.type == "notification.created"
    assert Notification.objects.get(pk=event.data["id"]).user_id == people[5].pk


def test_a_dispatch_written_claimed_is_sent_by_its_writer_or_after_its_claim_by_the_sweep():
    """``notify(queue=False)``, a worker's own notification: written claimed, so nobody else
    sends it while its writer does; if the writer stops before sending, the sweep sends it once
    the claim has run out."""
    amna, omer = UserFactory(), UserFactory()

    with transaction.atomic():
        sent_here = services.notify("welcome", key="w:claimed-1", context={"first_name": "A"},
                                    user_id=amna.pk, address=amna.email, queue=False)  # fmt: skip
        stranded = services.notify("welcome", key="w:claimed-2", context={"first_name": "O"},
                                   user_id=omer.pk, address=omer.email, queue=False)  # fmt: skip
    assert sent_here is not None
    assert stranded is not None
    assert services.send_due() == 0  # both claimed: not the sweep's

    assert services.send_claimed(sent_here) == Dispatch.State.SENT
    assert [m.to for m in mail.outbox] == [[amna.email]]

    assert services.send_due(now=timezone.now() + timedelta(minutes=6)) == 1
    assert [m.to for m in mail.outbox] == [[amna.email], [omer.email]]
    assert Dispatch.objects.get(pk=stranded.pk).state == Dispatch.State.SENT
