from django.apps import AppConfig


class SearchConfig(AppConfig):
    """The search port: domain apps hand it text to match and plain documents; it never imports
    them. The backend is chosen by ``SEARCH_BACKEND`` (a dotted path)."""

    name = "search"
    verbose_name = "Search"

    def ready(self) -> None:
        from search import checks  # noqa: F401 - registers the system checks
