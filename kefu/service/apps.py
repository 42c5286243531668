from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "kefu.service"
    label = "service"
    verbose_name = _("Field service")

    def ready(self) -> None:
        from kefu.workflow import registry

        from . import notify, plugin  # noqa: F401 (notify registers its outbox handler)
        from .workflow import REQUESTS

        registry.register(REQUESTS)
        plugin.register()
