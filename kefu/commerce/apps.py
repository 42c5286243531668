from django.apps import AppConfig


class CommerceConfig(AppConfig):
    name = "kefu.commerce"
    label = "commerce"
    verbose_name = "Commerce"

    def ready(self) -> None:
        from . import plugin

        plugin.register()
