"""Field-service reads: the work-order inbox, a technician's day, the warranty verdict of a request,
the settlement it would get."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Prefetch, QuerySet, Sum
from django.utils.translation import gettext as _

from kefu.core import clock
from kefu.core.actors import Actor
from kefu.core.policy_store import policy_in_force
from kefu.org.models import Staff
from kefu.org.permissions import holders
from kefu.policies import warranty
from kefu.workflow import selectors as wf_selectors

from .models import Agreement, AgreementBill, Charge, Part, PlanItem, ServiceKind, ServiceRequest, StockEntry
from .workflow import REQUESTS


def repairs_in_warranty(item: ServiceRequest, ends: dt.date) -> int:
    """R-SVC-3 (SPEC §6.1): completed repairs of a fault by us of this unit (same serial no.) inside
    its warranty. Maintenance, yearly service and return visits never count; a completed
    replacement closes the old unit's history (only repairs signed after it count)."""
    if not item.serial_no:
        return 0
    same_unit = ServiceRequest.objects.filter(serial_no=item.serial_no, signed_at__isnull=False).exclude(pk=item.pk)
    replaced = (
        same_unit.filter(kind=ServiceKind.REPLACEMENT)
        .order_by("-signed_at")
        .values_list("signed_at", flat=True)
        .first()
    )
    repairs = same_unit.filter(kind=ServiceKind.REPAIR, on_site_at__isnull=False, signed_at__date__lte=ends)
    if replaced is not None:
        repairs = repairs.filter(signed_at__gt=replaced)
    return repairs.count()


def verdict_for(item: ServiceRequest, *, causes: list[str], agreement_months: int | None) -> warranty.Verdict:
    today = clock.today()
    policy = policy_in_force(today).document
    base = warranty.Facts(
        part=item.part,
        purchase_date=item.purchase_date,
        request_date=clock.local_date(item.opened_at),
        agreement_months=agreement_months,
        causes=tuple(causes),
        replacement=item.kind == ServiceKind.REPLACEMENT,
    )
    ends = warranty.evaluate(policy, base).warranty_ends
    facts = warranty.Facts(
        **{
            **base.__dict__,
            "repairs_in_warranty": repairs_in_warranty(item, ends),
            "request_open_days": 0 if item.signed_at else (today - clock.local_date(item.opened_at)).days,
        }
    )
    return warranty.evaluate(policy, facts)


def confirmation_text(item: ServiceRequest, technician: Staff, at: dt.datetime) -> str:
    """Seed 003: the appointment confirmed to the customer with the time, the technician's name and phone."""
    local = at.astimezone(clock.local_tz())
    return _(
        "Your service visit for request %(number)s is booked for %(time)s. Technician: %(name)s, phone %(phone)s."
    ) % {
        "number": item.number,
        "time": f"{local:%Y-%m-%d %H:%M}",
        "name": technician.name,
        "phone": technician.phone or "—",
    }


def parts_on_request(item: ServiceRequest) -> dict[int, int]:
    """Part id → quantity still with the request (issued less returned)."""
    rows = StockEntry.objects.filter(request=item).values("part_id").annotate(n=Sum("quantity"))
    return {r["part_id"]: -int(r["n"]) for r in rows if r["n"]}


def settlement_figures(
    item: ServiceRequest, labour: Decimal, parts_rate: Decimal = Decimal(0), labour_rate: Decimal = Decimal(0)
) -> dict[str, Decimal]:
    """Parts (at the price issued) + labour, less the discounts (percent on parts, on labour);
    a free repair under warranty is discounted in full."""
    cent = Decimal("0.01")
    parts = sum((-(e.quantity) * e.unit_price for e in StockEntry.objects.filter(request=item)), Decimal("0.00"))
    parts = parts.quantize(cent)
    gross = parts + labour
    if item.charge == Charge.FREE:  # a repair under warranty costs the customer nothing
        discount = gross
    else:
        discount = (parts * parts_rate / 100).quantize(cent, ROUND_HALF_UP) + (labour * labour_rate / 100).quantize(
            cent, ROUND_HALF_UP
        )
    return {"parts": parts, "labour": labour, "discount": discount, "due": gross - discount}


def billing_plan(agreement: Agreement) -> list[tuple[dt.date, Decimal]]:
    """The agreement's receivables: the fee in equal instalments by its billing plan over its term
    (the last instalment takes the cents left over); once = the whole fee on the first day."""
    step = {"once": 0, "monthly": 1, "quarterly": 3, "yearly": 12}[agreement.billing]
    dates = [agreement.starts_on]
    if step:
        n = 1
        while (d := warranty.add_months(agreement.starts_on, step * n)) <= agreement.ends_on:
            dates.append(d)
            n += 1
    share = (agreement.fee / len(dates)).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    amounts = [share] * len(dates)
    amounts[-1] = agreement.fee - share * (len(dates) - 1)
    return list(zip(dates, amounts, strict=True))


