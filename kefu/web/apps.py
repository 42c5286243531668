from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "kefu.web"
    label = "web"
    verbose_name = "Web UI"

    def ready(self) -> None:
        from . import plugin

        plugin.register()
