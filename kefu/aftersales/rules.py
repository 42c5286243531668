"""What after-sales declares (issue 19): its section of the handbook policy, who approves refunds,
the R-AS rules and the timeline's verbs."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kefu.core.rulebook import (
    Capability,
    ModuleRules,
    Money,
    Percent,
    Row,
    Section,
    Verbs,
    Whole,
    Words,
    setting,
    table,
)
from kefu.org.models import Position
from kefu.org.rules import LEADS, TEAM_LEADS


class FreightRow(Row):
    amount: Money = setting(_("Freight (CNY)"), kind="money")
    provinces: Words = setting(_("Provinces"), kind="list")


class AftersalesPolicy(Section):
    title = _("After-sales")
    freight_default: Money = setting(_("Default freight (CNY)"), rule="R-AS-1")
    no_reason_return_days: Whole = setting(_("No-reason return window (days)"), rule="R-AS-14")
    quality_return_days: Whole = setting(_("Quality return window (days)"), rule="R-AS-14")
    exchange_days: Whole = setting(_("Exchange window (days)"), rule="R-AS-14")
    partial_refund_cap: str = setting(default="exchange_cost", editable=False)
    discount_offer_percent: Percent = setting(_("Keep-at-discount offer (percent of the value)"), rule="R-AS-3")
    defect_refund_percent: Percent = setting(_("Small partial refund (percent of the value)"), rule="R-AS-4")
    coupon_amount: Money = setting(_("Coupon (CNY)"), rule="R-AS-4")
    sla_first_response_hours: Whole = setting(_("First response SLA (hours)"), rule="SPEC-5")
    sla_resolution_hours: Whole = setting(_("Resolution SLA (hours)"), rule="SPEC-5")
    escalate_before_deadline_hours: Whole = setting(_("Escalate before a deadline (hours)"), rule="SPEC-5")
    ship_within_hours: Whole = setting(_("Ship within (hours after payment)"), rule="R-AS-11")
    trace_stall_hours: Whole = setting(
        _("A parcel whose trace is silent this long is a logistics exception (hours)"), rule="R-AS-10", default=48
    )
    freight: tuple[FreightRow, ...] = table(_("Freight by province"), rule="R-AS-1", min_rows=0)

    def cross_checks(self) -> Iterable[tuple[str, str]]:
        seen: set[str] = set()
        for i, row in enumerate(self.freight, start=1):
            for province in row.provinces:
                if province in seen:
                    yield f"freight[{i}].provinces", gettext("%(province)s appears twice") % {"province": province}
                seen.add(province)


class Verb(Verbs):
    CASE_RESOLUTION_REFUSED = "case.resolution_refused", _("refused the resolution's money: choose again")
    REFUND_GRANTED = "refund.granted", _("granted the refund-approval permission")
    REFUND_REVOKED = "refund.revoked", _("took back the refund-approval permission")
    SHOP_RATINGS_RECORDED = "shop.ratings_recorded", _("recorded the shop's ratings")
    CASE_OPENED = "case.opened", _("opened the case")
    CASE_FACTS_UPDATED = "case.facts_updated", _("updated the case facts")
    CASE_DEADLINE_SET = "case.deadline_set", _("set the platform deadline")
    CASE_MONEY_REQUESTED = "case.money_requested", _("requested money")
    CASE_MONEY_POSTED = "case.money_posted", _("posted money")
    CASE_REFUND_APPROVED = "case.refund_approved", _("approved the refund")
    CASE_REFUND_REJECTED = "case.refund_rejected", _("rejected the refund")
    CASE_RESOLUTION_CHOSEN = "case.resolution_chosen", _("chose a resolution")
    CASE_RESPONSIBLE_AGENT_SET = "case.responsible_agent_set", _("named the agent who took the order")
    CASE_PLATFORM_REFUND_UPDATED = "case.platform_refund_updated", _("updated from the platform's refund")
    CASE_APPEAL_PACK_EXPORTED = "case.appeal_pack_exported", _("exported the appeal pack")
    CLAIM_FILED = "claim.filed", _("filed a courier claim")
    CLAIM_UPDATED = "claim.updated", _("updated the courier claim")
    STAFF_CHARGED = "staff.charged", _("charged the agent (R-AS-8)")
    REVIEW_RECORDED = "review.recorded", _("recorded a negative review")
    CASE_TRACE_STALLED = "case.trace_stalled", _("found the parcel's trace stalled")
    REVIEW_REPLIED = "review.replied", _("replied to the review")
    ORDER_WAREHOUSE_CHASED = "order.warehouse_chased", _("chased the warehouse")
    AFTERSALES_REPORT_SENT = "aftersales.report_sent", _("sent the weekly after-sales report")


RULE_TEXTS = {
    "R-AS-1": _("Freight standard by province: what we charge and what we bear."),
    "R-AS-2": _("Responsibility decides who pays return freight."),
    "R-AS-3": _("Wrong item shipped: compare with the order, then exchange or refund."),
    "R-AS-4": _("Defect: apologise and offer a coupon or a small partial refund."),
    "R-AS-5": _("Quality problem: rule out misuse, then return or exchange at our cost."),
    "R-AS-6": _("Agent error: negotiate compensation, else free return or exchange."),
    "R-AS-7": _("Retention first; partial refunds above the cap need the supervisor."),
    "R-AS-8": _("Missing items: reship; the agent who took the order pays the freight if the remark was wrong."),
    "R-AS-9": _("Lost parcel: reship or refund first, then claim from the courier."),
    "R-AS-10": _("Logistics exceptions: follow up with the courier and the buyer."),
    "R-AS-11": _("Late shipment: every order has a promised ship time; the warehouse is chased."),
    "R-AS-12": _("Disputes: predict the outcome and prepare the appeal with evidence."),
    "R-AS-13": _("Negative reviews: an explanation reply for each, product feedback collected."),
    "R-AS-14": _("Return windows: 7 days no reason, 30 days quality, 90 days exchange."),
    "SPEC-5": _("After-sales cases answer within the SLA and are escalated before a platform deadline."),
    "R-AS-15": _("Weekly after-sales report to the supervisor every Monday."),
}


RULES = ModuleRules(
    module="aftersales",
    order=30,
    policy={"aftersales": AftersalesPolicy},
    capabilities={
        "cases.handle": Capability(
            TEAM_LEADS | {Position.PRESALES, Position.AFTERSALES, Position.WAREHOUSE},
            _("open and work after-sales cases (the warehouse contact: the cases waiting on the warehouse)"),
        ),
        "shipping.chase": Capability(
            TEAM_LEADS | {Position.PRESALES, Position.AFTERSALES, Position.WAREHOUSE},
            _("chase the warehouse for a late shipment (R-AS-11)"),
        ),
        "refund.approve": Capability(LEADS, _("approve refunds (R-AS-7)")),
        "refund.approve_over_cap": Capability(
            frozenset({Position.SUPERVISOR}), _("approve a partial refund above the cap (R-AS-7: the supervisor)")
        ),
        "refund.delegate": Capability(
            frozenset({Position.SUPERVISOR}), _("grant others the refund-approval permission up to an amount")
        ),
    },
    rules=RULE_TEXTS,
    verbs=Verb,
)
