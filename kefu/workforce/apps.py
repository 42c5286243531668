from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkforceConfig(AppConfig):
    name = "kefu.workforce"
    label = "workforce"
    verbose_name = _("Workforce")

    def ready(self) -> None:
        from . import plugin

        plugin.register()
        from kefu.core.signals import staff_leave_date_set

        from . import publication  # noqa: F401  (registers its outbox handler)

        staff_leave_date_set.connect(_roster_end_after_leaving, dispatch_uid="workforce-roster-leaving")


def _roster_end_after_leaving(sender: Any, staff: Any, leave_date: Any, **kwargs: Any) -> None:
    """R-WF-18: a leaving date ends the roster after it (in the transaction that set the date)."""
    if leave_date is not None:
        from kefu.core.events import SystemActor

        from .services import roster_end

        roster_end(actor=SystemActor("workforce"), staff=staff, after=leave_date)
