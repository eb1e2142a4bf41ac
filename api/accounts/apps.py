from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        # Registers its notification kinds and segment fields.
        from accounts import kinds, segments  # noqa: F401
