from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowConfig(AppConfig):
    name = "kefu.workflow"
    label = "workflow"
    verbose_name = _("Workflow")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from . import plugin
        from .models import StatusLabel
        from .selectors import LABEL_IDS

        plugin.register()
        post_save.connect(LABEL_IDS.forget, sender=StatusLabel, dispatch_uid="workflow-label-ids-save")
        post_delete.connect(LABEL_IDS.forget, sender=StatusLabel, dispatch_uid="workflow-label-ids-delete")
