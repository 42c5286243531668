"""Staffing's pages (issue 22): a team's hourly requirement for a day against its roster with the
forecast's backtest, the roster proposals, and one proposal's grid to edit, compare and publish."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core import clock
from kefu.core.params import day_query, id_query, int_param
from kefu.core.policy_store import policy_in_force
from kefu.org import selectors as org
from kefu.policies import attendance
from kefu.web.http import form_post, require_capability

from . import selectors, services
from .models import ProposalStatus

CHART_W, CHART_H = 720, 180


def _bars(hours: list[Any]) -> dict[str, Any]:
    top = max([h.heads for h in hours] + [h.on_roster for h in hours] + [1])
    step = CHART_W / 24
    bars = []
    for h in hours:
        need = h.heads / top * (CHART_H - 20)
        have = h.on_roster / top * (CHART_H - 20)
        bars.append(
            {
                "x": round(h.hour * step + 2, 1),
                "w": round(step / 2 - 2, 1),
                "need_y": round(CHART_H - need, 1),
                "need_h": round(need, 1),
                "have_x": round(h.hour * step + step / 2, 1),
                "have_y": round(CHART_H - have, 1),
                "have_h": round(have, 1),
                "short": h.shortfall > 0,
                "hour": h.hour,
            }
        )
    return {"bars": bars, "w": CHART_W, "h": CHART_H, "top": top}


def _lines(week: selectors.WeekBacktest) -> dict[str, Any]:
    top = max([float(v) for v in week.forecast] + [float(v) for v in week.actual] + [1.0])
    step = CHART_W / max(len(week.actual) - 1, 1)

    def points(values: list[Any]) -> str:
        return " ".join(f"{i * step:.1f},{CHART_H - float(v) / top * (CHART_H - 10):.1f}" for i, v in enumerate(values))

    days = [
        {"x": round(i * 24 * step, 1), "label": (week.monday + dt.timedelta(days=i)).strftime("%m-%d")}
        for i in range(7)
    ]
    return {"forecast": points(week.forecast), "actual": points(week.actual), "w": CHART_W, "h": CHART_H, "days": days}


@login_required
def requirement_page(request: HttpRequest) -> HttpResponse:
    require_capability(request, "staffing.plan")
    teams = org.team_list(actor=request.user)
    wanted = id_query(request.GET.get("team"))
    team = org.access_team_by_id(request.user, wanted) if wanted is not None else (teams[0] if teams else None)
    day = day_query(request.GET.get("date")) or clock.today() + dt.timedelta(days=1)
    ctx: dict[str, Any] = {"teams": teams, "team": team, "day": day}
    if team is not None:
        r = selectors.requirement(team.pk, day)
        mondays = [selectors.last_full_week(clock.today()) - dt.timedelta(days=7 * k) for k in range(4)]
        chosen = day_query(request.GET.get("week"))
        week = r.week
        if chosen is not None and r.has_history and chosen in mondays and chosen != mondays[0]:
            week = selectors.backtest(team.pk, chosen, since=r.since)
        ctx.update(
            {
                "r": r,
                "hours": [h for h in r.hours],
                "chart": _bars(r.hours),
                "week": week,
                "lines": _lines(week) if week else None,
                "mondays": mondays,
                "ahead": _heat(selectors.week_ahead(team.pk, day, since=r.since)) if r.has_history else None,
                "short_hours": [h for h in r.hours if h.shortfall],
                "proposals": selectors.proposals(actor=request.user, team=team.pk),
                "next_month": (clock.today().replace(day=1) + dt.timedelta(days=32)).replace(day=1),
                "mape_percent": (r.mape * 100).quantize(Decimal("0.1")) if r.mape is not None else None,
            }
        )
    return render(request, "staffing/requirement.html", ctx)


@login_required
@require_POST
def propose(request: HttpRequest) -> HttpResponse:
    require_capability(request, "staffing.plan")
    team = org.access_team_by_id(request.user, request.POST.get("team"))
    return form_post(
        request,
        lambda: services.proposal_make(
            actor=request.user, team=team, month=selectors.month_of(request.POST.get("month"))
        ),
        then=lambda p: redirect("staffing:proposal", p.pk),
        done=_("The roster is proposed. Check it, change what you want, then publish."),
        failed=lambda: redirect(f"{_url('staffing:requirement')}?team={team.pk}"),
    )


def _heat(week: selectors.WeekAhead) -> dict[str, Any]:
    """The week ahead as rows of (value, shade 0–4) for the hour-of-week table."""
    return {
        "rows": [
            {"day": d, "cells": [(v, min(4, (v * 5) // (week.top + 1))) for v in row]}
            for d, row in zip(week.days, week.cells, strict=True)
        ]
    }


def _label(code: str | None, shifts: dict[str, Any]) -> str:
    """A roster cell as people read it: the shift's name, rest, or not scheduled."""
    from django.utils.translation import pgettext

    if code is None:
        return _("Not scheduled")
    if code == "":
        return pgettext("roster cell", "Rest")
    shift = shifts.get(code)
    return str(shift.name) if shift else code