def plan_dates(agreement: Agreement) -> list[tuple[str, dt.date]]:
    """The proactive plan (SPEC §6.1): each kind once per period of N months, due on the period's last
    day, for every period that ends inside the term — a plan of 12 months has 12 monthly return
    visits, 4 quarterly maintenances and 1 yearly service (2026-01-01 … 2026-12-31: the visits due
    01-31 … 12-31, the maintenances 03-31 … 12-31, the service 12-31)."""
    out = []
    for kind, months in (agreement.visits or {}).items():
        if not months:
            continue
        n = 1
        while (d := warranty.add_months(agreement.starts_on, months * n) - dt.timedelta(days=1)) <= agreement.ends_on:
            out.append((kind, d))
            n += 1
    return sorted(out, key=lambda kd: (kd[1], kd[0]))


def covering_agreement(*, shop: Any, serial_no: str, on: dt.date) -> Agreement | None:
    """The reviewed agreement of ``shop`` in force ``on`` that covers the unit ``serial_no``."""
    for agreement in Agreement.objects.filter(
        shop=shop, reviewed_at__isnull=False, starts_on__lte=on, ends_on__gte=on
    ).order_by("-starts_on"):
        if any(p.get("serial_no") == serial_no for p in agreement.products):
            return agreement
    return None


def technicians(*, actor: Actor) -> list[Staff]:
    """The technicians ``actor`` may dispatch or filter by: those of their scope (a team lead's own
    team; the supervisor and deputy every one) — dispatch never reaches across teams (issue 16 §2)."""
    return list(
        Staff.objects.restrict(actor).filter(position__in=holders("service.attend"), active=True).order_by("name")
    )


def technician_load(ids: list[int]) -> dict[int, int]:
    """Open requests per technician (the dispatcher balances by it)."""
    return wf_selectors.workload(REQUESTS, ids)


def parts_in_stock() -> list[Part]:
    return list(Part.objects.order_by("code"))


def part_by_id(part_id: int | None) -> Part | None:
    """A part of the catalogue (department-wide), or None for a missing or unknown id."""
    return Part.objects.filter(pk=part_id).first() if part_id else None


INBOX_LIMIT = 50


@dataclass(frozen=True)
class RequestFilters:
    category: str = ""
    technician: int | None = None
    shop: int | None = None
    q: str = ""
    overdue: bool = False


def request_page(*, actor: Actor, filters: RequestFilters, cursor: str | None = None, limit: int = 50) -> Any:
    """One page of the work-order inbox for the API (newest first, keyset cursor)."""
    from kefu.core.pagination import keyset_page

    return keyset_page(_inbox_rows(actor, filters), key="opened_at", cursor=cursor, limit=limit)


def technician_get(*, actor: Actor, staff_id: Any) -> Staff:
    """A technician the actor may dispatch (404 otherwise: another team's, or not a technician)."""
    from kefu.core.scoping import access_object

    return access_object(actor, Staff.objects.filter(position__in=holders("service.attend"), active=True), pk=staff_id)


# what a row of the work-order inbox shows (ADR 0023): plain values, no model instances
INBOX_ROW = (
    "id",
    "number",
    "shop__name",
    "contact_name",
    "product",
    "technician__name",
    "appointment_at",
    "on_site_at",
    "sla_due_at",
    "breached",
    "status__name",
    "replacement_due",
)


def inbox(*, actor: Actor, filters: RequestFilters, limit: int = INBOX_LIMIT) -> list[dict[str, Any]]:
    """The newest ``limit`` requests of the filtered inbox as plain rows (``INBOX_ROW``)."""
    return list(_inbox_rows(actor, filters).values(*INBOX_ROW)[:limit])


def inbox_export(*, actor: Actor, filters: RequestFilters, cap: int) -> Any:
    """The same filtered list for an XLSX download, streamed in chunks."""
    return _inbox_rows(actor, filters)[:cap].iterator(chunk_size=2000)


def _inbox_rows(actor: Actor, f: RequestFilters) -> Any:
    """The work-order inbox: newest first, in the actor's scope, filters on (a constant number of
    queries: the rows with their shop, status and technician joined)."""
    qs = ServiceRequest.objects.restrict(actor).select_related("shop", "status", "technician")
    if f.category:
        qs = wf_selectors.in_categories(qs, REQUESTS, f.category)
    if f.technician:
        qs = qs.filter(technician_id=f.technician)
    if f.shop:
        qs = qs.filter(shop_id=f.shop)
    if f.q:
        qs = qs.filter(number=f.q) | qs.filter(contact_phone=f.q) | qs.filter(serial_no=f.q)
    if f.overdue:
        qs = qs.filter(breached=True)
    return qs.order_by("-opened_at", "-id")


