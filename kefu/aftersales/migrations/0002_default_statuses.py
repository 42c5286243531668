from django.db import migrations

STATUSES = [
    ("新建", "open", True), ("处理中", "open", False), ("待买家回复", "waiting_buyer", True),
    ("待仓库处理", "waiting_warehouse", True), ("待快递回复", "waiting_courier", True),
    ("待平台处理", "waiting_platform", True), ("已解决", "resolved", True), ("已关闭", "closed", True),
]


def create(apps, schema_editor):
    CaseStatus = apps.get_model("aftersales", "CaseStatus")
    for position, (name, category, default) in enumerate(STATUSES):
        CaseStatus.objects.get_or_create(name=name, defaults={"category": category, "position": position,
                                                              "default_for_category": default})


def remove(apps, schema_editor):
    apps.get_model("aftersales", "CaseStatus").objects.filter(name__in=[s[0] for s in STATUSES]).delete()


class Migration(migrations.Migration):
    dependencies = [("aftersales", "0001_initial")]
    operations = [migrations.RunPython(create, remove)]
