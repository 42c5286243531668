from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AftersalesConfig(AppConfig):
    name = "kefu.aftersales"
    label = "aftersales"
    verbose_name = _("After-sales")

    def ready(self) -> None:
        from . import plugin

        plugin.register()
        from kefu.workflow import registry

        from . import report  # noqa: F401  (registers its outbox handler)
        from .workflow import CASES

        registry.register(CASES)
