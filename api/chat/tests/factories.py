from typing import Any

from accounts.models import User
from accounts.tests.factories import UserFactory
from chat import services
from chat.models import Conversation, Message
from stores.models import Store
from stores.tests.factories import StoreFactory


def conversation(
    buyer: User | None = None, store: Store | None = None, **kwargs: Any
) -> Conversation:
    found, _ = services.start_conversation(
        buyer=buyer or UserFactory(), store=store or StoreFactory(), **kwargs
    )
    return found


def send(conversation: Conversation, sender: User, body: str = "Salam", **kwargs: Any) -> Message:
    message, _ = services.send_message(
        conversation=conversation, sender=sender, body=body, **kwargs
    )
    return message
