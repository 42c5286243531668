"""The workflow core's own page (status labels) in the settings menu."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kefu.core import plugins


def register() -> None:
    plugins.urls("workflow/", "kefu.workflow.urls", order=80)
    plugins.nav_section(
        plugins.NavSection(
            "settings",
            _("Settings"),
            90,
            (plugins.NavItem(_("Status labels"), "workflow:statuses", "workflow.configure"),),
        )
    )
