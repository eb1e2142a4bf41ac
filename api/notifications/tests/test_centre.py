"""The in-app notification centre and preferences, as a signed-in person uses them: their own
rows only, newest first, unread counts, mark read, preferences with mandatory kinds locked on,
and each notification announced on the person's event log."""

import pytest
from django.core import mail

from accounts.tests.factories import UserFactory
from notifications import events, services
from notifications.models import Notification

pytestmark = pytest.mark.django_db(transaction=True)


def notify(user, kind: str = "order_status", key: str = "k", **context):
    values = {"order_id": 7, "number": "A-7", "store": "Kassala Fruit", "status": "shipped",
              "first_name": "Amna", "note": "", **context}  # fmt: skip
    if kind == "chat_unread":
        values = {"first_name": "Amna", "conversation_id": 3, "sender": "Kassala Fruit",
                  "about": "Mangoes", "count": 2, "messages": []}  # fmt: skip
    return services.notify(kind, key=key, context=values, user_id=user.pk, address=user.email,
                           language=user.language)  # fmt: skip


def test_a_notification_appears_in_the_centre_and_on_the_event_log(user, auth_client):
    notify(user, key="order_status:7:shipped")

    listed = auth_client.get("/api/notifications/").json()
    [event] = events.events_after(user.pk, 0).events

    [row] = listed["results"]
    assert row["kind"] == "order_status"
    assert row["title"] == "الطلب A-7: shipped"  # the person's language: Arabic by default
    assert row["link"] == "/orders/7"
    assert row["read_at"] is None
    assert row["data"]["number"] == "A-7"
    assert event.type == "notification.created"
    assert event.data["id"] == row["id"]
    assert auth_client.get("/api/notifications/unread-count/").json() == {"unread_count": 1}


def test_the_centre_lists_only_the_callers_rows_newest_first(user, auth_client):
    other = UserFactory()
    for n in range(3):
        notify(user, key=f"mine:{n}", number=f"A-{n}")
    notify(other, key="theirs")

    numbers = [
        r["data"]["number"] for r in auth_client.get("/api/notifications/").json()["results"]
    ]

    assert numbers == ["A-2", "A-1", "A-0"]


def test_marking_read_some_or_all_and_never_someone_elses(user, auth_client):
    other = UserFactory()
    mine = [notify(user, key=f"mine:{n}") for n in range(3)]
    notify(other, key="theirs")
    theirs = Notification.objects.get(user=other)
    first = Notification.objects.filter(user=user).order_by("id").first()
    assert all(mine)

    some = auth_client.post("/api/notifications/read/", {"ids": [first.pk, theirs.pk]})
    everything = auth_client.post("/api/notifications/read/", {"all": True})
    nothing = auth_client.post("/api/notifications/read/", {})

    assert some.json() == {"unread_count": 2}
    assert everything.json() == {"unread_count": 0}
    assert nothing.status_code == 400
    theirs.refresh_from_db()
    assert theirs.read_at is None  # someone else's notification is untouched


def test_preferences_list_every_kind_with_mandatory_ones_locked_on(auth_client):
    preferences = {p["kind"]: p for p in auth_client.get(
        "/api/notifications/preferences/").json()["preferences"]}  # fmt: skip

    assert preferences["order_status"]["mandatory"] is True
    assert preferences["payment_succeeded"]["mandatory"] is True
    assert preferences["code"]["in_app_available"] is False
    assert preferences["chat_unread"]["mandatory"] is False
    assert preferences["newsletter"]["category"] == "marketing"


def test_turning_off_a_mandatory_kind_is_refused_and_changes_nothing(user, auth_client):
    answer = auth_client.put(
        "/api/notifications/preferences/",
        {
            "preferences": [
                {"kind": "chat_unread", "email": False},
                {"kind": "order_status", "email": False},
            ]
        },
    )
    unknown = auth_client.put(
        "/api/notifications/preferences/", {"preferences": [{"kind": "nope", "email": False}]}
    )

    assert answer.status_code == 400
    assert "order_status" in answer.json()["details"]["preferences"]
    assert unknown.status_code == 400
    preferences = {p["kind"]: p for p in auth_client.get(
        "/api/notifications/preferences/").json()["preferences"]}  # fmt: skip
    assert preferences["chat_unread"]["email"] is True  # the whole change was refused


def test_a_kind_turned_off_by_email_still_shows_in_app(user, auth_client):
    answer = auth_client.put(
        "/api/notifications/preferences/",
        {"preferences": [{"kind": "chat_unread", "email": False}]},
    )
    notify(user, kind="chat_unread", key="chat:1")

    assert answer.status_code == 200
    assert mail.outbox == []
    assert Notification.objects.filter(user=user, kind="chat_unread").count() == 1


def test_the_centre_reads_in_a_constant_number_of_queries(
    user, auth_client, django_assert_num_queries
):
    notify(user, key="first")
    with django_assert_num_queries(3) as few:  # the user, the count, the page
        auth_client.get("/api/notifications/")
    for n in range(20):
        notify(user, key=f"more:{n}")
    with django_assert_num_queries(len(few.captured_queries)):
        auth_client.get("/api/notifications/")


def test_the_centre_needs_a_signed_in_person(api_client):
    assert api_client.get("/api/notifications/").status_code == 401
    assert api_client.get("/api/notifications/unread-count/").status_code == 401
