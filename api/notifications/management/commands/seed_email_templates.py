from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from notifications.seeds import seed


class Command(BaseCommand):
    help = (
        "Write the seeded email templates (Arabic and English, with the Sudamall stylesheet and "
        "logo) that don't exist yet; --replace overwrites edited ones too."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--replace", action="store_true")

    def handle(self, *args: Any, replace: bool = False, **options: Any) -> None:
        written = seed(replace=replace)
        self.stdout.write(f"{len(written)} email templates written" + (
            f": {', '.join(written)}" if written else " (all were there)"))  # fmt: skip
