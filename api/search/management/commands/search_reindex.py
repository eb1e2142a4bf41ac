from typing import Any

from django.core.management.base import BaseCommand

from search import feed


class Command(BaseCommand):
    help = (
        "Bring the database search index in line with the catalogue: apply pending changes, "
        "then rewrite every document that differs from its product and drop those no longer "
        "on sale (what the beat's reconciler does every 10 minutes)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        drained = feed.drain()
        repaired = feed.reconcile()
        self.stdout.write(
            f"{drained} pending change(s) applied; {repaired['rewritten']} document(s) "
            f"rewritten, {repaired['removed']} removed."
        )
