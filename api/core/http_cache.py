"""A short shared cache for anonymous catalogue reads, and conditional GETs.

Most catalogue traffic is anonymous and asks the same pages (the first page of a category, a
popular product). ``cache_anonymous_get`` keeps an anonymous answer for ``CATALOGUE_CACHE_SECONDS``
(1 s: a price, stock, offer or deletion shows within a second, time-based offers included) in the
shared cache, keyed by the absolute URL, so a burst of readers costs one database pass a second
per page. Every such answer carries an ``ETag`` and ``Cache-Control: public, max-age=1,
stale-while-revalidate=30``; a client (or a CDN) that sends ``If-None-Match`` with the current
tag gets a 304 without a body. Signed-in callers (their answers carry ``is_favorite``) are never
cached, and throttling and permissions run before the cache is asked.

Each web process also keeps what it fetched from the shared cache in its own memory until that
entry's second is up (counted from when it was made, not fetched, so a change still shows within
``CATALOGUE_CACHE_SECONDS``): a popular page costs a process one Redis round trip a second, not
one per request.
"""

import functools
import hashlib
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from rest_framework import status
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

Handler = Callable[..., Any]


def _headers(etag: str) -> dict[str, str]:
    seconds = settings.CATALOGUE_CACHE_SECONDS
    return {
        "ETag": etag,
        "Cache-Control": f"public, max-age={seconds}, stale-while-revalidate=30",
        "Vary": "Authorization, Cookie, Accept",
    }


_local: dict[str, tuple[float, str, bytes]] = {}  # key → (expires at, etag, body), this process
_local_lock = threading.Lock()
LOCAL_ENTRIES = 2000


def _local_get(key: str) -> tuple[str, bytes] | None:
    entry = _local.get(key)
    if entry is None or entry[0] <= time.time():
        return None
    return entry[1], entry[2]


def _local_put(key: str, made_at: float, etag: str, body: bytes) -> None:
    expires = made_at + settings.CATALOGUE_CACHE_SECONDS
    if expires <= time.time():
        return
    with _local_lock:
        if len(_local) >= LOCAL_ENTRIES:  # many distinct URLs: drop the expired, else all
            now = time.time()
            for old in [k for k, v in _local.items() if v[0] <= now] or list(_local):
                _local.pop(old, None)
        _local[key] = (expires, etag, body)


def forget_local() -> None:
    with _local_lock:
        _local.clear()


def _not_modified(request: Request, etag: str) -> bool:
    return etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]


Personalize = Callable[[Request, bytes], bytes]


def cache_anonymous_get(
    *, unless: tuple[str, ...] = (), personalize: Personalize | None = None, shared: bool = True
) -> Callable[[Handler], Handler]:
    """For an APIView's ``get``: anonymous 200 answers cached briefly, with ETag/304 — not
    when one of the ``unless`` query parameters is given (a search is logged each time).

    With ``personalize(request, body) -> body``, a signed-in caller gets the shared anonymous
    answer (same lag) with what is theirs added to it (their favourites): one small query
    instead of the whole read. Such answers are private and carry no ETag.

    ``shared=False``: answers are kept in each process's memory only, not in the shared cache
    too. For reads that cost less than asking Redis twice (a page of stores or categories is
    one short statement): there the shared cache only ever saved another process a read as
    cheap as the round trips, and every answer first made paid both. Each process then reads
    such a page at most once a second; the same page gives the same ``ETag`` in every process,
    as it is the body's hash."""
    return functools.partial(_cached, unless=unless, personalize=personalize, shared=shared)


def _cached(
    handler: Handler, *, unless: tuple[str, ...], personalize: Personalize | None, shared: bool
) -> Handler:
    @functools.wraps(handler)
    def get(self: Any, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        signed_in = request.user.is_authenticated
        if (
            (signed_in and personalize is None)
            or not settings.CATALOGUE_CACHE_SECONDS
            or any(request.query_params.get(name) for name in unless)
        ):
            return handler(self, request, *args, **kwargs)
        key = "http:" + hashlib.sha256(request.build_absolute_uri().encode()).hexdigest()
        local = _local_get(key)
        if local is not None:
            etag, body = local
        else:
            found = cache.get(key) if shared else None
            if found is None:
                response = _as_anonymous(handler, self, request, *args, **kwargs)
                if response.status_code != status.HTTP_200_OK:
                    return response
                body = JSONRenderer().render(response.data)
                etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
                made_at = time.time()
                if shared:
                    cache.set(key, (etag, body, made_at), settings.CATALOGUE_CACHE_SECONDS)
            else:
                etag, body = found[0], found[1]
                made_at = found[2] if len(found) > 2 else time.time()
            _local_put(key, made_at, etag, body)
        if signed_in:
            assert personalize is not None
            mine = personalize(request, body)
            return HttpResponse(mine, content_type="application/json", headers=_PRIVATE)
        if _not_modified(request, etag):
            return HttpResponse(status=status.HTTP_304_NOT_MODIFIED, headers=_headers(etag))
        return HttpResponse(body, content_type="application/json", headers=_headers(etag))

    return get


_PRIVATE = {"Cache-Control": "private, no-cache", "Vary": "Authorization, Cookie, Accept"}


def _as_anonymous(handler: Handler, view: Any, request: Request, *args: Any, **kwargs: Any) -> Any:
    """The answer an anonymous caller would get (the one shared), whoever asks."""
    user = request.user
    if not user.is_authenticated:
        return handler(view, request, *args, **kwargs)
    request.user = AnonymousUser()
    try:
        return handler(view, request, *args, **kwargs)
    finally:
        request.user = user
