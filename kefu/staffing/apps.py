from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StaffingConfig(AppConfig):
    name = "kefu.staffing"
    label = "staffing"
    verbose_name = _("Staffing")

    def ready(self) -> None:
        from kefu.core import plugins, rulebook

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
        wording.register_choices(ProposalStatus)
        wording.register(
            fields={
                "month": _("month"),
                "uncovered": _("agent-hours short"),
                "status": _("status"),
                "shift": _("shift"),
                "changed": _("cells changed"),
            }
        )
