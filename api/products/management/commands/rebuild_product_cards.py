from typing import Any

from django.core.management.base import BaseCommand

from products import cards


class Command(BaseCommand):
    help = (
        "Rebuild every product card (the catalogue's read model) from the catalogue: cards of "
        "products on sale are rewritten, the others deleted. Safe while the site runs."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        done = cards.rebuild()
        self.stdout.write(f"{done['written']} cards written, {done['removed']} removed")
