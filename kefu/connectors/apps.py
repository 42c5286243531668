from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConnectorsConfig(AppConfig):
    name = "kefu.connectors"
    label = "connectors"
    verbose_name = _("Connectors")

    def ready(self) -> None:
        from . import plugin, writeback  # noqa: F401 (writeback registers its outbox handler)

        plugin.register()
