"""Staffing's writes (R-WFM-3): a roster proposal for a team and month made by the solver, the team
lead's edits of its cells, publishing it as the roster (every changed cell through the workforce's
roster service, in one transaction) and discarding it."""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext as _

from kefu.core import clock
from kefu.core.actions import action
from kefu.core.actors import Actor, user_of
from kefu.core.errors import ApplicationError
from kefu.core.events import event_record
from kefu.core.policy_store import policy_in_force
from kefu.org.models import Staff, Team
from kefu.policies import attendance
from kefu.policies import rostering as solver
from kefu.workforce.models import LeaveRequest, RequestKind, RequestStatus, RosterEntry

from . import selectors
from .models import ProposalStatus, RosterProposal
from .rules import Verb


def month_of(text: Any) -> dt.date:
    """A month written as YYYY-MM (its first day); a clear 400 otherwise."""
    try:
        year, month = (int(p) for p in str(text).split("-"))
        return dt.date(year, month, 1)
    except (TypeError, ValueError):
        raise ApplicationError("validation_error", _("Write the month as 2027-01.")) from None


def _days(first: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range(calendar.monthrange(first.year, first.month)[1])]


def _entitlement(per_month: int, employed: int, days: int) -> int:
    """R-WF-8 prorated by R-WF-18: a part month earns its share, rounded half-up to a whole day."""
    if employed >= days:
        return per_month
    return int((Decimal(per_month * employed) / days).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def problem_for(team: Team, first: dt.date, *, time_limit: float | None = None) -> tuple[solver.Problem, list[Staff]]:
    """The solver's problem for a team and month: its desk staff, their approved rest and leave,
    employment dates, rest entitlement and the days worked just before; the hourly requirement."""
    policy = policy_in_force(first)
    days = _days(first)
    last = days[-1]
    people = selectors.members(team.pk, first, last)
    shift_types = attendance.shift_types(policy.document)
    night = set(policy.staffing.night_shifts)
    shifts = tuple(solver.Shift(c, s.start, s.end, c in night) for c, s in shift_types.items())
    approved = LeaveRequest.objects.filter(
        staff__in=people, status=RequestStatus.APPROVED, start_date__lte=last, end_date__gte=first, half_day=False
    ).exclude(kind=RequestKind.TRIP)
    fixed: dict[int, dict[dt.date, str]] = {p.pk: {} for p in people}
    for r in approved:
        d = max(r.start_date, first)
        while d <= min(r.end_date, last):
            fixed[r.staff_id][d] = solver.REST if r.kind == RequestKind.REST else solver.LEAVE
            d += dt.timedelta(days=1)
    # days worked in a row just before the month (the current roster)
    before: dict[int, int] = {}
    tail = {
        (s, d): code
        for s, d, code in RosterEntry.objects.filter(
            staff__in=people, date__gte=first - dt.timedelta(days=31), date__lt=first
        ).values_list("staff_id", "date", "shift_code")
    }
    for p in people:
        n = 0
        d = first - dt.timedelta(days=1)
        while tail.get((p.pk, d)):
            n += 1
            d -= dt.timedelta(days=1)
        before[p.pk] = n
    per_month = int(policy.document["leave"]["rest_days_per_month"])
    persons = []
    for p in people:
        employed = sum(
            1 for d in days if (p.hire_date is None or d >= p.hire_date) and (p.leave_date is None or d <= p.leave_date)
        )
        requested_rest = sum(1 for v in fixed[p.pk].values() if v == solver.REST)
        persons.append(
            solver.Person(
                key=str(p.pk),
                employed_from=p.hire_date,
                employed_to=p.leave_date,
                fixed=fixed[p.pk],
                rest_days=max(_entitlement(per_month, employed, len(days)), requested_rest),
                worked_before=before[p.pk],
            )
        )
    problem = solver.Problem(
        days=tuple(days),
        shifts=shifts,
        people=tuple(persons),
        need=selectors.month_need(team.pk, first, last),
        holidays=attendance.statutory_holidays(policy.document),
        max_run=int(policy.staffing.max_days_in_row),
        time_limit=float(time_limit if time_limit is not None else policy.staffing.solver_seconds),
    )
    return problem, people


def _explanation(result: solver.Proposal) -> dict[str, Any]:
    return {
        "uncovered_hours": result.uncovered_hours,
        "surplus_hours": result.surplus_hours,
        "short": [
            {"day": s.day.isoformat(), "hour": s.hour, "need": s.need, "covered": s.covered, "why": s.why}
            for s in result.short
        ],
        "extra_rest": result.extra_rest,
        "nights": result.nights,
        "weekends": result.weekends,
    }


@action(capability="staffing.plan", scope=("team",))
def proposal_make(*, actor: Actor, team: Team, month: dt.date, time_limit: float | None = None) -> RosterProposal:
    """R-WFM-3: solve the month for the team and keep the result as a draft."""
    first = month.replace(day=1)
    if first <= clock.today().replace(day=1):
        raise ApplicationError("validation_error", _("Propose a roster for a future month."))
    problem, _people = problem_for(team, first, time_limit=time_limit)
    if not problem.people:
        raise ApplicationError("validation_error", _("This team has no desk staff employed in that month."))
    result = solver.solve(problem)
    if result.status == "infeasible":
        raise ApplicationError(
            "infeasible",
            _("No roster keeps every rule for this month (check the approved rest and leave against the run limit)."),
            status=409,
        )
    proposal = RosterProposal.objects.create(
        team=team,
        month=first,
        solver_status=result.status,
        solver_seconds=Decimal(str(round(result.seconds, 2))),
        cells={k: {d.isoformat(): c for d, c in row.items()} for k, row in result.cells.items()},
        explanation=_explanation(result),
        made_by=user_of(actor),
        made_at=clock.now(),
    )
    event_record(
        actor=actor,
        verb=Verb.PROPOSAL_MADE,
        subject=proposal,
        after={"month": first.strftime("%Y-%m"), "uncovered": result.uncovered_hours, "status": result.status},
    )
    return proposal


def _draft(proposal: RosterProposal) -> None:
    if proposal.status != ProposalStatus.DRAFT:
        raise ApplicationError("changed", _("This proposal is no longer a draft."), status=409)


@action(capability="staffing.plan", scope=("proposal",))
def proposal_cell_set(*, actor: Actor, proposal: RosterProposal, staff_id: Any, day: dt.date, code: str) -> None:
    """The team lead changes one cell: a shift code or "" (rest). Fixed days (approved leave, days
    outside employment) cannot be changed here."""
    proposal = RosterProposal.objects.select_for_update().get(pk=proposal.pk)
    _draft(proposal)
    row = proposal.cells.get(str(staff_id))
    key = day.isoformat()
    if row is None or key not in row:
        raise ApplicationError("not_found", "Not found", status=404)
    if row[key] in (None, solver.LEAVE):
        raise ApplicationError("fixed", _("This day is fixed by approved leave or the employment dates."), status=409)
    codes = attendance.shift_types(policy_in_force(day).document)
    if code and code not in codes:
        raise ApplicationError("unknown_shift", _("Unknown shift: %(value)s") % {"value": str(code)[:20]})
    before = row[key]
    if before == code:
        return
    row[key] = code
    RosterProposal.objects.filter(pk=proposal.pk).update(cells=proposal.cells)
    event_record(
        actor=actor,
        verb=Verb.PROPOSAL_EDITED,
        subject=proposal,
        before={"shift": before or "rest"},
        after={"shift": code or "rest"},
        data={"date": day, "staff": int(staff_id)},
    )


def diff(proposal: RosterProposal) -> list[dict[str, Any]]:
    """Cells where the proposal differs from the current roster: (staff, date, now, proposed)."""
    ids = [int(k) for k in proposal.cells]
    days = _days(proposal.month)
    current = {
        (s, d): code
        for s, d, code in RosterEntry.objects.filter(
            staff_id__in=ids, date__gte=days[0], date__lte=days[-1]
        ).values_list("staff_id", "date", "shift_code")
    }
    out = []
    for key, row in proposal.cells.items():
        for iso, code in row.items():
            if code is None:
                continue
            d = dt.date.fromisoformat(iso)
            want = _roster_code(code, current.get((int(key), d)))
            have = current.get((int(key), d))
            if want != have:
                out.append({"staff": int(key), "date": d, "now": have, "proposed": want})
    return sorted(out, key=lambda r: (r["date"], r["staff"]))


def _roster_code(code: str, current: str | None) -> str:
    """What the roster holds for a proposal cell: a leave day keeps the current shift (a scheduled
    day the leave excuses), or the first shift when there is none."""
    if code == solver.LEAVE:
        return current if current else ""
    return code


@action(capability="staffing.plan", scope=("proposal",))
def proposal_publish(*, actor: Actor, proposal: RosterProposal) -> int:
    """Publish the draft as the team's roster: each changed cell set (with its event) in this one
    transaction; the proposal is published once (a second click changes nothing)."""
    from kefu.workforce.services import roster_set

    if not RosterProposal.objects.filter(pk=proposal.pk, status=ProposalStatus.DRAFT).update(
        status=ProposalStatus.PUBLISHED, published_by=user_of(actor), published_at=clock.now()
    ):
        raise ApplicationError("changed", _("This proposal is no longer a draft."), status=409)
    changes = diff(proposal)
    staff = {s.pk: s for s in Staff.objects.filter(pk__in={c["staff"] for c in changes})}
    for c in changes:
        roster_set(actor=actor, staff=staff[c["staff"]], date=c["date"], shift_code=c["proposed"], source="proposal")
    event_record(actor=actor, verb=Verb.PROPOSAL_PUBLISHED, subject=proposal, after={"changed": len(changes)})
    return len(changes)


@action(capability="staffing.plan", scope=("proposal",))
def proposal_discard(*, actor: Actor, proposal: RosterProposal) -> None:
    if not RosterProposal.objects.filter(pk=proposal.pk, status=ProposalStatus.DRAFT).update(
        status=ProposalStatus.DISCARDED
    ):
        raise ApplicationError("changed", _("This proposal is no longer a draft."), status=409)
    event_record(actor=actor, verb=Verb.PROPOSAL_DISCARDED, subject=proposal)
