"""Celery application. Configuration lives in settings under the ``CELERY_`` namespace."""

import os

from celery import Celery
from kombu.transport import sqlalchemy as sqlalchemy_transport

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "api.settings")

# The embedded mode's broker is a SQLite file (sqla+sqlite://) that the worker polls; kombu polls
# every second, which a worker-made event then adds to its way to a socket. Its transport options
# all go to SQLAlchemy's create_engine, so the interval can only be set on the class.
sqlalchemy_transport.Transport.polling_interval = 0.2

# Every task checks the outbox claim of the message it runs (core.outbox).
app = Celery("api", task_cls="core.outbox:OutboxAwareTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
