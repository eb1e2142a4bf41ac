from django.db import migrations


def create_writer_row(apps, schema_editor):
    apps.get_model("search", "IndexWriter").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("search", "0004_posting_covering_index")]

    operations = [migrations.RunPython(create_writer_row, migrations.RunPython.noop)]
