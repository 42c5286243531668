"""Customer-care reports: complaint reasons (seed 003 §5.3) and return-visit coverage (R-CARE-3)."""

from __future__ import annotations

from django.db.models import Count, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.core.actors import Actor
from kefu.core.reports import INT, PERCENT, Column, Filters, Report, Result, day_span, register, share
from kefu.policies import care as rules

from . import selectors
from .models import Complaint


def complaint_reasons(actor: Actor, f: Filters) -> Result:
    """客户投诉原因统计: complaints received in the period by reason (unresolved ones apart)."""
    start, end = day_span(f.first, f.last)
    qs = Complaint.objects.restrict(actor).filter(opened_at__gte=start, opened_at__lt=end)
    if f.shop:
        qs = qs.filter(shop_id=f.shop)
    if f.team:
        qs = qs.filter(shop__teams__id=f.team)
    rows = list(qs.values("reason").annotate(n=Count("id"), ours=Count("id", filter=Q(our_fault=True))).order_by("-n"))
    labels = selectors.reason_labels()
    whole = sum(r["n"] for r in rows)
    out = [
        {
            "reason": labels.get(r["reason"], r["reason"]) if r["reason"] else _("Not resolved yet"),
            "count": r["n"],
            "share": share(r["n"], whole),
            "our_fault": r["ours"],
        }
        for r in rows
    ]
    return Result(
        out,
        {
            "reason": _("In all"),
            "count": whole,
            "share": share(whole, whole),
            "our_fault": sum(r["ours"] for r in rows),
        },
    )


def visit_coverage(actor: Actor, f: Filters) -> Result:
    """R-CARE-3: member customers per agent and the share with a completed return visit in the period."""
    rows = selectors.coverage_rows(actor=actor, first=f.first, last=f.last, shop=f.shop, team=f.team)
    members = sum(r["members"] for r in rows)
    visited = sum(r["visited"] for r in rows)
    return Result(
        rows,
        {"agent": _("In all"), "members": members, "visited": visited, "coverage": rules.coverage(members, visited)},
    )


def register_reports() -> None:
    register(
        Report(
            "complaint-reasons",
            gettext_lazy("Complaint reasons"),
            (
                Column("reason", gettext_lazy("Reason")),
                Column("count", gettext_lazy("Complaints"), INT),
                Column("share", gettext_lazy("Share (%)"), PERCENT),
                Column("our_fault", gettext_lazy("Our fault"), INT),
            ),
            complaint_reasons,
            gettext_lazy("Complaints received in the period by the reason recorded when resolved."),
            chart=("reason", "count"),
            rule="R-CARE-1",
            order=30,
        )
    )
    register(
        Report(
            "return-visit-coverage",
            gettext_lazy("Return-visit coverage"),
            (
                Column("agent", gettext_lazy("Agent")),
                Column("members", gettext_lazy("Member customers"), INT),
                Column("visited", gettext_lazy("Visited"), INT),
                Column("coverage", gettext_lazy("Coverage (%)"), PERCENT),
            ),
            visit_coverage,
            gettext_lazy(
                "Member customers by their agent and how many had a return visit in the period (target 100%)."
            ),
            chart=("agent", "coverage"),
            rule="R-CARE-3",
            order=80,
        )
    )