def request_get(*, actor: Actor, request_id: Any) -> ServiceRequest:
    from kefu.core.scoping import access_object

    return access_object(
        actor,
        ServiceRequest.objects.select_related("shop", "status", "technician", "owner", "order", "replaces"),
        pk=request_id,
    )


def day_visits(*, actor: Actor, technician: Staff, day: dt.date) -> list[ServiceRequest]:
    """A technician's visits of one day, in appointment order."""
    start = clock.day_start(day)
    return list(
        ServiceRequest.objects.restrict(actor)
        .filter(technician=technician, appointment_at__gte=start, appointment_at__lt=start + dt.timedelta(days=1))
        .select_related("status", "shop")
        .order_by("appointment_at", "id")
    )


def issued_parts(item: ServiceRequest) -> list[dict[str, Any]]:
    """The parts with the request: code, name, quantity held, unit price, amount."""
    held = parts_on_request(item)
    parts = {p.pk: p for p in Part.objects.filter(pk__in=held)}
    price: dict[int, Decimal] = {}  # the latest issue price of each part, from one query
    for part_id, unit_price in (
        StockEntry.objects.filter(request=item, kind="issued").order_by("at", "id").values_list("part_id", "unit_price")
    ):
        price[part_id] = unit_price
    return [
        {"part": parts[pk], "quantity": n, "price": price.get(pk, Decimal(0)), "amount": price.get(pk, Decimal(0)) * n}
        for pk, n in held.items()
        if n > 0
    ]


def navigation_url(address: str) -> str:
    """A map link that opens navigation to the address on a phone (Amap's public URI API)."""
    from urllib.parse import quote

    return f"https://uri.amap.com/search?keyword={quote(address)}&callnative=1" if address else ""


def warranty_labels() -> dict[str, str]:
    return {code: _(text) for code, text in warranty.PAID_REASONS.items()}


def verdict_explanation(item: ServiceRequest) -> list[str]:
    """The stored verdict explained in the reader's language (evaluated again from its facts under
    the policy in force the day it was evaluated)."""
    facts = item.verdict.get("facts")
    if not facts or not item.evaluated_at:
        return [str(line) for line in item.verdict.get("explanation", [])]
    policy = policy_in_force(clock.local_date(item.evaluated_at)).document
    return warranty.evaluate(policy, warranty.facts_from_dict(facts)).explanation


def fault_causes() -> list[tuple[str, str]]:
    """The policy's catalogue of fault causes (产品故障原因分析)."""
    return [(r.code, r.label) for r in policy_in_force().service.fault_causes]


def _with_bills_and_plan(qs: QuerySet[Agreement]) -> Any:
    """Each agreement's bills and plan in two queries for any number of agreements, in due order."""
    bills: Any = Prefetch("bills", queryset=AgreementBill.objects.order_by("due_on", "id"))
    plan: Any = Prefetch("plan", queryset=PlanItem.objects.order_by("due_on", "id"))
    return qs.select_related("shop").prefetch_related(bills, plan)


def agreements(*, actor: Actor, limit: int = INBOX_LIMIT) -> list[Agreement]:
    return list(_with_bills_and_plan(Agreement.objects.restrict(actor)).order_by("-starts_on", "-id")[:limit])


def agreement_get(*, actor: Actor, agreement_id: Any) -> Agreement:
    from kefu.core.scoping import access_object

    return access_object(actor, _with_bills_and_plan(Agreement.objects.all()), pk=agreement_id)


def agreement_requests(*, actor: Actor, agreement: Agreement, limit: int = 50) -> list[ServiceRequest]:
    """The agreement's work orders the actor may open, newest first."""
    return list(
        ServiceRequest.objects.restrict(actor)
        .filter(agreement=agreement)
        .select_related("status")
        .order_by("-opened_at")[:limit]
    )


def visible_request_ids(*, actor: Actor, ids: list[int]) -> set[int]:
    return set(ServiceRequest.objects.restrict(actor).filter(pk__in=ids).values_list("pk", flat=True))


def plan_item_get(*, actor: Actor, item_id: Any) -> Any:
    from kefu.core.scoping import access_object

    from .models import PlanItem

    return access_object(actor, PlanItem.objects.select_related("agreement"), pk=item_id)


def bill_get(*, actor: Actor, bill_id: Any) -> Any:
    from kefu.core.scoping import access_object

    from .models import AgreementBill

    return access_object(actor, AgreementBill.objects.select_related("agreement"), pk=bill_id)


def part_get(*, actor: Actor, part_id: Any) -> Part:
    from kefu.core.scoping import access_object

    return access_object(actor, Part.objects.all(), pk=part_id)


def replacement_of(item: ServiceRequest) -> ServiceRequest | None:
    """The replacement work order raised for a request (R-SVC-3/4), if any."""
    return ServiceRequest.objects.filter(replaces=item).only("pk", "number").first()
