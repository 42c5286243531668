from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "kefu.org"
    label = "org"
    verbose_name = "Organisation"

    def ready(self) -> None:
        from . import plugin

        plugin.register()
        from kefu.core.actions import register_capability_check

        from .permissions import has_capability

        register_capability_check(has_capability)
