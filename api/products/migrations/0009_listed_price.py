from django.db import migrations, models
from django.db.models import Case, F, Q, When
from django.utils import timezone


def fill_listed_price(apps, schema_editor):
    Product = apps.get_model("products", "Product")
    now = timezone.now()
    running = Q(offer_price__isnull=False, offer_starts_at__lte=now, offer_ends_at__gt=now)
    Product.objects.update(
        listed_price=Case(When(running, then=F("offer_price")), default=F("price"))
    )


class Migration(migrations.Migration):
    dependencies = [("products", "0008_product_card")]

    operations = [
        migrations.AddField(
            model_name="product",
            name="listed_price",
            field=models.DecimalField(decimal_places=2, max_digits=12, null=True),
        ),
        migrations.RunPython(fill_listed_price, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="product",
            name="listed_price",
            field=models.DecimalField(decimal_places=2, max_digits=12),
        ),
        migrations.RemoveIndex(model_name="product", name="product_live_price"),
        migrations.AddIndex(
            model_name="product",
            index=models.Index(
                fields=["deleted_at", "listed_price", "id"], name="product_live_listed"
            ),
        ),
        migrations.AddIndex(
            model_name="product",
            index=models.Index(fields=["offer_starts_at"], name="product_offer_starts"),
        ),
        migrations.AddIndex(
            model_name="product",
            index=models.Index(fields=["offer_ends_at"], name="product_offer_ends"),
        ),
    ]
