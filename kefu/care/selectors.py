"""Customer-care reads: complaints, the assignment proposal (R-CARE-2), visits, contacts overdue."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, Subquery

from kefu.commerce.models import Customer, Order
from kefu.core import clock
from kefu.core.actors import Actor
from kefu.core.policy_store import policy_in_force
from kefu.core.reports import day_span
from kefu.core.scoping import access_object
from kefu.org.models import Shop, Staff
from kefu.org.permissions import holders
from kefu.policies import care as rules

from .models import Assignment, Complaint, ReturnVisit

LIMIT = 50


def complaints(*, actor: Actor, category: str = "", limit: int = LIMIT) -> list[Complaint]:
    qs = Complaint.objects.restrict(actor).select_related("shop", "status", "owner")
    if category:
        qs = qs.filter(status__category=category)
    return list(qs.order_by("-opened_at", "-id")[:limit])


def complaint_get(*, actor: Actor, complaint_id: Any) -> Complaint:
    return access_object(
        actor, Complaint.objects.select_related("shop", "status", "owner", "customer"), pk=complaint_id
    )


def reason_labels() -> dict[str, str]:
    return {r.code: r.label for r in policy_in_force().care.complaint_reasons}


def agents_in_scope(actor: Actor) -> list[Staff]:
    return list(
        Staff.objects.restrict(actor)
        .filter(position__in=holders("customers.serve"), active=True)
        .order_by("team_id", "name")
    )


def agent_in_scope(actor: Actor, agent_id: Any) -> Staff | None:
    """One of ``agents_in_scope`` by id (an id from a form or a body), else None."""
    return next((a for a in agents_in_scope(actor) if str(a.pk) == str(agent_id)), None)


def assignment_proposal(*, actor: Actor, limit: int = 200) -> list[tuple[Customer, Staff]]:
    """R-CARE-2: the customers in scope with no agent yet, each team's spread over that team's agents
    by count and skill (``policies.care.propose_assignment``); a customer belongs to the team serving
    the shop of their latest order. The supervisor edits and confirms."""
    agents = agents_in_scope(actor)
    counts = dict(
        Assignment.objects.filter(active=True, agent__in=agents)
        .values_list("agent_id")
        .annotate(n=Count("id"))
        .values_list("agent_id", "n")
    )
    current = Assignment.objects.filter(customer_id=OuterRef("pk"), active=True)
    latest_shop = Order.objects.filter(customer_id=OuterRef("pk")).order_by("-ordered_at", "-pk").values("shop_id")[:1]
    waiting = list(
        Customer.objects.restrict(actor)
        .filter(~Exists(current))
        .annotate(shop_id=Subquery(latest_shop))
        .order_by("first_seen_at", "id")[:limit]
    )
    team_of_shop: dict[int, int] = {}
    for shop_id, team_id in Shop.teams.through.objects.values_list("shop_id", "team_id").order_by("team_id"):
        team_of_shop.setdefault(shop_id, team_id)
    by_team: dict[int | None, list[Customer]] = {}
    for customer in waiting:
        by_team.setdefault(team_of_shop.get(getattr(customer, "shop_id", None) or 0), []).append(customer)
    pairs: list[tuple[Customer, Staff]] = []
    for team, customers in by_team.items():
        team_agents = [a for a in agents if a.team_id == team]
        pairs += rules.propose_assignment(customers, [(a, counts.get(a.pk, 0), a.care_skill) for a in team_agents])
    order = {c.pk: i for i, c in enumerate(waiting)}
    return sorted(pairs, key=lambda pair: order[pair[0].pk])


def contacts_overdue(*, actor: Actor) -> list[Assignment]:
    """New customers not contacted within the policy's days (R-CARE-2)."""
    return list(
        Assignment.objects.restrict(actor)
        .filter(active=True, contacted_at__isnull=True, contact_due__lt=clock.now())
        .select_related("customer", "agent")
        .order_by("contact_due")[:LIMIT]
    )


def visits(*, actor: Actor, agent: Staff | None = None, done: bool = False) -> list[ReturnVisit]:
    qs = ReturnVisit.objects.restrict(actor).select_related("customer", "agent", "complaint")
    if agent is not None:
        qs = qs.filter(agent=agent)
    qs = qs.filter(done_at__isnull=not done)
    return list(qs.order_by("-done_at" if done else "scheduled_at", "id")[:LIMIT])


def visit_get(*, actor: Actor, visit_id: Any) -> ReturnVisit:
    return access_object(actor, ReturnVisit.objects.select_related("customer", "agent"), pk=visit_id)


def customer_get(*, actor: Actor, customer_id: Any) -> Customer:
    return access_object(actor, Customer.objects.all(), pk=customer_id)


def customer_in_scope(*, actor: Actor, customer_id: Any) -> Customer | None:
    """The customer, or None when the id is malformed or names no customer in the actor's scope."""
    from django.http import Http404

    try:
        return customer_get(actor=actor, customer_id=customer_id)
    except Http404:
        return None


def coverage_rows(
    *, actor: Actor, first: dt.date, last: dt.date, shop: int | None = None, team: int | None = None
) -> list[dict[str, Any]]:
    """R-CARE-3: every member customer in scope (by their current agent; those without one apart)
    and how many had a completed return visit in the period."""
    from django.utils.translation import gettext as _

    start, end = day_span(first, last)
    members = Customer.objects.restrict(actor).exclude(member_level="")
    if shop:
        members = members.filter(Exists(Order.objects.filter(customer_id=OuterRef("pk"), shop_id=shop)))
    if team:
        members = members.filter(Exists(Order.objects.filter(customer_id=OuterRef("pk"), shop__teams__id=team)))
    visited = ReturnVisit.objects.filter(customer_id=OuterRef("pk"), done_at__gte=start, done_at__lt=end)
    agent = Assignment.objects.filter(customer_id=OuterRef("pk"), active=True).values("agent__name")[:1]
    rows = (
        members.annotate(seen=Exists(visited), agent_name=Subquery(agent))
        .values("agent_name")
        .annotate(members=Count("id"), visited=Count("id", filter=Q(seen=True)))
        .order_by("agent_name")
    )
    out = []
    for r in rows:
        out.append(
            {
                "agent": r["agent_name"] or _("No agent yet"),
                "members": r["members"],
                "visited": r["visited"],
                "coverage": rules.coverage(r["members"], r["visited"]),
            }
        )
    return out
