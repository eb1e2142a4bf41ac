from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from search import elastic


class Command(BaseCommand):
    help = (
        "Build a new Elasticsearch index from the database index, swap the live alias to it and "
        "drop the old one. Writes made meanwhile reach the new index."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.ELASTICSEARCH_URL:
            raise CommandError("ELASTICSEARCH_URL is not set: there is no Elasticsearch to build.")
        rebuilt = elastic.rebuild()
        self.stdout.write(f"{rebuilt.index}: {rebuilt.documents} documents")
