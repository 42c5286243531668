"""The reports pages and API plug themselves in (the reports come from each module's registry entries)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kefu.core import plugins


def register() -> None:
    from .api import router

    plugins.urls("reports/", "kefu.reports.urls", order=60)
    plugins.api_router("reports", router)
    plugins.nav_section(
        plugins.NavSection("reports", _("Reports"), 70, (plugins.NavItem(_("All reports"), "reports:index"),))
    )
