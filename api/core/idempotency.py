"""``Idempotency-Key`` support for unsafe endpoints that clients may retry.

An endpoint opts in by decorating its handler with ``@idempotent``:

* no header (or an anonymous caller) → the request runs as usual;
* first request with a key → the key is claimed, the view runs, and a 2xx response is stored;
* same key, same method, path and body → the stored response is replayed without running the
  view again (header ``Idempotent-Replayed: true``);
* same key with a different request → 422 ``idempotency_key_reused``;
* same key while the first request is still running → 409 ``idempotency_in_progress``.

Only 2xx responses are stored. After invalid input (400: nothing ran) the key is forgotten, so
the fixed request may use it. After any other failure (a declined card, a conflict, a 5xx) the
same request may run again under the key, but the key stays bound to it: a different request
(another card after a decline) is a 422, never taken for the same one. Keys are scoped to the
user and expire after ``IDEMPOTENCY_KEY_TTL``; an in-progress claim older than
``IDEMPOTENCY_LOCK_TIMEOUT`` belongs to a request that died and is taken over by the next retry.
"""

import functools
import hashlib
import json
import logging
import re
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions as drf
from rest_framework.request import Request
from rest_framework.response import Response

from core.exceptions import IdempotencyInProgress, IdempotencyKeyReused
from core.models import IdempotencyKey
from core.serialization import json_safe

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, no spaces

ViewMethod = TypeVar("ViewMethod", bound=Callable[..., Response])


def request_fingerprint(*, method: str, path: str, body: bytes) -> str:
    """Hash of what makes two requests "the same": method, path and body.

    JSON bodies are canonicalised (key order and whitespace don't matter); others hash raw.
    """
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, UnicodeDecodeError):
        canonical = body
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), canonical):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def claim_idempotency_key(
    *, user: Any, key: str, method: str, path: str, fingerprint: str
) -> tuple[IdempotencyKey, bool]:
    """Claim ``key`` for this request, or find the finished request to replay.

    Returns ``(record, replay)``. Raises IdempotencyKeyReused or IdempotencyInProgress.
    The claim is committed at once so a concurrent duplicate sees it.
    """
    for _ in range(3):
        now = timezone.now()
        try:
            with transaction.atomic():
                record = IdempotencyKey.objects.create(
                    user=user,
                    key=key,
                    method=method,
                    path=path,
                    fingerprint=fingerprint,
                    locked_at=now,
                    expires_at=now + settings.IDEMPOTENCY_KEY_TTL,
                )
            return record, False
        except IntegrityError:
            pass

        existing = IdempotencyKey.objects.filter(user=user, key=key).first()
        if existing is None:
            continue  # released between our insert and our read: claim again
        if existing.expires_at <= now:
            IdempotencyKey.objects.filter(pk=existing.pk, expires_at__lte=now).delete()
            continue
        if existing.fingerprint != fingerprint:
            raise IdempotencyKeyReused()
        if existing.status == IdempotencyKey.Status.COMPLETED:
            return existing, True
        if existing.status == IdempotencyKey.Status.FAILED:
            # The same request again after an error (a declined card, a 5xx): it runs again.
            retried = IdempotencyKey.objects.filter(
                pk=existing.pk, status=IdempotencyKey.Status.FAILED
            ).update(status=IdempotencyKey.Status.IN_PROGRESS, locked_at=now)
            if retried:
                existing.status, existing.locked_at = IdempotencyKey.Status.IN_PROGRESS, now
                return existing, False
            continue  # another retry took it first: look again
        stale_before = now - settings.IDEMPOTENCY_LOCK_TIMEOUT
        if existing.locked_at < stale_before:
            taken = IdempotencyKey.objects.filter(
                pk=existing.pk,
                status=IdempotencyKey.Status.IN_PROGRESS,
                locked_at=existing.locked_at,
            ).update(locked_at=now)
            if taken:
                logger.warning("idempotency key %s taken over after a stale claim", existing.pk)
                existing.locked_at = now
                return existing, False
        raise IdempotencyInProgress()
    raise IdempotencyInProgress()


def complete_idempotency_key(*, record: IdempotencyKey, status: int, body: Any) -> None:
    IdempotencyKey.objects.filter(pk=record.pk).update(
        status=IdempotencyKey.Status.COMPLETED,
        response_status=status,
        response_body=json_safe(body),
    )


def forget_idempotency_key(*, record: IdempotencyKey) -> None:
    IdempotencyKey.objects.filter(pk=record.pk, status=IdempotencyKey.Status.IN_PROGRESS).delete()


def release_idempotency_key(*, record: IdempotencyKey) -> None:
    """The request failed: the same request may run again under the key, but the key stays
    bound to it — another request with it (a different card after a decline) is a 422."""
    IdempotencyKey.objects.filter(pk=record.pk, status=IdempotencyKey.Status.IN_PROGRESS).update(
        status=IdempotencyKey.Status.FAILED
    )


def purge_expired_idempotency_keys() -> int:
    deleted, _ = IdempotencyKey.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


def idempotent(view_method: ViewMethod) -> ViewMethod:
    """Decorate an APIView handler (``post``, ``put``...) to honour ``Idempotency-Key``.

    Runs after DRF's authentication, permission and throttle checks, so the key is scoped to an
    authenticated user. Use ``idempotency_key_parameter`` in the view's ``@extend_schema``.
    """

    @functools.wraps(view_method)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(HEADER)
        if key is None or not request.user.is_authenticated:
            return view_method(view, request, *args, **kwargs)
        if not _VALID_KEY.match(key):
            raise drf.ValidationError(
                {HEADER: ["Must be 1 to 255 printable ASCII characters without spaces."]}
            )

        method, path = request.method or "", request.path
        fingerprint = request_fingerprint(method=method, path=path, body=request.body)
        record, replay = claim_idempotency_key(
            user=request.user, key=key, method=method, path=path, fingerprint=fingerprint
        )
        if replay:
            assert record.response_status is not None
            return Response(
                record.response_body,
                status=record.response_status,
                headers={REPLAYED_HEADER: "true"},
            )

        try:
            response = view_method(view, request, *args, **kwargs)
        except (drf.ValidationError, drf.ParseError, DjangoValidationError):
            forget_idempotency_key(record=record)  # a 400: invalid input ran nothing
            raise
        except BaseException:
            release_idempotency_key(record=record)
            raise
        if 200 <= response.status_code < 300:
            complete_idempotency_key(record=record, status=response.status_code, body=response.data)
        elif response.status_code == 400:
            forget_idempotency_key(
                record=record
            )  # invalid input ran nothing: fix it, reuse the key
        else:
            release_idempotency_key(record=record)
        return response

    return wrapper  # type: ignore[return-value]
