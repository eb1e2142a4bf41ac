from django.db import migrations, models


class Migration(migrations.Migration):
    """A query's postings read from the index alone: (term, weight, document) instead of (term,
    document) — added before the old one goes, so reads keep an index meanwhile."""

    dependencies = [
        ("search", "0003_index_log"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="posting",
            index=models.Index(
                fields=["term", "weight", "document"], name="posting_term_weight_doc"
            ),
        ),
        migrations.RemoveIndex(
            model_name="posting",
            name="posting_term_doc",
        ),
    ]
