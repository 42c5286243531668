"""Cases move onto the shared workflow core (ADR 0010): their status labels become
workflow.StatusLabel rows of the "aftersales.case" workflow, and the copied ``category`` column goes
(a case's category is its label's)."""

import django.db.models.deletion
from django.db import migrations, models

WORKFLOW = "aftersales.case"


def labels_forward(apps, schema_editor):
    CaseStatus = apps.get_model("aftersales", "CaseStatus")
    StatusLabel = apps.get_model("workflow", "StatusLabel")
    Case = apps.get_model("aftersales", "Case")
    for old in CaseStatus.objects.all():
        label, _ = StatusLabel.objects.get_or_create(
            workflow=WORKFLOW,
            name=old.name,
            defaults={
                "category": old.category,
                "position": old.position,
                "default_for_category": old.default_for_category,
            },
        )
        Case.objects.filter(status_id=old.pk).update(label=label)


def labels_backward(apps, schema_editor):
    CaseStatus = apps.get_model("aftersales", "CaseStatus")
    StatusLabel = apps.get_model("workflow", "StatusLabel")
    Case = apps.get_model("aftersales", "Case")
    for label in StatusLabel.objects.filter(workflow=WORKFLOW):
        old, _ = CaseStatus.objects.get_or_create(
            name=label.name,
            defaults={
                "category": label.category,
                "position": label.position,
                "default_for_category": label.default_for_category,
            },
        )
        Case.objects.filter(label_id=label.pk).update(status=old, category=label.category)


class Migration(migrations.Migration):
    dependencies = [
        ("aftersales", "0004_ledgers"),
        ("workflow", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="label",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="workflow.statuslabel"
            ),
        ),
        migrations.RunPython(labels_forward, labels_backward),
        migrations.RemoveIndex(model_name="case", name="case_cat_idx"),
        migrations.RemoveIndex(model_name="case", name="case_shop_cat_idx"),
        migrations.RemoveIndex(model_name="case", name="case_owner_cat_idx"),
        migrations.RemoveField(model_name="case", name="status"),
        migrations.RemoveField(model_name="case", name="category"),
        migrations.RenameField(model_name="case", old_name="label", new_name="status"),
        migrations.AlterField(
            model_name="case",
            name="status",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="workflow.statuslabel",
                verbose_name="status",
            ),
        ),
        migrations.DeleteModel(name="CaseStatus"),
        migrations.AlterField(
            model_name="case",
            name="checklist",
            field=models.JSONField(blank=True, default=dict, verbose_name="checklist"),
        ),
        migrations.AddIndex(
            model_name="case", index=models.Index(fields=["status", "-opened_at", "-id"], name="case_status_idx")
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["shop", "status", "-opened_at", "-id"], name="case_shop_status_idx"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["owner", "status", "-opened_at", "-id"], name="case_owner_status_idx"),
        ),
    ]
