"""The chat notification: messages still unread while their recipient was away."""

from notifications.kinds import Kind, register

register(
    Kind(
        name="chat_unread",
        category="chat",
        variables=frozenset(
            {"first_name", "conversation_id", "sender", "about", "count", "messages"}
        ),
        description="Messages unread for a while, their recipient not connected.",
        identity="support",
        title={"en": "{count} new messages from {sender}", "ar": "{count} رسائل جديدة من {sender}"},
        body={"en": "{about}", "ar": "{about}"},
        link="/chat/{conversation_id}",
        sample={
            "count": 2,
            "messages": [
                {"body": "Is this still available?", "files": 0, "sent_at": "2026-11-30 09:12 UTC"},
                {"body": "I can collect it today.", "files": 1, "sent_at": "2026-11-30 09:13 UTC"},
            ],
        },
    ),
)
