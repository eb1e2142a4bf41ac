from django.db import migrations


class Migration(migrations.Migration):
    """WorkerCheck now belongs to the ops app (its table was renamed by ops 0001)."""

    dependencies = [
        ("core", "0001_initial"),
        ("ops", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="WorkerCheck")],
            database_operations=[],
        ),
    ]
