"""The channel layer behind WebSockets: channels-redis with Redis, else in memory (one ASGI
process: events made in a Celery worker need the Redis layer to reach a socket)."""

from api.settings.redis import REDIS_URL

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": "sudamall"},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# The first-message handshake of every socket (core.websocket) asks this for the user behind a
# token, the way DRF finds its authentication classes: core never imports the accounts apps.
WEBSOCKET_TOKEN_AUTHENTICATOR = "authentication.websocket.user_id_for_token"  # noqa: S105
