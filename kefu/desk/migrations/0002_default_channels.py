import secrets

from django.db import migrations


def create(apps, schema_editor):
    Channel = apps.get_model("desk", "Channel")
    for code, name, kind in (("api", "API", "platform"), ("import", "聊天记录导入", "import")):
        Channel.objects.get_or_create(code=code, defaults={"name": name, "kind": kind, "secret": secrets.token_hex(32)})


class Migration(migrations.Migration):
    dependencies = [("desk", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
