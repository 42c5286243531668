"""What the workforce module adds to the shared UI, URL configuration, API and home page."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kefu.core import plugins


def _my_red_packets(user: Any, staff: Any) -> int | None:
    from . import selectors

    return selectors.red_packets_unsent_count(staff=staff) if staff is not None else None


def _to_decide(user: Any, staff: Any) -> int | None:
    from . import selectors

    return selectors.requests_awaiting_count(actor=user)


def _team_exceptions(user: Any, staff: Any) -> int | None:
    """The team lead's attendance exceptions of this month (late, early, missing punches, absences)."""
    from . import selectors

    if staff is None or staff.position != "team_lead" or staff.team_id is None:
        return None
    return selectors.team_exceptions_count(actor=user, team=staff.team_id)


def _team_requests(user: Any, staff: Any) -> int | None:
    """Rest and leave requests of the lead's team still waiting for the supervisor."""
    from . import selectors

    if staff is None or staff.position != "team_lead":
        return None
    return selectors.requests_awaiting_count(actor=user)


def register() -> None:
    from .api import router

    plugins.urls("attendance/", "kefu.workforce.urls", order=40)
    plugins.api_router("workforce", router)
    plugins.nav_section(
        plugins.NavSection(
            "workforce",
            _("Workforce"),
            40,
            (
                plugins.NavItem(_("My attendance"), "attendance:mine"),
                plugins.NavItem(_("Team attendance"), "attendance:team", "statement.view_team"),
                plugins.NavItem(_("Monthly statement"), "attendance:statement_export", "pay.view"),
                plugins.NavItem(_("Approvals"), "attendance:approvals", "leave.approve"),
                plugins.NavItem(_("Red packets"), "attendance:red_packets"),
                plugins.NavItem(_("Points and inspections"), "attendance:points"),
                plugins.NavItem(_("Weekly publication"), "attendance:publication"),
            ),
        )
    )
    mine = lambda: reverse("attendance:mine")  # noqa: E731
    plugins.home_card(plugins.HomeCard("red_packets", _("My red packets to send"), mine, _my_red_packets, 20))
    plugins.home_card(
        plugins.HomeCard(
            "leave_to_decide",
            _("Rest and leave requests to decide"),
            lambda: reverse("attendance:approvals"),
            _to_decide,
            60,
            capability="leave.approve",
        )
    )
    plugins.home_card(
        plugins.HomeCard(
            "team_exceptions",
            _("My team's attendance exceptions this month"),
            lambda: reverse("attendance:team"),
            _team_exceptions,
            40,
        )
    )
    plugins.home_card(
        plugins.HomeCard(
            "team_requests",
            _("My team's requests awaiting approval"),
            lambda: reverse("attendance:team"),
            _team_requests,
            45,
        )
    )
