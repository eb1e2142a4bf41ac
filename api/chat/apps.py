from django.apps import AppConfig


class ChatConfig(AppConfig):
    """Buyer ↔ store conversations. A top app: it reads orders (a conversation's context) and
    stores (the party), and delivers through the notifications port's event log."""

    name = "chat"
    verbose_name = "Chat"

    def ready(self) -> None:
        from chat import kinds, typing  # noqa: F401 - kinds registers the notification kind
        from notifications import client_messages

        client_messages.register("chat.typing", typing.handle)
