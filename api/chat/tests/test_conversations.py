"""Conversations and messages over HTTP, as a buyer and a store owner use them, and as anyone
else can't: someone else's conversation or message is a 404 on every endpoint."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.tests.factories import UserFactory
from chat.models import Conversation, Message, MessageEdit, Report
from chat.tests.factories import conversation, send
from notifications.models import UserEvent
from orders.tests.factories import paid_checkout
from products.tests.factories import make_product
from stores.tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def buyer():
    return UserFactory(
        first_name="Amna",
        last_name="Osman",
        email="amna.osman@example.com",
        phone_number="+249912345678",
    )


@pytest.fixture
def store():
    return StoreFactory(name="Khartoum Leather Works")


@pytest.fixture
def buyer_client(buyer, make_auth_client):
    return make_auth_client(buyer)


@pytest.fixture
def owner_client(store, make_auth_client):
    return make_auth_client(store.owner)


@pytest.fixture
def stranger_client(make_auth_client):
    return make_auth_client(UserFactory())


def test_a_buyer_starts_a_conversation_about_a_product_and_the_store_answers(
    buyer_client, owner_client, buyer, store
):
    sandals = make_product(store, name="Leather sandals")
    first = buyer_client.post(
        "/api/chat/conversations/",
        {
            "store_id": store.pk,
            "product_id": sandals.pk,
            "message": "Do you have size 42?",
            "client_message_id": "c-1",
        },
    )
    again = buyer_client.post(
        "/api/chat/conversations/", {"store_id": store.pk, "product_id": sandals.pk}
    )
    conversation_id = first.json()["id"]
    answer = owner_client.post(
        f"/api/chat/conversations/{conversation_id}/messages/",
        {"body": "Yes, two pairs left.", "client_message_id": "s-1"},
    )
    inbox = owner_client.get("/api/chat/conversations/").json()

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == conversation_id
    assert first.json()["product"] == {"id": sandals.pk, "name": "Leather sandals"}
    assert first.json()["last_message"]["body"] == "Do you have size 42?"
    assert answer.status_code == 201
    assert answer.json()["sender"] == {"id": store.pk, "display_name": store.name, "role": "store"}
    assert inbox["count"] == 1
    assert inbox["results"][0]["buyer"] == {
        "id": buyer.pk,
        "display_name": "Amna O.",
        "avatar": None,
    }
    assert inbox["results"][0]["unread_count"] == 0  # the owner just answered
    seen_by_store = str(
        owner_client.get(f"/api/chat/conversations/{conversation_id}/messages/").content
    )
    assert "amna.osman" not in str(inbox)
    assert "912345678" not in str(inbox)
    assert "amna.osman" not in seen_by_store
    assert buyer_client.get("/api/chat/unread/").json() == {
        "unread_count": 1,
        "conversations_with_unread": 1,
    }


def test_an_order_conversation_needs_the_buyers_own_order_with_that_store(
    buyer_client, buyer, store
):
    mine = paid_checkout(buyer, make_product(store)).orders.get()
    theirs = paid_checkout(UserFactory(), make_product(store)).orders.get()
    elsewhere = paid_checkout(buyer, make_product()).orders.get()

    ok = buyer_client.post("/api/chat/conversations/", {"store_id": store.pk, "order_id": mine.pk})
    for order in (theirs, elsewhere):
        refused = buyer_client.post(
            "/api/chat/conversations/", {"store_id": store.pk, "order_id": order.pk}
        )
        assert refused.status_code == 400
        assert "order_id" in refused.json()["details"]

    assert ok.status_code == 201
    assert ok.json()["order"]["id"] == mine.pk


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"store_id": 999999}, "store_id"),
        ({}, "store_id"),
        ({"store_id": "x"}, "store_id"),
        ({"store_id": "mine", "product_id": 999999}, "product_id"),
    ],
)
def test_bad_conversation_input_is_a_400(buyer_client, store, body, field):
    if body.get("store_id") == "mine":
        body = {**body, "store_id": store.pk}
    answer = buyer_client.post("/api/chat/conversations/", body, format="json")

    assert answer.status_code == 400
    assert field in answer.json()["details"]
    assert Conversation.objects.count() == 0


def test_a_store_owner_cannot_chat_with_their_own_store(owner_client, store):
    answer = owner_client.post("/api/chat/conversations/", {"store_id": store.pk})

    assert answer.status_code == 400


def test_someone_elses_conversation_and_messages_are_404_everywhere(stranger_client, buyer, store):
    talk = conversation(buyer, store)
    message = send(talk, buyer, "Hello")
    c, m = talk.pk, message.pk

    answers = [
        stranger_client.get(f"/api/chat/conversations/{c}/messages/"),
        stranger_client.post(f"/api/chat/conversations/{c}/messages/", {"body": "hi"}),
        stranger_client.post(f"/api/chat/conversations/{c}/read/", {"up_to_message_id": m}),
        stranger_client.post(f"/api/chat/conversations/{c}/block/"),
        stranger_client.delete(f"/api/chat/conversations/{c}/block/"),
        stranger_client.patch(f"/api/chat/messages/{m}/", {"body": "x"}),
        stranger_client.delete(f"/api/chat/messages/{m}/"),
        stranger_client.post(f"/api/chat/messages/{m}/report/", {"reason": "spam"}),
    ]

    assert [a.status_code for a in answers] == [404] * len(answers)
    assert stranger_client.get("/api/chat/conversations/").json()["count"] == 0
    assert Message.objects.get(pk=m).body == "Hello"


def test_a_retried_send_returns_the_same_message(buyer_client, buyer, store):
    talk = conversation(buyer, store)
    url = f"/api/chat/conversations/{talk.pk}/messages/"

    first = buyer_client.post(url, {"body": "Is it real leather?", "client_message_id": "m-7"})
    retry = buyer_client.post(url, {"body": "Is it real leather?", "client_message_id": "m-7"})

    assert (first.status_code, retry.status_code) == (201, 200)
    assert first.json()["id"] == retry.json()["id"]
    assert Message.objects.count() == 1


def test_a_message_is_stored_as_an_event_for_every_participant_first(buyer, store):
    talk = conversation(buyer, store)

    message = send(talk, buyer, "Salam")

    events = UserEvent.objects.filter(type="chat.message").order_by("user_id")
    assert sorted(e.user_id for e in events) == sorted([buyer.pk, store.owner_id])
    assert all(e.data["id"] == message.pk for e in events)


def test_history_pages_by_id_both_ways(buyer_client, buyer, store):
    talk = conversation(buyer, store)
    sent = [send(talk, buyer, f"m{n}").pk for n in range(5)]
    url = f"/api/chat/conversations/{talk.pk}/messages/"

    newest = buyer_client.get(url, {"limit": 2}).json()
    older = buyer_client.get(url, {"limit": 2, "before": newest["results"][-1]["id"]}).json()
    forward = buyer_client.get(url, {"after": sent[1], "limit": 10}).json()

    assert [m["id"] for m in newest["results"]] == sent[:-3:-1]
    assert newest["has_more"]
    assert [m["id"] for m in older["results"]] == [sent[2], sent[1]]
    assert [m["id"] for m in forward["results"]] == sent[2:]
    assert not forward["has_more"]
    bad = buyer_client.get(url, {"before": 1, "after": 1})
    assert bad.status_code == 400
    assert buyer_client.get(url, {"limit": 101}).status_code == 400


def test_edit_within_15_minutes_keeps_the_old_text_and_later_is_409(buyer_client, buyer, store):
    talk = conversation(buyer, store)
    message = send(talk, buyer, "Size 41")
    with time_machine.travel(timezone.now() - timedelta(minutes=16)):
        old = send(talk, buyer, "Sent a while ago")

    edited = buyer_client.patch(f"/api/chat/messages/{message.pk}/", {"body": "Size 42"})
    late = buyer_client.patch(f"/api/chat/messages/{old.pk}/", {"body": "Changed my mind"})

    assert edited.status_code == 200
    assert edited.json()["edited_at"] is not None
    assert edited.json()["body"] == "Size 42"
    assert list(MessageEdit.objects.values_list("body", flat=True)) == ["Size 41"]
    assert late.status_code == 409
    assert late.json()["code"] == "edit_window_closed"


def test_only_the_sender_edits_or_deletes(owner_client, buyer, store):
    message = send(conversation(buyer, store), buyer, "mine")

    assert owner_client.patch(f"/api/chat/messages/{message.pk}/", {"body": "x"}).status_code == 403
    assert owner_client.delete(f"/api/chat/messages/{message.pk}/").status_code == 403


def test_a_deleted_message_stays_as_a_tombstone(buyer_client, owner_client, buyer, store):
    talk = conversation(buyer, store)
    message = send(talk, buyer, "oops")

    assert buyer_client.delete(f"/api/chat/messages/{message.pk}/").status_code == 204
    shown = owner_client.get(f"/api/chat/conversations/{talk.pk}/messages/").json()["results"][0]

    assert shown["deleted"] is True
    assert shown["body"] is None
    assert shown["attachments"] == []
    assert UserEvent.objects.filter(type="chat.message_updated", user_id=store.owner_id).exists()
    assert owner_client.get("/api/chat/unread/").json()["unread_count"] == 0


def test_reading_moves_the_pointer_forward_only_and_tells_the_other_side(
    owner_client, buyer, store
):
    talk = conversation(buyer, store)
    first, second = send(talk, buyer, "one"), send(talk, buyer, "two")
    url = f"/api/chat/conversations/{talk.pk}/read/"

    after_second = owner_client.post(url, {"up_to_message_id": second.pk})
    back = owner_client.post(url, {"up_to_message_id": first.pk})

    assert after_second.json() == {"unread_count": 0}
    assert back.json() == {"unread_count": 0}
    talk.refresh_from_db()
    assert talk.store_read_up_to == second.pk
    reads = UserEvent.objects.filter(type="chat.read", user_id=buyer.pk)
    assert [e.data for e in reads] == [
        {"conversation_id": talk.pk, "reader_role": "store", "up_to_message_id": second.pk}
    ]
    other = send(conversation(buyer, StoreFactory()), buyer, "elsewhere")
    assert owner_client.post(url, {"up_to_message_id": other.pk}).status_code == 400


def test_a_block_stops_new_messages_both_ways_and_keeps_the_history(
    buyer_client, owner_client, buyer, store
):
    talk = conversation(buyer, store)
    send(talk, buyer, "before")
    url = f"/api/chat/conversations/{talk.pk}/messages/"

    blocked = owner_client.post(f"/api/chat/conversations/{talk.pk}/block/")
    from_buyer = buyer_client.post(url, {"body": "hello?"})
    from_store = owner_client.post(url, {"body": "hi"})
    history = buyer_client.get(url).json()["results"]
    owner_client.delete(f"/api/chat/conversations/{talk.pk}/block/")

    assert blocked.json()["blocked"] is True
    assert from_buyer.status_code == 403
    assert from_buyer.json()["code"] == "blocked"
    assert from_store.status_code == 403
    assert [m["body"] for m in history] == ["before"]
    assert buyer_client.post(url, {"body": "hello again"}).status_code == 201


def test_a_report_reaches_the_staff_queue(owner_client, buyer, store):
    message = send(conversation(buyer, store), buyer, "Pay me on WhatsApp +249 91 234 5678")

    answer = owner_client.post(
        f"/api/chat/messages/{message.pk}/report/", {"reason": "scam", "note": "off-platform"}
    )

    assert answer.status_code == 201
    assert Report.objects.get().reason == "scam"
    assert "phone" in Message.objects.get(pk=message.pk).flags


@pytest.mark.parametrize(
    ("body", "flags"),
    [
        ("call me 0912345678", "phone"),
        ("اتصل ٠٩١٢٣٤٥٦٧٨", "phone"),
        ("write to a@b.co", "email"),
        ("see https://example.com", "link"),
        ("size 42, 3 pairs", ""),
    ],
)
def test_contact_details_and_links_are_flagged_for_staff(buyer, store, body, flags):
    assert send(conversation(buyer, store), buyer, body).flags == flags


def test_sending_too_fast_is_a_429_with_retry_after(buyer_client, buyer, store, settings):
    settings.CHAT_MESSAGES_PER_MINUTE = 3
    url = f"/api/chat/conversations/{conversation(buyer, store).pk}/messages/"

    answers = [buyer_client.post(url, {"body": f"m{n}"}) for n in range(4)]

    assert [a.status_code for a in answers] == [201, 201, 201, 429]
    assert int(answers[-1]["Retry-After"]) >= 1
    assert Message.objects.count() == 3


def test_opening_too_many_conversations_is_a_429(buyer_client, settings):
    settings.CHAT_CONVERSATIONS_PER_HOUR = 2
    stores = [StoreFactory() for _ in range(3)]

    answers = [buyer_client.post("/api/chat/conversations/", {"store_id": s.pk}) for s in stores]
    reopened = buyer_client.post("/api/chat/conversations/", {"store_id": stores[0].pk})

    assert [a.status_code for a in answers] == [201, 201, 429]
    assert reopened.status_code == 200  # an existing one is not a new one


def test_the_inbox_and_a_page_of_messages_cost_a_fixed_number_of_queries(
    buyer, store, make_auth_client, django_assert_max_num_queries
):
    client = make_auth_client(store.owner)
    for _n in range(12):
        talk = conversation(UserFactory(), store)
        for k in range(3):
            send(talk, talk.buyer, f"message {k}")
    conversation_id = talk.pk

    with django_assert_max_num_queries(8):
        inbox = client.get("/api/chat/conversations/").json()
    with django_assert_max_num_queries(8):
        page = client.get(f"/api/chat/conversations/{conversation_id}/messages/").json()

    assert len(inbox["results"]) == 12
    assert all(c["unread_count"] == 3 for c in inbox["results"])
    assert len(page["results"]) == 3


def test_a_store_shows_its_median_first_reply_time(api_client, store):
    start = timezone.now() - timedelta(days=2)
    for minutes in (4, 10, 30):
        with time_machine.travel(start, tick=False):
            talk = conversation(UserFactory(), store, message="Do you deliver to Bahri?")
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            send(talk, store.owner, "Yes")
    with time_machine.travel(start, tick=False):
        conversation(UserFactory(), store, message="unanswered")
    with time_machine.travel(timezone.now() - timedelta(days=40), tick=False):
        old = conversation(UserFactory(), store, message="long ago")
        send(old, store.owner, "answered at once")

    answer = api_client.get(f"/api/chat/stores/{store.pk}/response-time/").json()

    assert answer == {"median_first_reply_seconds": 600, "conversations": 3}
    assert api_client.get("/api/chat/stores/999999/response-time/").status_code == 404


def test_a_block_holds_between_the_two_parties_whatever_the_context(
    buyer_client, owner_client, buyer, store
):
    first = conversation(buyer, store, product=make_product(store))
    send(first, buyer, "hello")
    owner_client.post(f"/api/chat/conversations/{first.pk}/block/")
    message = Message.objects.get(conversation=first)

    other_product = buyer_client.post(
        "/api/chat/conversations/",
        {"store_id": store.pk, "product_id": make_product(store).pk, "message": "again"},
    )
    no_context = buyer_client.post(
        "/api/chat/conversations/", {"store_id": store.pk, "message": "hi"}
    )
    edited = buyer_client.patch(f"/api/chat/messages/{message.pk}/", {"body": "rude words now"})

    assert other_product.status_code == 403
    assert other_product.json()["code"] == "blocked"
    assert no_context.status_code == 403
    assert edited.status_code == 403
    assert Conversation.objects.count() == 1
    assert Message.objects.count() == 1


def test_what_was_deleted_or_hidden_is_not_replayed_from_the_event_log(buyer, store, owner_client):
    from chat import services

    talk = conversation(buyer, store)
    secret = send(talk, buyer, "my number is 0912345678")
    abusive = send(talk, buyer, "abusive text")
    services.delete_message(message=secret, user=buyer)
    services.hide_message(message=abusive)

    replay = owner_client.get("/api/events/", {"after_seq": 0}).json()["results"]

    bodies = [e["data"]["body"] for e in replay if e["type"].startswith("chat.message")]
    assert bodies == [None, None, None, None]
    assert "0912345678" not in str(replay)
    assert "abusive" not in str(replay)


def test_a_failed_first_message_leaves_no_empty_conversation(buyer_client, store, settings):
    settings.CHAT_MESSAGES_PER_MINUTE = 0

    answer = buyer_client.post("/api/chat/conversations/", {"store_id": store.pk, "message": "hi"})

    assert answer.status_code == 429
    assert Conversation.objects.count() == 0


def test_open_reports_come_first_in_the_staff_queue(buyer, store):
    from django.contrib.admin.sites import site

    from chat.admin import ReportAdmin
    from chat.services import report_message

    talk = conversation(buyer, store)
    resolved = report_message(message=send(talk, buyer, "a"), user=store.owner, reason="spam")
    resolved.resolved_at = timezone.now()
    resolved.save()
    open_one = report_message(message=send(talk, buyer, "b"), user=store.owner, reason="abuse")

    ordering = ReportAdmin(Report, site).get_ordering(None)
    listed = list(Report.objects.order_by(*ordering))

    assert listed == [open_one, resolved]


def test_sending_a_message_costs_a_fixed_number_of_queries(
    buyer, store, make_auth_client, django_assert_max_num_queries
):
    client = make_auth_client(buyer)
    talk = conversation(buyer, store)
    for k in range(20):  # a long conversation costs what a short one does
        send(talk, buyer if k % 2 else store.owner, f"message {k}")
    url = f"/api/chat/conversations/{talk.pk}/messages/"

    # The caller, the conversation, the retry check, the block check, its row lock, the message,
    # the pointers, the participants' event streams (two) and events, the offline-email task:
    # eleven, and two savepoints' four. What runs after commit (rings, the task's hand-over)
    # is not the request's.
    with django_assert_max_num_queries(15):
        answer = client.post(url, {"body": "Is it in stock?", "client_message_id": "c-1"})

    assert answer.status_code == 201
    assert answer.json()["body"] == "Is it in stock?"
    assert answer.json()["attachments"] == []
