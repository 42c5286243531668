"""Staffing's writes (R-WFM-3): a roster proposal for a team and month made by the solver, the team
lead's edits of its cells, publishing it as the roster (every changed cell through the workforce's
roster service, in one transaction) and discarding it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
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

from . import selectors
from .models import ProposalStatus, RosterProposal
from .rules import Verb

HORIZON_MONTHS = 12  # a roster is proposed at most a year ahead


def _explanation(result: solver.Proposal, problem: solver.Problem) -> dict[str, Any]:
    """The solver's account, and what the team lead's edits are checked against: each person's
    fixed days (approved rest and leave), rest entitlement and days worked before the month."""
    return {
        "max_run": problem.max_run,
        "holidays": sorted(d.isoformat() for d in problem.holidays if d in set(problem.days)),
        "people": {
            p.key: {
                "rest_days": p.rest_days,
                "worked_before": p.worked_before,
                "fixed": {d.isoformat(): c for d, c in p.fixed.items() if d in set(problem.days)},
            }
            for p in problem.people
        },
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
    this_month = clock.today().replace(day=1)
    if first <= this_month:
        raise ApplicationError("validation_error", _("Propose a roster for a future month."))
    if (first.year - this_month.year) * 12 + first.month - this_month.month > HORIZON_MONTHS:
        raise ApplicationError("validation_error", _("Propose a roster at most a year ahead."))
    problem = selectors.problem_for(team, first, time_limit=time_limit)
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
        explanation=_explanation(result, problem),
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
    if proposal.state != ProposalStatus.DRAFT:
        raise ApplicationError("changed", _("This proposal is no longer a draft."), status=409)


@action(capability="staffing.plan", scope=("proposal",))
def proposal_cells_set(
    *, actor: Actor, proposal: RosterProposal, cells: dict[tuple[str, str], str], revision: int | None = None
) -> int:
    """The team lead's edits, all or none: each (staff id, ISO date) → a shift code or "" (rest).
    Refused whole when a cell is not in the proposal, is fixed (approved rest or leave, a day outside
    employment), names an unknown shift, or when the edited month of a person breaks the handbook
    (more working days in a row than the policy allows, fewer rest days than their entitlement).
    ``revision``: the page's copy; a save from an older copy (another tab saved meanwhile) is
    refused rather than undoing that save. Returns the cells changed."""
    proposal = RosterProposal.objects.select_for_update().get(pk=proposal.pk)
    _draft(proposal)
    if revision is not None and revision != proposal.revision:
        raise ApplicationError("changed", _("The proposal was changed meanwhile; reload the page."), status=409)
    people = proposal.explanation.get("people", {})
    approved = selectors.approved_since(proposal)
    codes = attendance.shift_types(policy_in_force(proposal.month).document)
    changed: list[tuple[str, str, str, str]] = []
    for (staff_id, iso), code in sorted(cells.items()):
        row = proposal.cells.get(staff_id)
        if row is None or iso not in row:
            raise ApplicationError("validation_error", _("That cell is not in this proposal."))
        if row[iso] == code:
            continue  # the form posts every cell: the unchanged ones say nothing
        if (
            row[iso] in (None, solver.LEAVE)
            or iso in people.get(staff_id, {}).get("fixed", {})
            or iso in approved.get(staff_id, {})
        ):
            raise ApplicationError(
                "fixed",
                _("%(day)s is fixed by approved rest or leave or the employment dates.") % {"day": iso},
                status=409,
            )
        if code and code not in codes:
            raise ApplicationError("unknown_shift", _("Unknown shift: %(value)s") % {"value": str(code)[:20]})
        changed.append((staff_id, iso, row[iso], code))
        row[iso] = code
    if not changed:
        return 0
    max_run = int(proposal.explanation.get("max_run", 6))
    holidays = set(proposal.explanation.get("holidays", []))
    names = selectors.employee_names([int(k) for k in {c[0] for c in changed}])
    for staff_id in sorted({c[0] for c in changed}):
        row = proposal.cells[staff_id]
        facts = people.get(staff_id, {})
        run = solver.longest_run(
            {dt.date.fromisoformat(d): c for d, c in row.items()}, list(codes), int(facts.get("worked_before", 0))
        )
        if run > max_run:
            raise ApplicationError(
                "validation_error",
                _("%(name)s would work %(n)s days in a row; the handbook allows %(max)s.")
                % {"name": names.get(int(staff_id), staff_id), "n": run, "max": max_run},
            )
        rest = sum(1 for d, c in row.items() if c == solver.REST and d not in holidays)
        open_days = sum(1 for d, c in row.items() if c not in (None, solver.LEAVE) and d not in holidays)
        if rest < min(int(facts.get("rest_days", 0)), open_days):
            raise ApplicationError(
                "validation_error",
                _("%(name)s would rest %(n)s days; their rest days this month are %(want)s.")
                % {"name": names.get(int(staff_id), staff_id), "n": rest, "want": facts.get("rest_days", 0)},
            )
    RosterProposal.objects.filter(pk=proposal.pk).update(cells=proposal.cells, revision=proposal.revision + 1)
    for staff_id, iso, before, code in changed:
        event_record(
            actor=actor,
            verb=Verb.PROPOSAL_EDITED,
            subject=proposal,
            before={"shift": before or "rest"},
            after={"shift": code or "rest"},
            data={"date": iso, "staff": int(staff_id)},
        )
    return len(changed)


@action(capability="staffing.plan", scope=("proposal",))
def proposal_publish(*, actor: Actor, proposal: RosterProposal) -> int:
    """Publish the draft as the team's roster: each changed cell set (with its event) in this one
    transaction; the proposal is published once (a second click changes nothing)."""
    from kefu.workforce.services import roster_set

    if not RosterProposal.objects.filter(pk=proposal.pk, state=ProposalStatus.DRAFT).update(
        state=ProposalStatus.PUBLISHED, published_by=user_of(actor), published_at=clock.now()
    ):
        raise ApplicationError("changed", _("This proposal is no longer a draft."), status=409)
    proposal.refresh_from_db()
    # rest approved after the proposal was made stands: its day is published as rest (a leave day
    # on a shift stays the shift the leave excuses)
    adjusted = 0
    for staff_id, days in selectors.approved_since(proposal).items():
        row = proposal.cells.get(staff_id, {})
        for iso, kind in days.items():
            if kind == solver.REST and row.get(iso) not in (None, solver.REST, solver.LEAVE):
                row[iso] = solver.REST
                adjusted += 1
    if adjusted:
        RosterProposal.objects.filter(pk=proposal.pk).update(cells=proposal.cells)
    # another draft of the same month would publish over this one: it is discarded with it
    for other in RosterProposal.objects.filter(
        team_id=proposal.team_id, month=proposal.month, state=ProposalStatus.DRAFT
    ).exclude(pk=proposal.pk):
        RosterProposal.objects.filter(pk=other.pk, state=ProposalStatus.DRAFT).update(state=ProposalStatus.DISCARDED)
        event_record(actor=actor, verb=Verb.PROPOSAL_DISCARDED, subject=other, after={"replaced_by": proposal.pk})
    changes = selectors.diff(proposal)
    staff = {s.pk: s for s in Staff.objects.filter(pk__in={c["staff"] for c in changes})}
    for c in changes:
        roster_set(actor=actor, staff=staff[c["staff"]], date=c["date"], shift_code=c["proposed"], source="proposal")
    event_record(
        actor=actor,
        verb=Verb.PROPOSAL_PUBLISHED,
        subject=proposal,
        after={"changed": len(changes), "approved_rest": adjusted},
    )
    return len(changes)


@action(capability="staffing.plan", scope=("proposal",))
def proposal_discard(*, actor: Actor, proposal: RosterProposal) -> None:
    if not RosterProposal.objects.filter(pk=proposal.pk, state=ProposalStatus.DRAFT).update(
        state=ProposalStatus.DISCARDED
    ):
        raise ApplicationError("changed", _("This proposal is no longer a draft."), status=409)
    event_record(actor=actor, verb=Verb.PROPOSAL_DISCARDED, subject=proposal)