def _url(name: str, *args: Any) -> str:
    from django.urls import reverse

    return reverse(name, args=args)


@login_required
def proposal_page(request: HttpRequest, proposal_id: int) -> HttpResponse:
    require_capability(request, "staffing.plan")
    proposal = selectors.proposal_get(actor=request.user, proposal_id=proposal_id)
    days = selectors.month_days(proposal.month)
    people = selectors.people_of(proposal)
    changes = selectors.diff(proposal) if proposal.state == ProposalStatus.DRAFT else []
    changed = {(c["staff"], c["date"]) for c in changes}
    now = {(c["staff"], c["date"]): c["now"] for c in changes}
    shifts = attendance.shift_types(policy_in_force(proposal.month).document)
    rows = []
    facts = proposal.explanation.get("people", {})
    approved = selectors.approved_since(proposal)
    for pk, person in people.items():
        row = proposal.cells.get(str(pk), {})
        fixed = {**facts.get(str(pk), {}).get("fixed", {}), **approved.get(str(pk), {})}
        rows.append(
            {
                "staff": person,
                "cells": [
                    {
                        "day": d,
                        "iso": d.isoformat(),
                        "code": row.get(d.isoformat()),
                        "changed": (pk, d) in changed,
                        "fixed": d.isoformat() in fixed,
                        "fixed_leave": fixed.get(d.isoformat()) == "leave",
                        "now": _label(now.get((pk, d)), shifts) if (pk, d) in changed else "",
                    }
                    for d in days
                ],
                "nights": proposal.explanation.get("nights", {}).get(str(pk), 0),
                "weekends": proposal.explanation.get("weekends", {}).get(str(pk), 0),
                "extra": proposal.explanation.get("extra_rest", {}).get(str(pk), 0),
            }
        )
    short = proposal.explanation.get("short", [])
    return render(
        request,
        "staffing/proposal.html",
        {
            "p": proposal,
            "days": days,
            "rows": rows,
            "shifts": shifts,
            "changes": changes,
            "people": people,
            "short": short[:50],
            "short_count": len(short),
            "draft": proposal.state == ProposalStatus.DRAFT,
            "extra_rest_total": sum(proposal.explanation.get("extra_rest", {}).values()),
        },
    )


@login_required
@require_POST
def proposal_save(request: HttpRequest, proposal_id: int) -> HttpResponse:
    require_capability(request, "staffing.plan")
    proposal = selectors.proposal_get(actor=request.user, proposal_id=proposal_id, action="change")

    def save() -> int:
        cells = {}
        for name, value in request.POST.items():
            if name.startswith("c-"):
                _prefix, staff_id, iso = [*name.split("-", 2), "", ""][:3]
                cells[staff_id, iso] = str(value)
        revision = int_param(request.POST.get("revision"))
        return services.proposal_cells_set(actor=request.user, proposal=proposal, cells=cells, revision=revision)

    return form_post(
        request,
        save,
        then=redirect("staffing:proposal", proposal.pk),
        done=lambda n: _("%(n)s cells changed.") % {"n": n},
    )


@login_required
@require_POST
def proposal_publish(request: HttpRequest, proposal_id: int) -> HttpResponse:
    require_capability(request, "staffing.plan")
    proposal = selectors.proposal_get(actor=request.user, proposal_id=proposal_id, action="change")
    return form_post(
        request,
        lambda: services.proposal_publish(actor=request.user, proposal=proposal),
        then=redirect("staffing:proposal", proposal.pk),
        done=lambda n: _("Published: %(n)s roster cells changed.") % {"n": n},
    )


@login_required
@require_POST
def proposal_discard(request: HttpRequest, proposal_id: int) -> HttpResponse:
    require_capability(request, "staffing.plan")
    proposal = selectors.proposal_get(actor=request.user, proposal_id=proposal_id, action="change")
    return form_post(
        request,
        lambda: services.proposal_discard(actor=request.user, proposal=proposal),
        then=redirect("staffing:requirement"),
        done=_("The proposal is discarded."),
    )
