"""The web layer's own pages: home, search, imports, the handbook policy and the audit log."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kefu.core import plugins, rulebook, wording

from .rules import RULES


def register() -> None:
    rulebook.register(RULES)
    plugins.urls("", "kefu.web.urls", order=99)
    plugins.nav_section(
        plugins.NavSection(
            "overview",
            _("Overview"),
            10,
            (plugins.NavItem(_("Home"), "web:home"), plugins.NavItem(_("Search"), "web:search")),
        )
    )
    plugins.nav_section(
        plugins.NavSection(
            "commerce", _("Commerce"), 20, (plugins.NavItem(_("Imports"), "web:imports", "orders.import"),)
        )
    )
    plugins.nav_section(
        plugins.NavSection(
            "settings",
            _("Settings"),
            90,
            (
                plugins.NavItem(_("Handbook policy"), "web:policy"),
                plugins.NavItem(_("Audit log"), "web:audit", "audit.view"),
                plugins.NavItem(_("Messages not sent"), "web:outbox", "outbox.manage"),
            ),
        )
    )
    # the handbook's versions (the policy store is the core's; its page is this module's)
    wording.register(
        fields={"version": _("Version"), "effective_from": _("Effective from"), "attempts": _("Attempts so far")}
    )
