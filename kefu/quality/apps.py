from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QualityConfig(AppConfig):
    name = "kefu.quality"
    label = "quality"
    verbose_name = _("Quality inspection")

    def ready(self) -> None:
        from kefu.core import rulebook

        from .rules import RULES

        rulebook.register(RULES)
        from . import plugin, tasks  # noqa: F401  (their registrations)
