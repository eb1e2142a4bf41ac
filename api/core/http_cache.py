"""A short shared cache for anonymous catalogue reads, and conditional GETs.

Most catalogue traffic is anonymous and asks the same pages (the first page of a category, a
popular product). ``cache_anonymous_get`` keeps an anonymous answer for ``CATALOGUE_CACHE_SECONDS``
(1 s: a price, stock, offer or deletion shows within a second, time-based offers included) in the
shared cache, keyed by the absolute URL, so a burst of readers costs one database pass a second
per page. Every such answer carries an ``ETag`` and ``Cache-Control: public, max-age=1,
stale-while-revalidate=30``; a client (or a CDN) that sends ``If-None-Match`` with the current
tag gets a 304 without a body. Signed-in callers (their answers carry ``is_favorite``) are never
cached, and throttling and permissions run before the cache is asked.
"""

import functools
import hashlib
from collections.abc import Callable
from typing import Any

from django.conf import settings
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


def _not_modified(request: Request, etag: str) -> bool:
    return etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]


def cache_anonymous_get(*, unless: tuple[str, ...] = ()) -> Callable[[Handler], Handler]:
    """For an APIView's ``get``: anonymous 200 answers cached briefly, with ETag/304 — not
    when one of the ``unless`` query parameters is given (a search is logged each time)."""
    return functools.partial(_cached, unless=unless)


def _cached(handler: Handler, *, unless: tuple[str, ...]) -> Handler:
    @functools.wraps(handler)
    def get(self: Any, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if (
            request.user.is_authenticated
            or not settings.CATALOGUE_CACHE_SECONDS
            or any(request.query_params.get(name) for name in unless)
        ):
            return handler(self, request, *args, **kwargs)
        key = "http:" + hashlib.sha256(request.build_absolute_uri().encode()).hexdigest()
        cached = cache.get(key)
        if cached is None:
            response = handler(self, request, *args, **kwargs)
            if response.status_code != status.HTTP_200_OK:
                return response
            body = JSONRenderer().render(response.data)
            cached = ('"' + hashlib.sha256(body).hexdigest()[:32] + '"', body)
            cache.set(key, cached, settings.CATALOGUE_CACHE_SECONDS)
        etag, body = cached
        if _not_modified(request, etag):
            return HttpResponse(status=status.HTTP_304_NOT_MODIFIED, headers=_headers(etag))
        return HttpResponse(body, content_type="application/json", headers=_headers(etag))

    return get
