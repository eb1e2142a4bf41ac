from itertools import groupby

from django.db import migrations, models

KEY, SEPARATOR = "\x1f", "\x1e"  # search.models.FACET_KEY_SEPARATOR, FACET_SEPARATOR
BATCH = 1000


def fill_facet_keys(apps, schema_editor):
    """The documents already indexed get their facets' keys from their DocumentFacet rows."""
    SearchDocument = apps.get_model("search", "SearchDocument")
    DocumentFacet = apps.get_model("search", "DocumentFacet")
    rows = (
        DocumentFacet.objects.order_by("document_id", "id")
        .values_list("document_id", "facet", "value")
        .iterator(chunk_size=5000)
    )
    batch = []
    for document_id, facets in groupby(rows, key=lambda row: row[0]):
        keys = SEPARATOR.join(f"{facet}{KEY}{value}" for _, facet, value in facets)
        batch.append(SearchDocument(id=document_id, facet_keys=keys))
        if len(batch) >= BATCH:
            SearchDocument.objects.bulk_update(batch, ["facet_keys"])
            batch = []
    SearchDocument.objects.bulk_update(batch, ["facet_keys"])


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="searchdocument",
            name="facet_keys",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.RunPython(fill_facet_keys, migrations.RunPython.noop, elidable=True),
    ]
