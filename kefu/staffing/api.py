"""Staffing's API (issue 22). ``POST /staffing/erlang``: R-WFM-2 for one hour, inputs in, the
requirement out; nothing is stored, any signed-in person or token may ask."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema
from pydantic import Field

from kefu.core.actions import require
from kefu.core.errors import ApplicationError
from kefu.core.params import Day
from kefu.policies import staffing

from . import selectors, services

router = Router(tags=["staffing"])


class ErlangIn(Schema):
    arrivals_per_hour: Decimal = Field(ge=0, le=1_000_000, description="forecast sessions in the hour (λ)")
    handle_seconds: Decimal = Field(gt=0, le=86_400, description="mean session duration (AHT)")
    concurrency: int = Field(ge=1, le=20, description="sessions one agent serves at once (c)")
    answer_within_seconds: Decimal = Field(ge=0, le=86_400, description="the platform's answer time (T)")
    service_level: Decimal = Field(gt=0, lt=1, description="share to answer within T (X), e.g. 0.8")
    shrinkage: Decimal = Field(ge=0, lt=1, description="share of paid time not at the desk, e.g. 0.30")


class ErlangOut(Schema):
    slots: int
    agents: int
    rostered: int
    service_level: str = Field(description="achieved at `slots`, 4 places")
    wait_probability: str = Field(description="Erlang C at `slots`, 4 places")


@router.post("/staffing/erlang", response=ErlangOut)
def erlang(request: HttpRequest, payload: ErlangIn) -> object:
    """Required chat slots, agents and rostered heads for one hour (R-WFM-2, Erlang C with
    concurrency and shrinkage)."""
    try:
        return staffing.required(
            arrivals_per_hour=float(payload.arrivals_per_hour),
            handle_seconds=float(payload.handle_seconds),
            concurrency=payload.concurrency,
            answer_within_seconds=float(payload.answer_within_seconds),
            service_level=float(payload.service_level),
            shrinkage=float(payload.shrinkage),
        ).as_dict()
    except ValueError as exc:
        raise ApplicationError("validation_error", str(exc)) from exc


class HourOut(Schema):
    hour: int
    forecast: str = Field(description="expected new sessions in the hour, 2 places")
    slots: int
    agents: int
    heads: int = Field(description="rostered heads required (after shrinkage)")
    on_roster: int
    shortfall: int
    service_level: str


class RequirementOut(Schema):
    team: int
    date: str
    handle_seconds: str
    backtest_mape: str | None = Field(description="MAPE of the last whole week, forecast from the weeks before it")
    hours: list[HourOut]


@router.get("/staffing/requirement", response=RequirementOut)
def get_requirement(request: HttpRequest, team: int | None = None, date: Day | None = None) -> object:
    """R-WFM-1 and R-WFM-2 for one team and day: per hour the forecast sessions, Erlang C slots,
    agents and rostered heads required, heads on the roster and the shortfall. Needs
    ``staffing.plan``; a team outside the caller's scope is a 404; ``team`` and ``date`` are required
    (400 without them)."""
    from kefu.org.selectors import access_team_by_id

    require(request.user, "staffing.plan")
    if team is None or date is None:
        raise ApplicationError("validation_error", _("Give the team and the date (team=ID&date=YYYY-MM-DD)."))
    found = access_team_by_id(request.user, team)
    r = selectors.requirement(found.pk, date)
    return {
        "team": found.pk,
        "date": date.isoformat(),
        "handle_seconds": f"{Decimal(repr(r.handle_seconds)).quantize(Decimal('0.1'))}",
        "backtest_mape": None if r.mape is None else str(r.mape),
        "hours": [h.as_dict() for h in r.hours],
    }


class ProposeIn(Schema):
    team: int
    month: str = Field(description="YYYY-MM, a future month")


class ProposalOut(Schema):
    id: int
    team: int
    month: str
    status: str
    solver_status: str
    solver_seconds: str
    uncovered_hours: int
    surplus_hours: int
    short: list[dict[str, Any]]
    cells: dict[str, dict[str, str | None]] = Field(
        description="employee no. → date → shift code, '' (rest), 'leave' or null (not employed)"
    )


def proposal_out(p: Any) -> dict[str, Any]:
    numbers = selectors.employee_numbers([int(k) for k in p.cells])
    return {
        "id": p.pk,
        "team": p.team_id,
        "month": p.month.strftime("%Y-%m"),
        "status": p.state,
        "solver_status": p.solver_status,
        "solver_seconds": str(p.solver_seconds),
        "uncovered_hours": p.explanation.get("uncovered_hours", 0),
        "surplus_hours": p.explanation.get("surplus_hours", 0),
        "short": p.explanation.get("short", []),
        "cells": {numbers[int(k)]: row for k, row in p.cells.items()},
    }


@router.post("/staffing/rosters/propose", response=ProposalOut)
def propose(request: HttpRequest, payload: ProposeIn) -> object:
    """R-WFM-3: propose the month's roster for a team (a draft the team lead edits and publishes on
    the staffing page). Solved within the policy's time limit."""
    from kefu.org.selectors import access_team_by_id

    found = access_team_by_id(request.user, payload.team)
    month = selectors.month_of(payload.month)
    return proposal_out(services.proposal_make(actor=request.user, team=found, month=month))
