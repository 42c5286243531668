from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "kefu.core"
    label = "core"
    verbose_name = "Kefu core"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (sign-in audit receivers)
