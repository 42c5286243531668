"""What the workforce module adds to the shared UI, URL configuration, API and home page."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kefu.core import plugins, rulebook, wording

from .rules import RULES


def _my_red_packets(user: Any, staff: Any) -> int | None:
    from . import selectors

    return selectors.red_packets_unsent_count(staff=staff) if staff is not None else None


def _to_decide(user: Any, staff: Any) -> int | None:
    from . import selectors

    return selectors.requests_awaiting_count(actor=user)


def _exceptions(user: Any, staff: Any) -> list[Any] | None:
    """The team lead's attendance exceptions of this month (late, early, missing punches, absences),
    computed once per page view for the count and the rows."""
    from . import selectors

    if staff is None or staff.position != "team_lead" or staff.team_id is None:
        return None
    found = getattr(user, "_kefu_team_exceptions", None)
    if found is None:
        found = selectors.team_exceptions(actor=user, team=staff.team_id)
        user._kefu_team_exceptions = found
    return found  # type: ignore[no-any-return]


def _team_exceptions(user: Any, staff: Any) -> int | None:
    found = _exceptions(user, staff)
    return None if found is None else len(found)


def _exception_rows(user: Any, staff: Any) -> list[plugins.HomeRow]:
    url = reverse("attendance:team") + f"?team={staff.team_id}#exceptions"
    rows = []
    for member, incident in (_exceptions(user, staff) or [])[:5]:
        what = str(wording.label(incident.kind))
        if incident.minutes:
            what = f"{what} {incident.minutes}′"
        detail = " · ".join(x for x in (what, f"¥{incident.red_packet}" if incident.red_packet else "") if x)
        rows.append(plugins.HomeRow(f"{incident.date:%m-%d} {member.name}", url, detail))
    return rows


def _request_rows(user: Any, staff: Any) -> list[plugins.HomeRow]:
    from . import selectors

    url = reverse("attendance:approvals")
    rows = []
    for req in selectors.approvals_inbox(actor=user)[:5]:
        span = f"{req.start_date:%m-%d}" + (f"–{req.end_date:%m-%d}" if req.end_date != req.start_date else "")
        rows.append(plugins.HomeRow(f"{req.staff.name} · {req.get_kind_display()}", url, span, req.late_submission))
    return rows


def register() -> None:
    rulebook.register(RULES)
    from kefu.core.reports import ReportPage, register_page

    register_page(
        ReportPage(
            "attendance:statement_export",
            _("Monthly attendance statement"),
            _("Each person's month: days, absence, leave, rest, red packets, points and net pay."),
            capability="pay.view",
            rule="R-WF-12",
            order=40,
        )
    )
    register_page(
        ReportPage(
            "attendance:publication",
            _("Weekly attendance publication"),
            _("Last week's late arrivals, early leaves and red packets, as published to the group."),
            rule="R-WF-14",
            order=41,
        )
    )
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
            rows=_request_rows,
        )
    )
    plugins.home_card(
        plugins.HomeCard(
            "team_exceptions",
            _("My team's attendance exceptions this month"),
            lambda: reverse("attendance:team"),
            _team_exceptions,
            40,
            rows=_exception_rows,
        )
    )
    _words()


def _words() -> None:
    from .models import (
        LeaveRequest,
        PointEntry,
        Punch,
        PunchKind,
        PunchSource,
        RedPacket,
        RequestKind,
        RequestStatus,
        RosterEntry,
    )

    wording.register_models(RosterEntry, Punch, LeaveRequest, RedPacket, PointEntry)
    wording.register_choices(PunchKind, PunchSource, RequestKind, RequestStatus)
    wording.register(
        labels={
            "attendance": _("DingTalk attendance"),
            "dingtalk_daily": _("DingTalk daily statistics"),
            "dingtalk_raw": _("DingTalk raw punches"),
            "dingtalk": _("DingTalk"),
            "kefu": _("Kefu"),
            "manual": _("Entered by hand"),
        },
        fields={
            "from": _("From"),
            "to": _("To"),
            "shift": _("Shift"),
            "item": _("Item"),
            "owed": _("Amount owed"),
            "multiplier": _("Multiplier"),
            "entry": _("Entry reversed"),
        },
    )
    wording.register_value_reader("item", _point_item_name)


def _point_item_name(code: str) -> str | None:
    """A point item's code as the policy in force names it ("praise_letter" → 客户来信表扬)."""
    from kefu.core.policy_store import policy_in_force

    return next((item.name for item in policy_in_force().points.items if item.code == code), None)
