"""The workflow core's own page (status labels) in the settings menu."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kefu.core import plugins, rulebook, wording

from .rules import RULES


def register() -> None:
    rulebook.register(RULES)
    plugins.urls("workflow/", "kefu.workflow.urls", order=80)
    plugins.nav_section(
        plugins.NavSection(
            "settings",
            _("Settings"),
            90,
            (plugins.NavItem(_("Status labels"), "workflow:statuses", "workflow.configure"),),
        )
    )
    # a record's status category in its history: "已关闭", never commerce's "交易关闭"
    wording.register(
        labels={"category:closed": pgettext_lazy("case category", "Closed")},
        fields={"category": _("status category")},
    )
