"""Capabilities by position. Code asks ``has_capability(user, "…")``; the table lives here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kefu.core.scoping import scope_for

from .models import Position

CAPABILITIES: dict[str, frozenset[str]] = {
    # read everything, manage the organisation
    "org.manage": frozenset({Position.SUPERVISOR, Position.DEPUTY}),
    # save a new handbook policy version
    "policy.change": frozenset({Position.SUPERVISOR}),
    # import orders and commerce data
    "orders.import": frozenset({Position.SUPERVISOR, Position.DEPUTY, Position.TEAM_LEAD}),
    # approve refunds (after-sales; R-AS-7)
    "refund.approve": frozenset({Position.SUPERVISOR, Position.DEPUTY}),
    # approve a partial refund above the cap (R-AS-7: the supervisor)
    "refund.approve_over_cap": frozenset({Position.SUPERVISOR}),
    # grant others the refund-approval permission up to an amount (R-AS-7)
    "refund.delegate": frozenset({Position.SUPERVISOR}),
    # approve rest and leave (R-WF-8/9)
    "leave.approve": frozenset({Position.SUPERVISOR, Position.DEPUTY}),
    # certify make-up punches (R-WF-6: the supervisor is recorded as responsible)
    "attendance.certify": frozenset({Position.SUPERVISOR, Position.DEPUTY}),
    # import DingTalk attendance, edit the roster of one's team
    "attendance.import": frozenset({Position.SUPERVISOR, Position.DEPUTY, Position.TEAM_LEAD}),
    "roster.edit": frozenset({Position.SUPERVISOR, Position.DEPUTY, Position.TEAM_LEAD}),
    # record inspections and awards (R-WF-17)
    "points.record": frozenset({Position.SUPERVISOR, Position.DEPUTY}),
    # see the statements of others (team leads see their team's)
    "statement.view_team": frozenset({Position.SUPERVISOR, Position.DEPUTY, Position.TEAM_LEAD}),
    # pay: others' base salary and monthly statements (one's own are always visible)
    "pay.view": frozenset({Position.SUPERVISOR, Position.DEPUTY}),
    # status labels of the workflows (cases, conversations, service requests …)
    "workflow.configure": frozenset({Position.SUPERVISOR, Position.DEPUTY}),
    # product parameters and categories (SPEC §8 knowledge)
    "catalog.edit": frozenset({Position.SUPERVISOR, Position.DEPUTY, Position.TEAM_LEAD}),
    # field service (SPEC §6): take a repair request and evaluate it; appoint a technician;
    # work a visit (arrive, diagnose, parts, the customer's signature); settle; receive stock
    "service.intake": frozenset({Position.SUPERVISOR, Position.DEPUTY, Position.TEAM_LEAD, Position.AFTERSALES}),
    "service.dispatch": frozenset({Position.SUPERVISOR, Position.DEPUTY, Position.TEAM_LEAD}),
    "service.visit": frozenset({Position.SUPERVISOR, Position.DEPUTY, Position.TECHNICIAN}),
    "service.settle": frozenset({Position.SUPERVISOR, Position.DEPUTY, Position.TEAM_LEAD}),
    "stock.receive": frozenset({Position.SUPERVISOR, Position.DEPUTY}),
    # service agreements are contracts: signed and their payments recorded by the supervisor and deputy
    "agreements.manage": frozenset({Position.SUPERVISOR, Position.DEPUTY}),
    # review (审核) an agreement before it takes effect (SPEC §6.1)
    "agreements.review": frozenset({Position.SUPERVISOR}),
    # customer care (SPEC §7): assign customers to agents (R-CARE-2); take complaints and visits
    "customers.assign": frozenset({Position.SUPERVISOR, Position.DEPUTY}),
    # give a complaint to the person who handles it (SPEC §7: 客户投诉分配)
    "complaints.assign": frozenset({Position.SUPERVISOR, Position.DEPUTY, Position.TEAM_LEAD}),
    "care.handle": frozenset(
        {Position.SUPERVISOR, Position.DEPUTY, Position.TEAM_LEAD, Position.AFTERSALES, Position.PRESALES}
    ),
    # push buyer messages into the desk with an API token (an integration of the shops in one's
    # scope); agents answer buyers on the desk pages, never by pushing messages in their own name
    "desk.integrate": frozenset({Position.SUPERVISOR, Position.DEPUTY, Position.TEAM_LEAD}),
    # close and transfer buyer conversations: the desk's people, never a technician or the
    # warehouse contact (issue 16 §2)
    "desk.handle": frozenset(
        {Position.SUPERVISOR, Position.DEPUTY, Position.TEAM_LEAD, Position.AFTERSALES, Position.PRESALES}
    ),
    # the audit log
    "audit.view": frozenset({Position.SUPERVISOR, Position.DEPUTY}),
    # messages that did not go out (robot, mail, SMS, replies): see them and send them again (ADR 0008)
    "outbox.manage": frozenset({Position.SUPERVISOR, Position.DEPUTY}),
}


# Capabilities a person may hold beyond their position, granted by the supervisor (the refund-approval
# permission of R-AS-7): a module registers how to ask for its grants (``grant_source``).
GRANT_SOURCES: dict[str, list[Callable[[Any], bool]]] = {}


def grant_source(capability: str, holds: Callable[[Any], bool]) -> None:
    if capability not in CAPABILITIES:
        raise KeyError(f"unknown capability {capability!r}")
    GRANT_SOURCES.setdefault(capability, []).append(holds)


def by_position(user: Any, capability: str) -> bool:
    """The capability as the user's position gives it (no personal grant)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    allowed = CAPABILITIES.get(capability)
    if allowed is None:
        raise KeyError(f"unknown capability {capability!r}")
    return scope_for(user).position in allowed


def staff_holds(staff: Any, capability: str) -> bool:
    """Whether a staff member's position holds ``capability`` — for a person being given work or a
    permission (the owner of a complaint, a grant's holder), not the one acting."""
    allowed = CAPABILITIES.get(capability)
    if allowed is None:
        raise KeyError(f"unknown capability {capability!r}")
    return bool(staff.active) and staff.position in allowed


def has_capability(user: Any, capability: str) -> bool:
    if by_position(user, capability):
        return True
    return getattr(user, "is_authenticated", False) and any(holds(user) for holds in GRANT_SOURCES.get(capability, ()))
