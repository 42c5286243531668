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
    problem, _people = selectors.problem_for(team, first, time_limit=time_limit)
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
    if proposal.state != ProposalStatus.DRAFT:
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


@action(capability="staffing.plan", scope=("proposal",))
def proposal_publish(*, actor: Actor, proposal: RosterProposal) -> int:
    """Publish the draft as the team's roster: each changed cell set (with its event) in this one
    transaction; the proposal is published once (a second click changes nothing)."""
    from kefu.workforce.services import roster_set

    if not RosterProposal.objects.filter(pk=proposal.pk, state=ProposalStatus.DRAFT).update(
        state=ProposalStatus.PUBLISHED, published_by=user_of(actor), published_at=clock.now()
    ):
        raise ApplicationError("changed", _("This proposal is no longer a draft."), status=409)
    changes = selectors.diff(proposal)
    staff = {s.pk: s for s in Staff.objects.filter(pk__in={c["staff"] for c in changes})}
    for c in changes:
        roster_set(actor=actor, staff=staff[c["staff"]], date=c["date"], shift_code=c["proposed"], source="proposal")
    event_record(actor=actor, verb=Verb.PROPOSAL_PUBLISHED, subject=proposal, after={"changed": len(changes)})
    return len(changes)


@action(capability="staffing.plan", scope=("proposal",))
def proposal_discard(*, actor: Actor, proposal: RosterProposal) -> None:
    if not RosterProposal.objects.filter(pk=proposal.pk, state=ProposalStatus.DRAFT).update(
        state=ProposalStatus.DISCARDED
    ):
        raise ApplicationError("changed", _("This proposal is no longer a draft."), status=409)
    event_record(actor=actor, verb=Verb.PROPOSAL_DISCARDED, subject=proposal)
