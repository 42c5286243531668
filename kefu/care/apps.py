from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareConfig(AppConfig):
    name = "kefu.care"
    label = "care"
    verbose_name = _("Customer care")

    def ready(self) -> None:
        from kefu.workflow import registry

        from . import plugin
        from .workflow import COMPLAINTS

        registry.register(COMPLAINTS)
        plugin.register()
