"""The message's shop is required from now on, and a shop's day of messages is one index range
(replacing the index on the time alone, which every KPI query had to join to the conversations)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("desk", "0009_message_shop")]

    operations = [
        migrations.AlterField(
            model_name="message",
            name="shop",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="org.shop",
                verbose_name="shop",
            ),
        ),
        migrations.RemoveIndex(model_name="message", name="desk_msg_sent"),
        migrations.AddIndex(
            model_name="message",
            index=models.Index(fields=["shop", "sent_at"], name="desk_msg_shop_sent"),
        ),
    ]
