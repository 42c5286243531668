from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeskConfig(AppConfig):
    name = "kefu.desk"
    label = "desk"
    verbose_name = _("Service desk")

    def ready(self) -> None:
        from kefu.workflow import registry

        from . import delivery, plugin  # noqa: F401 (delivery registers its outbox handlers)
        from .workflow import CONVERSATIONS

        registry.register(CONVERSATIONS)
        plugin.register()
