"""Properties of the history and the read state, over random interleavings (Hypothesis):
paging by id never skips or repeats a message however many arrive between pages; unread counts
equal a plain reference model after any sequence of sends, deletes and reads, and a read
pointer never moves back."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.tests.factories import UserFactory
from chat import selectors, services
from chat.models import Message, Side
from chat.tests.factories import conversation, send
from stores.tests.factories import StoreFactory

pytestmark = pytest.mark.django_db

FAST = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FAST
@given(
    existing=st.integers(0, 12),
    steps=st.lists(st.tuples(st.integers(1, 5), st.integers(0, 3)), min_size=1, max_size=8),
)
def test_paging_backwards_while_messages_arrive_has_no_gap_and_no_duplicate(existing, steps):
    talk = conversation(UserFactory(), StoreFactory())
    store_owner = talk.store.owner
    before_paging = [send(talk, talk.buyer, f"old {n}").pk for n in range(existing)]
    seen: list[int] = []
    cursor = None
    for limit, arriving in steps:
        page = selectors.list_messages(conversation=talk, before=cursor, after=None, limit=limit)
        seen += [m.pk for m in page.results]
        for n in range(arriving):  # new messages land while the client reads older ones
            send(talk, store_owner, f"new {n}")
        if not page.has_more:
            break
        cursor = page.results[-1].pk
    else:
        while True:
            page = selectors.list_messages(conversation=talk, before=cursor, after=None, limit=5)
            seen += [m.pk for m in page.results]
            if not page.has_more:
                break
            cursor = page.results[-1].pk

    assert len(seen) == len(set(seen))  # no duplicate
    first_page_top = seen[0] if seen else None
    expected = sorted(
        Message.objects.filter(conversation=talk, pk__lte=first_page_top or 0).values_list(
            "pk", flat=True
        ),
        reverse=True,
    )
    assert seen == expected  # no gap, newest first
    assert set(before_paging) <= set(seen)


@FAST
@given(
    actions=st.lists(
        st.one_of(
            st.tuples(st.just("send"), st.sampled_from([Side.BUYER, Side.STORE])),
            st.tuples(
                st.just("read"), st.sampled_from([Side.BUYER, Side.STORE]), st.integers(0, 30)
            ),
            st.tuples(st.just("delete"), st.integers(0, 30)),
        ),
        max_size=25,
    )
)
def test_unread_counts_equal_a_reference_model(actions):
    talk = conversation(UserFactory(), StoreFactory())
    users = {Side.BUYER: talk.buyer, Side.STORE: talk.store.owner}
    sent: list[tuple[int, str]] = []  # (id, side) in order
    deleted: set[int] = set()
    pointer = {Side.BUYER: 0, Side.STORE: 0}
    for action in actions:
        if action[0] == "send":
            side = action[1]
            message = send(talk, users[side], "x")
            sent.append((message.pk, side))
            pointer[side] = max(pointer[side], message.pk)  # you've read what you wrote
        elif action[0] == "read" and sent:
            side, index = action[1], action[2] % len(sent)
            target = sent[index][0]
            services.mark_read(conversation=talk, user=users[side], up_to_message_id=target)
            pointer[side] = max(pointer[side], target)
        elif action[0] == "delete" and sent:
            message_id, side = sent[action[1] % len(sent)]
            services.delete_message(message=Message.objects.get(pk=message_id), user=users[side])
            deleted.add(message_id)

        talk.refresh_from_db()
        assert talk.buyer_read_up_to == pointer[Side.BUYER]
        assert talk.store_read_up_to == pointer[Side.STORE]

    for side, user in users.items():
        other = Side.STORE if side == Side.BUYER else Side.BUYER
        expected = sum(
            1 for pk, s in sent if s == other and pk > pointer[side] and pk not in deleted
        )
        assert selectors.unread_in(conversation_id=talk.pk, side=side) == expected
        summary = selectors.unread_summary(user=user)
        assert summary == {"unread_count": expected, "conversations_with_unread": int(expected > 0)}
        listed = selectors.list_conversations(user=user).get(pk=talk.pk)
        assert listed.unread_count == expected  # type: ignore[attr-defined]
