import asyncio
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction

from core.realtime import push_to_user, user_group

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def listener():
    """A channel subscribed to user 7's group, like an open WebSocket session."""
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(user_group(7), channel)
    yield layer, channel
    await layer.group_discard(user_group(7), channel)


async def receive_or_none(layer, channel, timeout=0.5):
    try:
        return await asyncio.wait_for(layer.receive(channel), timeout)
    except TimeoutError:
        return None


def _push_in_transaction(*, rollback: bool) -> None:
    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            push_to_user(7, "order.status_changed", {"order_id": 3, "total": Decimal("12.50")})
            if rollback:
                raise Rollback
    except Rollback:
        pass


async def test_event_is_delivered_after_commit_json_encoded(listener):
    layer, channel = listener
    await sync_to_async(_push_in_transaction)(rollback=False)

    message = await receive_or_none(layer, channel)

    assert message == {
        "type": "user.event",
        "event": {"type": "order.status_changed", "data": {"order_id": 3, "total": "12.50"}},
    }


async def test_nothing_is_sent_when_the_transaction_rolls_back(listener):
    layer, channel = listener
    await sync_to_async(_push_in_transaction)(rollback=True)

    assert await receive_or_none(layer, channel) is None


async def test_other_users_do_not_receive_the_event(listener):
    layer, channel = listener
    await sync_to_async(push_to_user)(8, "cart.updated", {})

    assert await receive_or_none(layer, channel) is None
