from django.apps import AppConfig


class AuthenticationConfig(AppConfig):
    name = "authentication"
    verbose_name = "Authentication"

    def ready(self) -> None:
        from authentication import schema  # noqa: F401 - registers the OpenAPI auth schemes
