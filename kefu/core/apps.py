from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "kefu.core"
    label = "core"
    verbose_name = _("Kefu core")

    def ready(self) -> None:
        from django.utils.translation import gettext

        from kefu.policies import i18n

        from . import lookups, rulebook  # noqa: F401 (``__in_array``; signals: the sign-in audit receivers)
        from .rules import RULES

        rulebook.register(RULES)

        i18n.install(gettext)  # the pure modules' messages in the request's language
        post_migrate.connect(_guard_ledgers, sender=self, dispatch_uid="kefu-ledger-truncate-guards")


def _guard_ledgers(using: str = "default", **_kwargs: object) -> None:
    from django.db import connections

    from .ledger import install_truncate_guards

    install_truncate_guards(connections[using])
