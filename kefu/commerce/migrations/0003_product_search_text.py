"""SPEC §8: products searchable by any part of their title, SKU, category or parameters; on
PostgreSQL a trigram index serves ``icontains`` (substring search needs no word splitting)."""

from typing import Any

from django.db import migrations, models


def backfill(apps: Any, schema_editor: Any) -> None:
    from kefu.commerce.models import searchable

    product = apps.get_model("commerce", "Product")
    for row in product.objects.only("pk", "title", "sku", "category", "parameters").iterator(chunk_size=2000):
        product.objects.filter(pk=row.pk).update(
            search_text=searchable(row.title, row.sku, row.category, row.parameters)
        )


def trigram_index(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS commerce_product_search_trgm ON commerce_product "
        "USING gin (search_text gin_trgm_ops)"
    )


def drop_trigram_index(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS commerce_product_search_trgm")


class Migration(migrations.Migration):
    dependencies = [
        ("commerce", "0002_order_status_province_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="product",
            name="search_text",
            field=models.TextField(blank=True, default="", editable=False, verbose_name="search text"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.RunPython(trigram_index, drop_trigram_index),
    ]
