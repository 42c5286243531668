"""Reads for after-sales, scoped to the actor: inbox, case page, refund queue, claims, reviews, weekly report."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Prefetch, Q, Sum

from kefu.core import clock
from kefu.core.actors import Actor
from kefu.core.pagination import Page, keyset_iter, keyset_page
from kefu.core.scoping import access_object
from kefu.org.models import Staff
from kefu.org.permissions import by_position, has_capability
from kefu.org.selectors import staff_of
from kefu.workflow import selectors as wf
from kefu.workflow.models import StatusLabel

from .models import (
    Case,
    CourierClaim,
    Evidence,
    MoneyKind,
    MoneyLine,
    MoneyStatus,
    NegativeReview,
    RefundApprover,
)
from .workflow import CASES


@dataclass(frozen=True)
class CaseFilters:
    case_type: str | None = None
    category: str | None = None
    shop: int | None = None
    owner: int | None = None
    active_only: bool = False
    overdue: bool = False
    escalated: bool = False
    q: str | None = None


def case_inbox(*, actor: Actor, filters: CaseFilters, cursor: str | None = None, limit: int = 50) -> Page[Case]:
    return keyset_page(case_queryset(actor=actor, filters=filters), key="opened_at", cursor=cursor, limit=limit)


# what a row of the case list shows (ADR 0023): plain values, no model instances
CASE_ROW = (
    "id",
    "case_type",
    "shop__name",
    "order__order_no",
    "buyer_nick",
    "owner__name",
    "status__name",
    "opened_at",
    "platform_deadline",
    "sla_due_at",
    "breached",
    "escalated_at",
)


def case_rows(
    *, actor: Actor, filters: CaseFilters, cursor: str | None = None, limit: int = 50
) -> Page[dict[str, Any]]:
    """The case list's page as plain rows (``CASE_ROW``), newest first; the same scope and filters
    as ``case_inbox``."""
    qs = case_queryset(actor=actor, filters=filters).values(*CASE_ROW)
    return keyset_page(qs, key="opened_at", cursor=cursor, limit=limit)


def case_export(*, actor: Actor, filters: CaseFilters, cap: int) -> Iterator[Case]:
    """Every case of the filtered inbox (newest first), in keyset batches, at most ``cap``."""
    return keyset_iter(case_queryset(actor=actor, filters=filters), key="opened_at", cap=cap)


def case_queryset(*, actor: Actor, filters: CaseFilters) -> Any:
    qs = Case.objects.restrict(actor).select_related("shop", "owner", "status", "order")
    if filters.case_type:
        qs = qs.filter(case_type=filters.case_type)
    if filters.category:
        qs = wf.in_categories(qs, CASES, filters.category)
    elif filters.active_only:
        qs = _active(qs)
    if filters.shop:
        qs = qs.filter(shop_id=filters.shop)
    if filters.owner:
        qs = qs.filter(owner_id=filters.owner)
    if filters.overdue:
        qs = qs.filter(breached=True)
    if filters.escalated:
        qs = qs.filter(escalated_at__isnull=False, breached=False)
    if filters.q:
        q = filters.q.strip()
        number = int(q[2:]) if q.upper().startswith("AS") and q[2:].isdecimal() and len(q) <= 20 else None
        cond = Q(buyer_nick=q) | Q(order__order_no=q)
        if number is not None:
            cond |= Q(pk=number)
        qs = qs.filter(cond)
    return qs


def case_get(*, actor: Actor, case_id: int) -> Case:
    money: Any = Prefetch("money", queryset=MoneyLine.objects.select_related("created_by", "decided_by"))
    evidence: Any = Prefetch("evidence", queryset=Evidence.objects.select_related("uploaded_by"))
    # the relations the page and the API show; customer and product are not (PostgreSQL took 6 ms to
    # plan the seven joins, 1.9 ms for these five)
    qs = Case.objects.select_related("shop", "owner", "status", "order", "responsible_staff").prefetch_related(
        money, evidence
    )
    return access_object(actor, qs, pk=case_id)


def evidence_get(*, actor: Actor, evidence_id: int) -> Evidence:
    return access_object(actor, Evidence.objects.select_related("case"), pk=evidence_id)


def money_line_get(*, actor: Actor, line_id: int) -> MoneyLine:
    return access_object(actor, MoneyLine.objects.select_related("case", "case__shop"), pk=line_id)


def refund_queue(*, actor: Actor) -> list[MoneyLine]:
    """Refunds awaiting a decision, each with its case, order amounts and evidence (constant queries)."""
    evidence: Any = Prefetch("case__evidence", queryset=Evidence.objects.order_by("uploaded_at", "id"))
    return list(
        MoneyLine.objects.restrict(actor)
        .filter(status=MoneyStatus.REQUESTED)
        .select_related("case", "case__shop", "case__order", "created_by")
        .prefetch_related(evidence)
        .order_by("created_at", "id")[:500]
    )


def order_refunds_in_kefu(order_ids: list[int]) -> dict[int, dict[str, Decimal]]:
    """Refunds of these orders recorded in Kefu: approved and still waiting (one query), for the
    approver who checks the amount against what the order has left."""
    out: dict[int, dict[str, Decimal]] = {}
    rows = (
        MoneyLine.objects.filter(
            case__order_id__in=order_ids,
            kind__in=["refund", "partial_refund"],
            status__in=[MoneyStatus.APPROVED, MoneyStatus.REQUESTED],
        )
        .values("case__order_id", "status")
        .annotate(total=Sum("amount"))
    )
    for row in rows:
        out.setdefault(row["case__order_id"], {})[row["status"]] = row["total"]
    return out


def refund_grants(*, actor: Actor) -> list[RefundApprover]:
    """The people granted the refund-approval permission (R-AS-7), with their limits."""
    return list(
        RefundApprover.objects.filter(active=True, staff__in=Staff.objects.restrict(actor))
        .select_related("staff")
        .order_by("staff__employee_no")
    )


def claims(*, actor: Actor, open_only: bool = True) -> list[CourierClaim]:
    qs = CourierClaim.objects.restrict(actor).select_related("case", "case__shop")
    if open_only:
        qs = qs.exclude(status__in=["paid", "written_off"])
    return list(qs.order_by("-filed_at")[:500])


def claim_get(*, actor: Actor, claim_id: int) -> CourierClaim:
    return access_object(actor, CourierClaim.objects.select_related("case"), pk=claim_id)


def reviews_of_day(*, actor: Actor, day: dt.date) -> list[NegativeReview]:
    start = clock.day_start(day)
    return list(
        NegativeReview.objects.restrict(actor)
        .filter(reviewed_at__gte=start, reviewed_at__lt=start + dt.timedelta(days=1))
        .select_related("shop", "product", "order", "replied_by")
        .order_by("-reviewed_at")
    )


def review_get(*, actor: Actor, review_id: int) -> NegativeReview:
    return access_object(actor, NegativeReview.objects.select_related("shop"), pk=review_id)


def weekly_report(*, actor: Actor, monday: dt.date, shop: int | None = None) -> dict[str, Any]:
    """R-AS-15: a week's cases by type and responsibility, money, top products × reasons, open past deadline."""
    start = clock.day_start(monday)
    end = start + dt.timedelta(days=7)
    cases = Case.objects.restrict(actor).filter(opened_at__gte=start, opened_at__lt=end)
    if shop:
        cases = cases.filter(shop_id=shop)
    by_type = list(cases.values("case_type").annotate(n=Count("id")).order_by("-n", "case_type"))
    by_resp = list(cases.values("responsibility").annotate(n=Count("id")).order_by("-n", "responsibility"))
    money_qs = (
        MoneyLine.objects.restrict(actor)
        .filter(created_at__gte=start, created_at__lt=end)
        .exclude(status=MoneyStatus.REJECTED)
    )
    if shop:
        money_qs = money_qs.filter(case__shop_id=shop)
    money = {row["kind"]: row["total"] for row in money_qs.values("kind").annotate(total=Sum("amount"))}
    products = list(
        cases.filter(product__isnull=False, case_type__in=["quality", "defect", "wrong_item", "missing_item"])
        .values("product_id", "product__sku", "product__title", "case_type")
        .annotate(n=Count("id"))
        .order_by("-n", "product__sku")[:15]
    )
    reviews = NegativeReview.objects.restrict(actor).filter(reviewed_at__gte=start, reviewed_at__lt=end)
    if shop:
        reviews = reviews.filter(shop_id=shop)
    feedback = list(
        reviews.exclude(feedback_reason="")
        .values("product__sku", "product__title", "feedback_reason")
        .annotate(n=Count("id"))
        .order_by("-n")[:15]
    )
    overdue_qs = _active(Case.objects.restrict(actor)).filter(breached=True)
    if shop:
        overdue_qs = overdue_qs.filter(shop_id=shop)
    overdue = list(overdue_qs.select_related("shop", "owner").order_by("sla_due_at")[:50])
    totals = cases.aggregate(total=Count("id"), wrong=Count("id", filter=Q(case_type="wrong_item")))
    return {
        "monday": monday,
        "sunday": monday + dt.timedelta(days=6),
        "total": totals["total"],
        "wrong_items": totals["wrong"],
        "by_type": by_type,
        "by_responsibility": by_resp,
        # SQLite sums decimals in floating point: present every total as CNY with 2 places.
        "money": {kind: Decimal(money.get(kind) or 0).quantize(Decimal("0.01")) for kind in MoneyKind.values},
        "products": products,
        "feedback": feedback,
        "overdue": overdue,
        "overdue_count": overdue_qs.count(),
        "reviews": reviews.count(),
    }


