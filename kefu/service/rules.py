"""What field service declares (issue 19): its section of the handbook policy (warranty, service
area, the agreement plan), who takes, dispatches, works and settles requests, the R-SVC rules and
the timeline's verbs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from kefu.core.rulebook import (
    Amount,
    Capability,
    CodeLabel,
    ModuleRules,
    Row,
    Section,
    Verbs,
    Whole,
    Words,
    setting,
    table,
    text,
    unique,
    whole,
)
from kefu.org.models import Position
from kefu.org.rules import LEADS, TEAM_LEADS


class SalesPoint(Row):
    name: Annotated[str, text(60)]
    phone: Annotated[str, text(32)]
    areas: Words


class Depreciation(Row):
    category: Annotated[str, text(60)]
    percent_per_day: Amount


class AgreementPlan(Row):
    return_visit_every_months: Annotated[int, whole(0, 120)]
    maintenance_every_months: Annotated[int, whole(0, 120)]
    service_every_months: Annotated[int, whole(0, 120)]


class ServicePolicy(Section):
    title = _("Service and warranty")
    warranty_unit_months: Whole = setting(_("Unit warranty (months)"), rule="R-SVC-1")
    warranty_accessory_months: Whole = setting(_("Accessory warranty (months)"), rule="R-SVC-1")
    warranty_agreement_max_months: Whole = setting(_("Agreement warranty at most (months)"), rule="R-SVC-1")
    warranty_agreement_accessory_months: Whole = setting(
        _("Accessory warranty under an agreement (months)"), rule="R-SVC-1"
    )
    repairs_before_replacement: Whole = setting(_("Repairs before replacement"), rule="R-SVC-3")
    repair_max_days: Whole = setting(_("Repair within (days)"), rule="R-SVC-4")
    on_site_hours: Whole = setting(_("On site within (hours)"), rule="R-SVC-6")
    service_area: Words = setting(_("Cities the service centre visits"), rule="R-SVC-8", editable=False)
    sales_points: tuple[SalesPoint, ...] = table(rule="R-SVC-8", editable=False, min_rows=0)
    depreciation: tuple[Depreciation, ...] = table(rule="R-SVC-5", editable=False, min_rows=0)
    fault_causes: tuple[CodeLabel, ...] = table(rule="R-SVC-2", key="code", editable=False)
    agreement_plan: AgreementPlan = setting(editable=False)

    def cross_checks(self) -> Iterable[tuple[str, str]]:
        yield from unique(self.fault_causes, "code", "fault_causes")
        if self.warranty_agreement_max_months < self.warranty_unit_months:
            yield "warranty_agreement_max_months", gettext("smaller than the standard unit warranty")


class Verb(Verbs):
    SERVICE_REQUEST_CREATED = "service_request.created", _("took the service request")
    SERVICE_REQUEST_EVALUATED = "service_request.evaluated", _("evaluated the warranty")
    SERVICE_REQUEST_REPLACEMENT_DUE = "service_request.replacement_due", _("found a replacement due")
    SERVICE_REQUEST_REPLACEMENT_RAISED = "service_request.replacement_raised", _("raised the replacement work order")
    SERVICE_REQUEST_APPOINTED = "service_request.appointed", _("made the appointment")
    SERVICE_REQUEST_ARRIVED = "service_request.arrived", pgettext_lazy("timeline", "arrived on site")
    SERVICE_REQUEST_DIAGNOSED = "service_request.diagnosed", _("recorded the diagnosis")
    SERVICE_REQUEST_SIGNED = "service_request.signed", _("had the service report signed")
    SERVICE_REQUEST_SETTLED = "service_request.settled", _("settled the request")
    SERVICE_REQUEST_STATUS_CHANGED = "service_request.status_changed", _("changed the request's status")
    SERVICE_REQUEST_REOPENED = "service_request.reopened", _("reopened the request")
    SERVICE_REQUEST_STEP_DONE = "service_request.step_done", _("ticked a visit step")
    SERVICE_REQUEST_STEP_UNDONE = "service_request.step_undone", _("unticked a visit step")
    SERVICE_REQUEST_ESCALATED = "service_request.escalated", _("escalated: the on-site deadline is near")
    SERVICE_REQUEST_DEADLINE_BREACHED = "service_request.deadline_breached", _("missed the on-site deadline")
    SERVICE_REQUEST_VISITED = "service_request.visited", _("made the repair's return visit")
    SERVICE_REQUEST_REEVALUATED = (
        "service_request.reevaluated",
        _("took the warranty verdict again with the findings on site"),
    )
    SERVICE_REQUEST_COMMITMENT_MISSED = "service_request.commitment_missed", _("appointed after the 24-hour commitment")
    SERVICE_REQUEST_LATER_BY_REQUEST = (
        "service_request.later_by_request",
        _("appointed later at the customer's request"),
    )
    SERVICE_REQUEST_BROUGHT_IN = "service_request.brought_in", _("took the unit to the service centre")
    SERVICE_REQUEST_BROUGHT_BACK = "service_request.brought_back", _("brought the repaired unit back")
    SERVICE_REQUEST_LOANER_RETURNED = "service_request.loaner_returned", _("got the loaner back")
    SERVICE_REQUEST_REFERRED = "service_request.referred", _("referred the request to a sales point")
    SERVICE_REQUEST_REFERRAL_FOLLOWED = "service_request.referral_followed", _("followed up the referral")
    AGREEMENT_REVIEWED = "agreement.reviewed", _("reviewed the agreement")
    AGREEMENT_CREATED = "agreement.created", _("signed the service agreement")
    AGREEMENT_BILL_PAID = "agreement.bill_paid", _("recorded an agreement payment")
    AGREEMENT_PLAN_DECIDED = "agreement.plan_decided", _("reviewed a plan visit")
    AGREEMENT_PLAN_RELEASED = "agreement.plan_released", _("released a plan visit as a work order")
    STOCK_RECEIVED = "stock.received", _("received stock")
    STOCK_PART_CREATED = "stock.part_created", _("added a spare part")
    STOCK_ISSUED = "stock.issued", _("issued a part")
    STOCK_RETURNED = "stock.returned", _("returned a part to stock")


RULE_TEXTS = {
    "R-SVC-1": _("Warranty from the purchase date: the unit 12 months, accessories 6; by agreement up to 36."),
    "R-SVC-2": _("Paid repair: misuse, model mismatch or alteration, force majeure, out of warranty, clearance."),
    "R-SVC-3": _("In warranty, repaired twice by us and still failing: replaced free with the same model."),
    "R-SVC-4": _("In warranty, not repaired within 60 days of the request: replaced."),
    "R-SVC-5": _("A return after use pays depreciation from the invoice date, less the days in repair."),
    "R-SVC-6": _("A technician on site within 24 hours of the request."),
    "R-SVC-7": _("Not repairable on site: taken to the service centre, with a loaner or a temporary solution."),
    "R-SVC-8": _("Outside the service area: referred to the sales point that serves it, and followed up."),
    "R-SVC-9": _("Proof of purchase at the request; a paid repair gets the company's receipt."),
}


RULES = ModuleRules(
    module="service",
    order=40,
    policy={"service": ServicePolicy},
    capabilities={
        "service.intake": Capability(
            TEAM_LEADS | {Position.AFTERSALES}, _("take a repair request and evaluate its warranty")
        ),
        "service.dispatch": Capability(TEAM_LEADS, _("appoint a technician")),
        "service.visit": Capability(
            LEADS | {Position.TECHNICIAN}, _("work a visit: arrive, diagnose, parts, signature")
        ),
        "service.attend": Capability(
            frozenset({Position.TECHNICIAN}), _("be appointed to visits (and work only one's own)")
        ),
        "service.settle": Capability(TEAM_LEADS, _("settle a request")),
        "stock.receive": Capability(LEADS, _("receive parts into stock")),
        "agreements.manage": Capability(LEADS, _("sign service agreements and record their payments")),
        "agreements.review": Capability(
            frozenset({Position.SUPERVISOR}), _("review an agreement before it takes effect")
        ),
    },
    rules=RULE_TEXTS,
    verbs=Verb,
)
