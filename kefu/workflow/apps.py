from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowConfig(AppConfig):
    name = "kefu.workflow"
    label = "workflow"
    verbose_name = _("Workflow")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db import transaction
        from django.db.models.signals import post_delete, post_save

        from . import plugin
        from .models import StatusLabel
        from .selectors import LABEL_IDS

        def forget(**_kwargs: object) -> None:
            # at once (this transaction reads its own change) and again at commit: another thread
            # of this process could remember the old labels in between
            LABEL_IDS.forget()
            transaction.on_commit(LABEL_IDS.forget)

        plugin.register()
        post_save.connect(forget, sender=StatusLabel, dispatch_uid="workflow-label-ids-save", weak=False)
        post_delete.connect(forget, sender=StatusLabel, dispatch_uid="workflow-label-ids-delete", weak=False)
