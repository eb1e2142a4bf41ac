from typing import Any

from django.core.checks import Error, register


@register()
def check_search_backend(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """SEARCH_BACKEND must load: a typo would otherwise surface as a 500 on the first search."""
    from search.backends import get_backend

    try:
        get_backend()
    except Exception as exc:
        return [
            Error(
                f"SEARCH_BACKEND can't be loaded: {exc}",
                hint="A dotted path to a search.backends.base.SearchBackend subclass.",
                id="search.E001",
            )
        ]
    return []
