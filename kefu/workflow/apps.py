from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowConfig(AppConfig):
    name = "kefu.workflow"
    label = "workflow"
    verbose_name = _("Workflow")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import plugin

        plugin.register()
