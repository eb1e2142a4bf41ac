"""ASGI entry point served by daphne: HTTP through Django on a bounded thread pool
(``core.asgi``), WebSockets through Channels."""

import gc
import os
from typing import Any

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "api.settings")

# Django must be set up before anything that imports models (consumers, routing).
django_wsgi_app = get_wsgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from api.routing import websocket_urlpatterns  # noqa: E402
from core import metrics  # noqa: E402
from core.asgi import ThreadPoolHttp  # noqa: E402
from core.websocket import OriginValidator  # noqa: E402

http: Any
if settings.WEB_THREADS:
    http = ThreadPoolHttp(
        django_wsgi_app,
        threads=settings.WEB_THREADS,
        queue_seconds=settings.WEB_QUEUE_SECONDS,
        max_body_bytes=settings.WEB_MAX_BODY_BYTES,
        max_form_bytes=settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
    )
    metrics.THREADS.set(settings.WEB_THREADS)
else:  # unbounded, as Django serves ASGI itself (bench/burst.py's baseline)
    from django.core.asgi import get_asgi_application

    http = get_asgi_application()

application = ProtocolTypeRouter(
    {
        "http": http,
        # Native apps send no Origin; browsers must come from an allowed one (API.md).
        "websocket": OriginValidator(URLRouter(websocket_urlpatterns)),
    }
)

# What is loaded by now (Django, the apps, their modules) lives as long as the process: moved out
# of the cyclic collector's reach, a full collection no longer walks it. With 2,000 sockets open,
# full collections had paused the process 120 to 470 ms every few seconds (bench/chat.py).
gc.freeze()