def case_status_by_id(status_id: Any) -> StatusLabel:
    return wf.label_by_id(CASES, status_id)


def case_status_named(name: str) -> StatusLabel | None:
    """A label by its name, or the default label of a category."""
    return wf.label_named(CASES, name)


def _active(qs: Any) -> Any:
    """Cases in an active category: filtered on the indexed label column, so a case's category is
    always its label's (never a copy that could disagree)."""
    return wf.in_categories(qs, CASES, *CASES.active_categories())


def open_case_counts(*, actor: Actor, staff: Any) -> dict[str, int]:
    """Active cases in the actor's scope: all, escalated (deadline near, follow up), breached, mine."""
    open_cases = _active(Case.objects.restrict(actor))
    counts = open_cases.aggregate(
        open=Count("id"),
        escalated=Count("id", filter=Q(escalated_at__isnull=False, breached=False)),
        breached=Count("id", filter=Q(breached=True)),
        mine=Count("id", filter=Q(owner=staff)) if staff is not None else Count("id", filter=Q(pk__in=[])),
    )
    return {k: int(v or 0) for k, v in counts.items()}


def home_cases(*, actor: Actor, staff: Any, which: str, limit: int = 5) -> list[Case]:
    """The first active cases behind a home-page count, nearest deadline first: ``mine``, ``open``,
    ``escalated`` (deadline near) or ``breached``."""
    qs = _active(Case.objects.restrict(actor)).select_related("status", "shop", "owner")
    if which == "mine":
        qs = qs.filter(owner=staff)
    elif which == "escalated":
        qs = qs.filter(escalated_at__isnull=False, breached=False)
    elif which == "breached":
        qs = qs.filter(breached=True)
    return list(qs.order_by(F("sla_due_at").asc(nulls_last=True), "opened_at")[:limit])


