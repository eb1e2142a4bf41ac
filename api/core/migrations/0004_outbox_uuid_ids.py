# The outbox's ids become UUIDs made by the writer, so a batch is one INSERT. Its rows are
# transient (deleted once run): the table is recreated rather than converted.

import uuid

import django.core.serializers.json
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_task_outbox"),
    ]

    operations = [
        migrations.DeleteModel(name="OutboxMessage"),
        migrations.CreateModel(
            name="OutboxMessage",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("task", models.CharField(max_length=200)),
                ("kwargs", models.JSONField(encoder=django.core.serializers.json.DjangoJSONEncoder)),
                ("eta", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("published_at", models.DateTimeField(blank=True, null=True)),
                ("publish_attempts", models.PositiveIntegerField(default=0)),
                ("claimed_by", models.CharField(blank=True, max_length=64)),
                ("started_at", models.DateTimeField(blank=True, null=True)),
                ("last_error", models.CharField(blank=True, max_length=500)),
            ],
            options={
                "indexes": [models.Index(fields=["published_at", "created_at"], name="outbox_due")],
            },
        ),
    ]
