"""Chat: limits, the edit window, attachments and offline email (docs/chat.md)."""

from api.settings.environment import env

CHAT_MESSAGES_PER_MINUTE = env.int("CHAT_MESSAGES_PER_MINUTE", default=30)
CHAT_CONVERSATIONS_PER_HOUR = env.int("CHAT_CONVERSATIONS_PER_HOUR", default=20)
CHAT_EDIT_MINUTES = env.int("CHAT_EDIT_MINUTES", default=15)
CHAT_MESSAGE_MAX_CHARS = 4000
CHAT_ATTACHMENT_MAX_BYTES = env.int("CHAT_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
CHAT_ATTACHMENTS_PER_MESSAGE = 5
CHAT_ATTACHMENT_URL_SECONDS = env.int("CHAT_ATTACHMENT_URL_SECONDS", default=600)
# Unread this long after it was sent, the recipient offline → an email; then at most one per
# conversation and side every CHAT_EMAIL_EVERY_MINUTES.
CHAT_EMAIL_AFTER_MINUTES = env.int("CHAT_EMAIL_AFTER_MINUTES", default=5)
CHAT_EMAIL_EVERY_MINUTES = env.int("CHAT_EMAIL_EVERY_MINUTES", default=30)
# Typing indicators: relayed at most this often per socket and conversation; clients drop
# one after CHAT_TYPING_EXPIRES_SECONDS.
CHAT_TYPING_EVERY_SECONDS = 2
CHAT_TYPING_EXPIRES_SECONDS = 6
