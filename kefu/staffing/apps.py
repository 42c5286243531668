from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StaffingConfig(AppConfig):
    name = "kefu.staffing"
    label = "staffing"
    verbose_name = _("Staffing")

    def ready(self) -> None:
        from kefu.core import plugins, rulebook

        from . import tasks  # noqa: F401  (its periodic job)
        from .api import router
        from .rules import RULES

        rulebook.register(RULES)
        plugins.api_router("staffing", router)
        plugins.urls("staffing/", "kefu.staffing.urls", order=95)
        plugins.nav_section(
            plugins.NavSection(
                "staffing",
                _("Staffing"),
                61,
                (plugins.NavItem(_("Requirement and roster proposal"), "staffing:requirement", "staffing.plan"),),
            )
        )
        from kefu.core import wording

        from .models import ProposalStatus, RosterProposal

        wording.register_models(RosterProposal)
        from kefu.core.signals import late_messages

        late_messages.connect(_history_stale, dispatch_uid="staffing-history-stale")
        wording.register_choices(ProposalStatus)
        wording.register(
            fields={
                "month": _("month"),
                "uncovered": _("agent-hours short"),
                "status": _("status"),
                "shift": _("shift"),
                "changed": _("cells changed"),
                "approved_rest": _("rest days approved since the proposal"),
                "replaced_by": _("replaced by proposal"),
            }
        )


def _history_stale(sender: object, shop_days: set[tuple[object, int]], **kwargs: object) -> None:
    from .history import forget

    forget(shop_days)  # type: ignore[arg-type]
