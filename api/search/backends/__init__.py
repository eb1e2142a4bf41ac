"""The configured search backend: ``get_backend()`` loads ``SEARCH_BACKEND`` once per setting."""

import functools

from django.conf import settings
from django.utils.module_loading import import_string

from search.backends.base import SearchBackend


@functools.cache
def _load(path: str) -> SearchBackend:
    backend = import_string(path)()
    if not isinstance(backend, SearchBackend):
        raise TypeError(f"{path} is not a search backend")
    return backend


def get_backend() -> SearchBackend:
    return _load(settings.SEARCH_BACKEND)
