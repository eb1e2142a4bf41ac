"""The channel layer behind WebSockets: channels-redis with Redis, else in memory (one ASGI
process: events made in a Celery worker need the Redis layer to reach a socket)."""

from api.settings.environment import env
from api.settings.redis import REDIS_URL

# channels-redis waits for a socket's next message with a blocking BZPOPMIN of 5 s; redis-py
# 8 reads with a 5 s socket timeout by default, so an idle socket's read timed out first and
# every socket idle for 5 s closed with 1011. The read timeout must outlast the block; it still
# bounds how long a dead Redis goes unnoticed.
CHANNEL_LAYER_SOCKET_TIMEOUT = 15

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_timeout": CHANNEL_LAYER_SOCKET_TIMEOUT,
                        "socket_connect_timeout": 5,
                    }
                ],
                "prefix": "sudamall",
                # Every socket of a process shares one Redis list (channels-redis' process-
                # specific channel), capped at 100 messages by default: 2,000 sockets and a
                # few dozen chat messages a second filled it, and past the cap rings are dropped
                # silently (the poll then delivered them seconds late; bench/chat.py).
                "capacity": 2000,
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# The first-message handshake of every socket (core.websocket) asks this for the user behind a
# token, the way DRF finds its authentication classes: core never imports the accounts apps.
WEBSOCKET_TOKEN_AUTHENTICATOR = "authentication.websocket.identify"  # noqa: S105

# The event log (notifications.events): each process polls it for the sockets it holds, so
# events made elsewhere (a Celery worker, with no Redis to carry the ring) arrive within half a
# second of their commit; with Redis the ring does that and the poll only heals a lost one.
EVENTS_POLL_SECONDS = env.float("EVENTS_POLL_SECONDS", default=5.0 if REDIS_URL else 0.5)
# Kept at least this long and at least this many per user, for sockets that resume.
EVENTS_KEEP_HOURS = env.int("EVENTS_KEEP_HOURS", default=24)
EVENTS_KEEP_LAST = env.int("EVENTS_KEEP_LAST", default=1000)
