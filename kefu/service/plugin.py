"""What field service adds to the shared UI, URL configuration, API, home page and search."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kefu.core import plugins, wording


def _my_visits_today(user: Any, staff: Any) -> int | None:
    from kefu.core import clock

    from . import selectors

    if staff is None or staff.position != "technician":
        return None
    return len(selectors.day_visits(actor=user, technician=staff, day=clock.today()))


def _overdue(user: Any, staff: Any) -> int | None:
    from .models import ServiceRequest

    if staff is None or staff.position not in {"team_lead", "supervisor", "deputy"}:
        return None
    return ServiceRequest.objects.restrict(user).filter(breached=True, on_site_at__isnull=True).count()


def _search(actor: Any, q: str) -> list[plugins.SearchHit]:
    from .models import ServiceRequest

    rows = ServiceRequest.objects.restrict(actor).filter(number=q.upper()) | ServiceRequest.objects.restrict(
        actor
    ).filter(serial_no=q)
    return [
        plugins.SearchHit(_("Service request"), r.number, reverse("service:request", args=[r.pk]), r.product)
        for r in rows[:5]
    ]


def register() -> None:
    from . import work_scope
    from .api import router

    work_scope.register()
    plugins.urls("service/", "kefu.service.urls", order=30)
    plugins.api_router("service", router)
    plugins.nav_section(
        plugins.NavSection(
            "service",
            _("Field service"),
            30,
            (
                plugins.NavItem(_("Service requests"), "service:inbox"),
                plugins.NavItem(_("Today's visits"), "service:day"),
                plugins.NavItem(_("Service agreements"), "service:agreements"),
                plugins.NavItem(_("Spare parts"), "service:parts"),
            ),
        )
    )
    plugins.home_card(
        plugins.HomeCard("service_today", _("My visits today"), lambda: reverse("service:day"), _my_visits_today, 4)
    )
    plugins.home_card(
        plugins.HomeCard(
            "service_overdue",
            _("Requests past the on-site deadline"),
            lambda: reverse("service:inbox") + "?overdue=1",
            _overdue,
            37,
        )
    )
    plugins.search_provider(plugins.SearchProvider("service", _("Service requests"), _search, order=20))
    _words()
    from .reports import register_reports

    register_reports()


def _words() -> None:
    from kefu.policies.warranty import PAID_REASONS

    from .models import (
        Agreement,
        AgreementBill,
        Billing,
        Channel,
        Charge,
        PartKind,
        PlanItem,
        PlanState,
        RequestCategory,
        ServiceKind,
        ServiceRequest,
        StockEntry,
        StockKind,
    )
    from .workflow import VISIT_CHECKLIST

    wording.register_models(ServiceRequest, StockEntry, Agreement, AgreementBill, PlanItem)
    wording.register_choices(Channel, Charge, PartKind, RequestCategory, StockKind, ServiceKind, Billing, PlanState)
    labels: dict[str, Any] = {}
    for code, reason in PAID_REASONS.items():
        labels[f"paid_reasons:{code}"] = labels[f"causes:{code}"] = _(reason)
    for code, step in VISIT_CHECKLIST:
        labels[f"step:{code}"] = step
    labels.update({f"charge:{c}": t for c, t in Charge.choices})
    wording.register(
        labels=labels,
        fields={
            "consent": _("customer agreed to parts"),
            "spare_part": _("spare part"),
            "on_site_due": _("on site by"),
            "cause": _("fault cause"),
            "message": _("message"),
            "paid_reasons": _("reasons to pay"),
            "rules": _("rules"),
            "on_time": _("on time"),
            "step": _("step"),
            "quantity": _("quantity"),
            "balance": _("balance after"),
            "notes": _("notes"),
            "bills": _("bills"),
            "plan": _("plan visits"),
            "fee": _("fee"),
            "appointment": _("appointment time"),
            "reason": _("the customer's reason"),
            "receipt": _("receipt no."),
            "taken": _("taken to the service centre"),
            "loaner": _("loaner or temporary solution"),
            "to": _("referred to"),
            "outcome": _("outcome"),
            "days_in_repair": _("days in repair"),
            "charge": _("charge"),
            "agreement": _("agreement"),
            "rule": _("rule"),
        },
    )
    wording.register(
        rules={
            "R-SVC-1": _("Warranty from the purchase date: the unit 12 months, accessories 6; by agreement up to 36."),
            "R-SVC-2": _(
                "Paid repair: misuse, model mismatch or alteration, force majeure, out of warranty, clearance."
            ),
            "R-SVC-3": _("In warranty, repaired twice by us and still failing: replaced free with the same model."),
            "R-SVC-4": _("In warranty, not repaired within 60 days of the request: replaced."),
            "R-SVC-5": _("A return after use pays depreciation from the invoice date, less the days in repair."),
            "R-SVC-6": _("A technician on site within 24 hours of the request."),
            "R-SVC-7": _("Not repairable on site: taken to the service centre, with a loaner or a temporary solution."),
            "R-SVC-8": _("Outside the service area: referred to the sales point that serves it, and followed up."),
            "R-SVC-9": _("Proof of purchase at the request; a paid repair gets the company's receipt."),
        },
        verbs={
            "service_request.created": _("took the service request"),
            "service_request.evaluated": _("evaluated the warranty"),
            "service_request.replacement_due": _("found a replacement due"),
            "service_request.replacement_raised": _("raised the replacement work order"),
            "service_request.appointed": _("made the appointment"),
            "service_request.arrived": _("arrived on site"),
            "service_request.diagnosed": _("recorded the diagnosis"),
            "service_request.signed": _("had the service report signed"),
            "service_request.settled": _("settled the request"),
            "service_request.status_changed": _("changed the request's status"),
            "service_request.reopened": _("reopened the request"),
            "service_request.step_done": _("ticked a visit step"),
            "service_request.step_undone": _("unticked a visit step"),
            "service_request.escalated": _("escalated: the on-site deadline is near"),
            "service_request.deadline_breached": _("missed the on-site deadline"),
            "service_request.visited": _("made the return visit"),
            "service_request.reevaluated": _("took the warranty verdict again with the findings on site"),
            "service_request.commitment_missed": _("appointed after the 24-hour commitment"),
            "service_request.later_by_request": _("appointed later at the customer's request"),
            "service_request.brought_in": _("took the unit to the service centre"),
            "service_request.brought_back": _("brought the repaired unit back"),
            "service_request.loaner_returned": _("got the loaner back"),
            "service_request.referred": _("referred the request to a sales point"),
            "service_request.referral_followed": _("followed up the referral"),
            "agreement.reviewed": _("reviewed the agreement"),
            "agreement.created": _("signed the service agreement"),
            "agreement.bill_paid": _("recorded an agreement payment"),
            "agreement.plan_decided": _("reviewed a plan visit"),
            "agreement.plan_released": _("released a plan visit as a work order"),
            "stock.received": _("received stock"),
            "stock.part_created": _("added a spare part"),
            "stock.issued": _("issued a part"),
            "stock.returned": _("returned a part to stock"),
        },
    )
