from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "kefu.core"
    label = "core"
    verbose_name = _("Kefu core")

    def ready(self) -> None:
        from django.utils.translation import gettext

        from kefu.policies import i18n

        from . import signals  # noqa: F401  (sign-in audit receivers)

        i18n.install(gettext)  # the pure modules' messages in the request's language
