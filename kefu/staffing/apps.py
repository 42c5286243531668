from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StaffingConfig(AppConfig):
    name = "kefu.staffing"
    label = "staffing"
    verbose_name = _("Staffing")

    def ready(self) -> None:
        from kefu.core import plugins, rulebook

        from .api import router
        from .rules import RULES

        rulebook.register(RULES)
        plugins.api_router("staffing", router)
