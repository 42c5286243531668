"""What the organisation module adds to the shared UI, URL configuration and API."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kefu.core import plugins, rulebook, wording
from kefu.core.actors import Actor

from .rules import RULES


def _search_staff(actor: Actor, q: str) -> list[plugins.SearchHit]:
    from . import selectors

    page = selectors.staff_list(actor=actor, q=q, limit=5)
    return [
        plugins.SearchHit(
            _("Staff"),
            f"{s.name} ({s.employee_no})",
            reverse("org:staff_detail", args=[s.pk]),
            str(s.get_position_display()),
        )
        for s in page.items
    ]


def register() -> None:
    rulebook.register(RULES)
    from .api import router

    plugins.urls("", "kefu.org.urls", order=50)
    plugins.api_router("org", router)
    plugins.nav_section(
        plugins.NavSection(
            "organisation",
            _("Organisation"),
            50,
            (
                plugins.NavItem(_("Shops"), "org:shops"),
                plugins.NavItem(_("Teams"), "org:teams"),
                plugins.NavItem(_("Staff"), "org:staff"),
            ),
        )
    )
    plugins.nav_section(
        plugins.NavSection("settings", _("Settings"), 90, (plugins.NavItem(_("API tokens"), "org:tokens"),))
    )
    plugins.search_provider(plugins.SearchProvider("staff", _("Staff"), _search_staff, order=50))
    _words()


def _names(user_ids: Any) -> dict[int, str]:
    from .models import Staff

    return dict(Staff.objects.filter(user_id__in=list(user_ids)).values_list("user_id", "name"))


def _words() -> None:
    from .models import ApiToken, Platform, Position, Shop, Staff, Team

    wording.register_names(_names)
    wording.register_models(Shop, Team, Staff, ApiToken)
    wording.register_choices(Position, Platform)
    wording.register(
        fields={"shops": _("Shops"), "username": _("Username"), "expires_at": _("Expires")},
        labels={"staff": _("Staff list")},
    )
