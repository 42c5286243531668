from django.apps import AppConfig


class WorkforceConfig(AppConfig):
    name = "kefu.workforce"
    label = "workforce"
    verbose_name = "Workforce"

    def ready(self) -> None:
        from . import plugin

        plugin.register()
        from . import publication  # noqa: F401  (registers its outbox handler)
