"""The channel layer behind WebSockets: channels-redis with Redis, else in memory (one ASGI
process: events made in a Celery worker need the Redis layer to reach a socket)."""

from api.settings.environment import env
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

# The event log (notifications.events): each process polls it for the sockets it holds, so
# events made elsewhere (a Celery worker, with no Redis to carry the ring) arrive within half a
# second of their commit; with Redis the ring does that and the poll only heals a lost one.
EVENTS_POLL_SECONDS = env.float("EVENTS_POLL_SECONDS", default=5.0 if REDIS_URL else 0.5)
# Kept at least this long and at least this many per user, for sockets that resume.
EVENTS_KEEP_HOURS = env.int("EVENTS_KEEP_HOURS", default=24)
EVENTS_KEEP_LAST = env.int("EVENTS_KEEP_LAST", default=1000)
