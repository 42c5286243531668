"""Messages carry their conversation's shop (which never changes), so a shop's messages of a day
are one index range: the KPI query no longer joins every conversation of the shop (ADR 0017)."""

import django.db.models.deletion
from django.db import migrations, models


def fill_shop(apps, schema_editor):
    schema_editor.execute(
        "UPDATE desk_message SET shop_id = "
        "(SELECT c.shop_id FROM desk_conversation c WHERE c.id = desk_message.conversation_id)"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("desk", "0008_chase_labels"),
        ("org", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="shop",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="org.shop",
                verbose_name="shop",
            ),
        ),
        migrations.RunPython(fill_shop, migrations.RunPython.noop, elidable=False),
    ]
