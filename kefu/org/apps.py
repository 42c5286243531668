from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "kefu.org"
    label = "org"
    verbose_name = _("Organisation")

    def ready(self) -> None:
        from . import plugin

        plugin.register()
        from kefu.core.actions import register_capability_check

        from .permissions import has_capability

        register_capability_check(has_capability)