def cases_of_buyer(*, actor: Actor, shop: int, buyer: str, limit: int = 10) -> list[Case]:
    """A buyer's cases in one shop, open ones first (the desk shows them beside the conversation)."""
    qs = Case.objects.restrict(actor).filter(shop_id=shop, buyer_nick=buyer).select_related("status", "owner")
    return sorted(qs.order_by("-opened_at")[:limit], key=lambda c: c.category in CASES.done)


def refunds_awaiting_count(*, actor: Actor) -> int:
    return MoneyLine.objects.restrict(actor).filter(status=MoneyStatus.REQUESTED).count()


def decision_comparison(
    *, actor: Actor, since: dt.datetime, draft: dict[str, Any], limit: int = 2000
) -> list[dict[str, Any]]:
    """The after-sales decisions of cases opened since ``since`` under the policy in force and under
    a draft (nothing stored): freight and the cost of the chosen resolution — or, before one is
    chosen, of the first proposal — with the change in money."""
    from kefu.core.policy_store import policy_in_force
    from kefu.policies import aftersales as rules

    cases = list(
        Case.objects.restrict(actor)
        .filter(opened_at__gte=since)
        .select_related("shop", "status")
        .order_by("-opened_at", "-id")[:limit]
    )
    rows = []
    for case in cases:
        facts = rules.facts_from_dict(
            {**case.facts, "case_type": case.case_type, "responsibility": case.responsibility}
        )
        now = rules.evaluate(policy_in_force(clock.local_date(case.opened_at)).document, facts)
        then = rules.evaluate(draft, facts)

        label, current_cost = _resolution_cost(now, case.resolution)
        draft_label, draft_cost = _resolution_cost(then, case.resolution)
        rows.append(
            {
                "case": case,
                "resolution": label,
                "draft_resolution": draft_label,
                "freight": now.freight,
                "draft_freight": then.freight,
                "cost": current_cost,
                "draft_cost": draft_cost,
                "difference": draft_cost - current_cost,
            }
        )
    return rows


def _resolution_cost(decision: Any, chosen_code: str) -> tuple[str, Decimal]:
    """The chosen proposal's label and cost, or the first proposal's before one is chosen."""
    chosen = next((p for p in decision.proposals if p.code == chosen_code), None)
    first = chosen or (decision.proposals[0] if decision.proposals else None)
    return (first.label, first.cost) if first else ("", Decimal("0"))


def may_approve(actor: Actor, line: MoneyLine) -> bool:
    """R-AS-7: the refund-approval permission — the supervisor and deputy by position, or a person the
    supervisor granted it to, up to the grant's limit; above the cap only the supervisor."""
    if line.needs_supervisor:
        return has_capability(actor, "refund.approve_over_cap")
    if by_position(actor, "refund.approve"):
        return True
    me = staff_of(actor)
    return me is not None and RefundApprover.objects.filter(staff=me, active=True, limit__gte=line.amount).exists()


def grant_candidates(*, actor: Actor) -> list[Staff]:
    """Active people in the actor's scope, for the grant form."""
    return list(Staff.objects.restrict(actor).filter(active=True).order_by("employee_no"))
