"""The seven reports of seed 003 §5, over service requests and the stock ledger (SPEC §9).

Each is one aggregate query (or one page of a detail query plus its totals) in the actor's scope,
filtered by date range, shop and team."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, F, Max, Q, QuerySet, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.core import clock
from kefu.core.actors import Actor
from kefu.core.reports import DATE, INT, MONEY, PERCENT, Column, Filters, Report, Result, day_span, register, share

from . import selectors
from .models import RequestCategory, ServiceKind, ServiceRequest, StockEntry

ZERO = Decimal("0.00")


def _requests(actor: Actor, f: Filters) -> QuerySet[ServiceRequest]:
    qs = ServiceRequest.objects.restrict(actor)
    if f.shop:
        qs = qs.filter(shop_id=f.shop)
    if f.team:
        qs = qs.filter(shop__teams__id=f.team)
    return qs


def fault_causes(actor: Actor, f: Filters) -> Result:
    """产品故障原因分析: diagnosed requests of the period by the cause the technician recorded."""
    start, end = day_span(f.first, f.last)
    rows = list(
        _requests(actor, f)
        .filter(opened_at__gte=start, opened_at__lt=end)
        .exclude(fault_cause="")
        .values("fault_cause")
        .annotate(n=Count("id"))
        .order_by("-n", "fault_cause")
    )
    labels = dict(selectors.fault_causes())
    whole = sum(r["n"] for r in rows)
    return Result(
        [
            {"cause": labels.get(r["fault_cause"], r["fault_cause"]), "count": r["n"], "share": share(r["n"], whole)}
            for r in rows
        ],
        {"cause": _("In all"), "count": whole, "share": share(whole, whole)},
    )


def service_items(actor: Actor, f: Filters) -> Result:
    """服务项统计: requests of the period by service item — how many, completed, on site in time
    (R-SVC-6), and what they brought in."""
    start, end = day_span(f.first, f.last)
    done = [RequestCategory.SETTLED, RequestCategory.CLOSED]
    rows = list(
        _requests(actor, f)
        .filter(opened_at__gte=start, opened_at__lt=end)
        .values("kind")
        .annotate(
            n=Count("id"),
            completed=Count("id", filter=Q(status__category__in=done)),
            arrived=Count("id", filter=Q(on_site_at__isnull=False)),
            in_time=Count("id", filter=Q(on_site_at__isnull=False, on_site_at__lte=F("sla_due_at"))),
            amount=Sum("amount_due"),
        )
        .order_by("kind")
    )
    labels = dict(ServiceKind.choices)
    out = [
        {
            "item": str(labels.get(r["kind"], r["kind"])),
            "count": r["n"],
            "completed": r["completed"],
            "in_time": share(r["in_time"], r["arrived"]),
            "amount": r["amount"] or ZERO,
        }
        for r in rows
    ]
    total = {
        "item": _("In all"),
        "count": sum(r["n"] for r in rows),
        "completed": sum(r["completed"] for r in rows),
        "in_time": share(sum(r["in_time"] for r in rows), sum(r["arrived"] for r in rows)),
        "amount": sum((r["amount"] or ZERO for r in rows), ZERO),
    }
    return Result(out, total)


def settlement_details(actor: Actor, f: Filters) -> Result:
    """服务单结算明细表: each request settled in the period, newest first (paged)."""
    start, end = day_span(f.first, f.last)
    qs = _requests(actor, f).filter(settled_at__gte=start, settled_at__lt=end)
    sums = qs.aggregate(
        n=Count("id"), parts=Sum("parts_amount"), labour=Sum("labour"), discount=Sum("discount"), due=Sum("amount_due")
    )
    page = qs.select_related("shop", "technician").order_by("-settled_at", "-id")[f.offset : f.offset + f.limit]
    rows = [
        {
            "number": r.number,
            "settled": clock.local_date(r.settled_at) if r.settled_at else None,
            "shop": r.shop.name,
            "contact": r.contact_name,
            "product": r.product,
            "technician": r.technician.name if r.technician else "",
            "charge": str(r.get_charge_display()) if r.charge else "",
            "parts": r.parts_amount,
            "labour": r.labour,
            "discount": r.discount,
            "due": r.amount_due,
        }
        for r in page
    ]
    total = {
        "number": _("In all"),
        "parts": sums["parts"] or ZERO,
        "labour": sums["labour"] or ZERO,
        "discount": sums["discount"] or ZERO,
        "due": sums["due"] or ZERO,
    }
    return Result(rows, total, sums["n"])


def parts_details(actor: Actor, f: Filters) -> Result:
    """服务单配件明细表: every part issued to (or returned from) a request in the period (paged)."""
    start, end = day_span(f.first, f.last)
    qs = StockEntry.objects.filter(at__gte=start, at__lt=end, request__isnull=False)
    scoped = _requests(actor, f)
    if scoped.query.where:  # a scope or a filter narrows the requests (the whole department needs no join)
        qs = qs.filter(request_id__in=scoped.values("pk"))
    # one pass over the period's lines for every total
    sums = qs.aggregate(n=Count("id"), units=Sum("quantity"), money=Sum(F("unit_price") * F("quantity")))
    page = qs.select_related("part", "request").order_by("-at", "-id")[f.offset : f.offset + f.limit]
    rows = []
    amount_total = ZERO
    for e in page:
        used = -e.quantity
        amount = (e.unit_price * used).quantize(Decimal("0.01"))
        amount_total += amount
        rows.append(
            {
                "number": e.request.number if e.request else "",
                "date": clock.local_date(e.at),
                "code": e.part.code,
                "part": e.part.name,
                "movement": str(e.get_kind_display()),
                "quantity": used,
                "price": e.unit_price,
                "amount": amount,
            }
        )
    money = sums["money"] or ZERO
    total = {"number": _("In all"), "quantity": -(sums["units"] or 0), "amount": (-money).quantize(Decimal("0.01"))}
    return Result(rows, total, sums["n"])


def repair_counts(actor: Actor, f: Filters) -> Result:
    """维修次数统计表: repairs of the period per unit (product and serial no.), most repaired first."""
    start, end = day_span(f.first, f.last)
    rows = list(
        _requests(actor, f)
        .filter(opened_at__gte=start, opened_at__lt=end, kind=ServiceKind.REPAIR)
        .exclude(serial_no="")
        .values("product", "serial_no")
        .annotate(n=Count("id"), last=Max("opened_at"))
        .order_by("-n", "product", "serial_no")[: f.limit]
    )
    out = [
        {
            "product": r["product"],
            "serial_no": r["serial_no"],
            "count": r["n"],
            "last": clock.local_date(r["last"]) if r["last"] else None,
        }
        for r in rows
    ]
    return Result(out, {"product": _("In all"), "count": sum(r["n"] for r in rows)})


def warranty_expiry(actor: Actor, f: Filters) -> Result:
    """保修产品到期一览表: units whose warranty (as last evaluated) ends in the period."""
    rows = list(
        _requests(actor, f)
        .filter(warranty_ends__gte=f.first, warranty_ends__lte=f.last)
        .values("serial_no", "product", "contact_name", "contact_phone", "purchase_date", "warranty_ends")
        .order_by("warranty_ends", "product", "serial_no")
        .distinct()[: f.limit]
    )
    out = [
        {
            "ends": r["warranty_ends"],
            "product": r["product"],
            "serial_no": r["serial_no"],
            "customer": r["contact_name"],
            "phone": r["contact_phone"],
            "bought": r["purchase_date"],
        }
        for r in rows
    ]
    return Result(out, None, len(out))


def register_reports() -> None:
    register(
        Report(
            "fault-causes",
            gettext_lazy("Product fault causes"),
            (
                Column("cause", gettext_lazy("Fault cause")),
                Column("count", gettext_lazy("Requests"), INT),
                Column("share", gettext_lazy("Share (%)"), PERCENT),
            ),
            fault_causes,
            gettext_lazy("Diagnosed requests opened in the period, by the cause the technician recorded."),
            chart=("cause", "count"),
            order=10,
        )
    )
    register(
        Report(
            "service-items",
            gettext_lazy("Service items"),
            (
                Column("item", gettext_lazy("Service item")),
                Column("count", gettext_lazy("Requests"), INT),
                Column("completed", gettext_lazy("Completed"), INT),
                Column("in_time", gettext_lazy("On site in time (%)"), PERCENT),
                Column("amount", gettext_lazy("Amount due"), MONEY),
            ),
            service_items,
            gettext_lazy("Requests opened in the period by service item; on site in time per R-SVC-6."),
            chart=("item", "count"),
            rule="R-SVC-6",
            order=20,
        )
    )
    register(
        Report(
            "settlement-details",
            gettext_lazy("Service order settlement details"),
            (
                Column("number", gettext_lazy("Request no.")),
                Column("settled", gettext_lazy("Settled"), DATE),
                Column("shop", gettext_lazy("Shop")),
                Column("contact", gettext_lazy("Contact")),
                Column("product", gettext_lazy("Product")),
                Column("technician", gettext_lazy("Technician")),
                Column("charge", gettext_lazy("Charge")),
                Column("parts", gettext_lazy("Parts"), MONEY),
                Column("labour", gettext_lazy("Labour"), MONEY),
                Column("discount", gettext_lazy("Discount"), MONEY),
                Column("due", gettext_lazy("Amount due"), MONEY),
            ),
            settlement_details,
            gettext_lazy("Every request settled in the period."),
            detail=True,
            order=40,
        )
    )
    register(
        Report(
            "parts-details",
            gettext_lazy("Service order parts details"),
            (
                Column("number", gettext_lazy("Request no.")),
                Column("date", gettext_lazy("Date"), DATE),
                Column("code", gettext_lazy("Part code")),
                Column("part", gettext_lazy("Part")),
                Column("movement", gettext_lazy("Movement")),
                Column("quantity", gettext_lazy("Quantity"), INT),
                Column("price", gettext_lazy("Unit price"), MONEY),
                Column("amount", gettext_lazy("Amount"), MONEY),
            ),
            parts_details,
            gettext_lazy("Every part issued to or returned from a request in the period."),
            detail=True,
            order=50,
        )
    )
    register(
        Report(
            "repair-counts",
            gettext_lazy("Repair counts"),
            (
                Column("product", gettext_lazy("Product")),
                Column("serial_no", gettext_lazy("Serial no.")),
                Column("count", gettext_lazy("Repairs"), INT),
                Column("last", gettext_lazy("Last request"), DATE),
            ),
            repair_counts,
            gettext_lazy("Repairs opened in the period per unit, the most repaired first (R-SVC-3 looks at these)."),
            chart=("serial_no", "count"),
            rule="R-SVC-3",
            order=60,
        )
    )
    register(
        Report(
            "warranty-expiry",
            gettext_lazy("Warranty expiry list"),
            (
                Column("ends", gettext_lazy("Warranty ends"), DATE),
                Column("product", gettext_lazy("Product")),
                Column("serial_no", gettext_lazy("Serial no.")),
                Column("customer", gettext_lazy("Customer")),
                Column("phone", gettext_lazy("Phone")),
                Column("bought", gettext_lazy("Purchase date"), DATE),
            ),
            warranty_expiry,
            gettext_lazy("Units whose warranty ends in the period (as last evaluated, R-SVC-1)."),
            rule="R-SVC-1",
            order=70,
        )
    )
