"""After-sales decisions of the handbook (SPEC §5, R-AS-1 … R-AS-14), pure Python.

From a case's facts and the policy document, ``evaluate`` returns the freight standard for the
province (R-AS-1), who pays return freight (R-AS-2), whether the request is inside its window
(R-AS-14), the partial-refund cap (R-AS-7) and the proposed resolutions in the seed's order for the
case type (R-AS-3 … R-AS-10), each with its cost to us, whether it needs supervisor approval and the
rule it comes from. Nothing is stored; the same facts always give the same decision.

Readings taken (beyond SPEC's own):
- The cost of a return/exchange at our cost is return freight + reship freight (both at the R-AS-1
  standard); the goods come back, so they are not a cost. A refund without taking the goods back
  costs the line value; a reship costs freight + the goods (cost price when known, else the value).
- "Keep it at a discount" and "small partial refund" offers are priced by policy percentages of the
  affected value, never above the cap.
- A partial refund or compensation above the cap needs supervisor approval (R-AS-7), and so does
  every proposal the seed marks as needing it (R-AS-3 without return) and a return outside its
  window (R-AS-14, SPEC §5.1). Reships and full refunds the playbook says to do "at once" (R-AS-8
  warehouse, R-AS-9 lost parcel) do not wait for the supervisor (full refunds still need the
  refund-approval permission).
- R-AS-4 (SPEC §5.1): the small partial refund never exceeds the line's margin (price − cost) when
  the cost is known; R-AS-7: a price-difference refund never exceeds the item's price.
- R-AS-7 (SPEC §5.1): "accept the return" is proposed only once the buyer's answer to the
  retention offer is recorded as declined (``buyer_stance``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .i18n import _, gettext_noop
from .money import MONEY_MAX
from .regions import province_short

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

CASE_TYPES = (
    "logistics_exception",
    "lost_parcel",
    "missing_item",
    "wrong_item",
    "defect",
    "quality",
    "agent_error",
    "return",
    "exchange",
    "refund_only",
    "dispute",
    "negative_review",
)
OURS = ("ours_agent", "ours_warehouse", "ours_product")
RESPONSIBILITIES = (*OURS, "courier", "buyer", "undetermined")

# What each resolution code reads as once chosen (the timeline, reports): one wording per code,
# whichever case type proposed it; the proposal itself carries the situation's longer sentence.
RESOLUTIONS: dict[str, str] = {
    "explain": gettext_noop("Explain to the buyer: shipped as ordered, the buyer ordered the wrong item"),
    "return_buyer_freight": gettext_noop("Return or exchange, freight paid by the buyer"),
    "keep_discount": gettext_noop("Suggest the buyer keeps the wrong item at a discount"),
    "return_exchange_our_cost": gettext_noop("Return or exchange, freight paid by us"),
    "reship_no_return": gettext_noop(
        "With the supervisor's approval: reship the right item, the wrong one is not returned"
    ),
    "refund_no_return": gettext_noop("With the supervisor's approval: refund, the wrong item is not returned"),
    "coupon": gettext_noop("Apologise and give a coupon for the next purchase"),
    "small_refund": gettext_noop("Small compensation (partial refund)"),
    "return_free_shipping": gettext_noop("Buyer insists on a return or exchange: freight paid by us"),
    "explain_misuse": gettext_noop("Explain it was misuse, not a quality problem"),
    "compensation": gettext_noop("Negotiate compensation"),
    "offer_exchange": gettext_noop("Retention: suggest an exchange"),
    "price_difference": gettext_noop("Retention: price-difference refund (partial refund)"),
    "reship_missing": gettext_noop("Warehouse missed it: reship the missing part at once"),
    "reship_missing_agent": gettext_noop(
        "Remark missing or wrong: reship, freight charged to the agent who took the order"
    ),
    "check_warehouse": gettext_noop("First check with the warehouse"),
    "reship": gettext_noop("Reship to the buyer first"),
    "settle_courier_then_refund": gettext_noop("Refund once responsibility is settled with the courier"),
    "settle_courier_then_reship": gettext_noop("Reship once responsibility is settled with the courier"),
    "follow_playbook": gettext_noop(
        "Six steps: calm, record, confirm address and phone, compare addresses, ask the courier, reply"
    ),
    "settle_privately": gettext_noop("We are at fault: settle privately"),
    "appeal": gettext_noop("Prepare the appeal: vouchers, authorisation, reason, chat excerpts"),
    "explain_reply": gettext_noop("Post an explanation reply"),
    "product_feedback": gettext_noop("Record product feedback"),
}

PLAYBOOKS: dict[str, list[tuple[str, str]]] = {
    "logistics_exception": [  # R-AS-10, seed 002: the six steps
        ("calm", gettext_noop("Calm the buyer")),
        ("record", gettext_noop("Record the problem")),
        ("reassure", gettext_noop("Reassure the buyer; confirm the delivery address and phone")),
        ("compare_address", gettext_noop("Compare the platform's address with the waybill's")),
        ("ask_courier", gettext_noop("Ask the courier and record the answer")),
        ("report_back", gettext_noop("Tell the buyer the outcome")),
    ],
    "lost_parcel": [  # R-AS-9
        ("confirm_loss", gettext_noop("Confirm the loss with the courier")),
        ("reship_or_refund", gettext_noop("Reship or refund the buyer first")),
        ("open_claim", gettext_noop("Claim from the courier (goods value + freight)")),
        ("track_claim", gettext_noop("Follow the claim until paid or written off")),
    ],
    "missing_item": [  # R-AS-8
        ("check_warehouse", gettext_noop("Check with the warehouse")),
        ("check_remark", gettext_noop("Check the order remark (R-COM-1)")),
        ("decide_responsibility", gettext_noop("Decide responsibility (agent / warehouse)")),
        ("reship_missing", gettext_noop("Reship the missing part")),
    ],
    "wrong_item": [  # R-AS-3
        ("compare_order", gettext_noop("Check whether what was shipped matches the order")),
        ("verify_photo", gettext_noop("Buyer's photo")),
        ("verify_waybill", gettext_noop("Waybill")),
        ("verify_weight", gettext_noop("Parcel weight")),
        ("compare_value", gettext_noop("Compare the wrong item's value with the return freight")),
        ("offer_discount", gettext_noop("Suggest the buyer keeps it at a discount")),
        ("record_weekly", gettext_noop("Record it for the weekly after-sales report")),
    ],
    "defect": [  # R-AS-4
        ("apologise", gettext_noop("Apologise")),
        ("offer_coupon", gettext_noop("Offer a coupon for the next purchase or a small compensation")),
        (
            "ask_freight",
            gettext_noop("If the buyer insists on a return or exchange, first ask whether they pay the freight"),
        ),
    ],
    "quality": [  # R-AS-5
        ("usage", gettext_noop("Ask about and record how it was used; rule out misuse")),
        ("confirm_quality", gettext_noop("Confirm the quality problem")),
        ("quality_mark", gettext_noop("Record the product in quality feedback")),
    ],
    "agent_error": [  # R-AS-6
        ("negotiate", gettext_noop("Negotiate compensation")),
        ("apologise", gettext_noop("Apologise")),
        ("record_agent", gettext_noop("Record the agent's responsibility")),
    ],
    "return": [
        ("retain", gettext_noop("First offer an exchange or a price-difference refund (R-AS-7)")),
        ("check_window", gettext_noop("Check the return window (R-AS-14)")),
        ("receive_return", gettext_noop("Receive and inspect the return")),
    ],
    "exchange": [
        ("check_window", gettext_noop("Check the exchange window (R-AS-14)")),
        ("receive_return", gettext_noop("Receive and inspect the return")),
        ("reship", gettext_noop("Ship the exchange")),
    ],
    "refund_only": [
        ("check_status", gettext_noop("Check the order and delivery status")),
        ("refund", gettext_noop("Refund")),
    ],
    "dispute": [  # R-AS-12
        ("predict", gettext_noop("Predict the platform's ruling")),
        ("settle_privately", gettext_noop("If we are at fault, settle privately")),
        ("vouchers", gettext_noop("Prepare purchase vouchers / brand authorisation")),
        ("reason", gettext_noop("Write the appeal reason")),
        ("chat_excerpts", gettext_noop("Capture the chat excerpts in our favour")),
        ("submit_appeal", gettext_noop("Submit the appeal within the platform's deadline")),
    ],
    "negative_review": [  # R-AS-13
        ("read", gettext_noop("Read the review")),
        ("explain", gettext_noop("Post an explanation reply")),
        ("product_feedback", gettext_noop("If it is a product problem, record product feedback")),
    ],
}


# Courier queries (003 快递查询SOP 三、各类快递件问题处理): the class of a parcel and the SOP's steps for
# it. The seed names the four classes; the steps are our reading of the after-sales playbooks.
COURIER_CLASSES: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "normal": (
        gettext_noop("Normal parcel"),
        [
            ("cq_track", gettext_noop("Look up the tracking in the platform's logistics view")),
            ("cq_tell", gettext_noop("Tell the buyer where it is and when it should arrive")),
        ],
    ),
    "difficult": (
        gettext_noop("Problem parcel (no movement, wrong route, refused)"),
        [
            ("cq_track", gettext_noop("Look up the tracking in the platform's logistics view")),
            ("cq_courier", gettext_noop("Ask the courier's branch and record the answer")),
            ("cq_push", gettext_noop("Have the courier deliver or return it; follow up daily")),
            ("cq_tell", gettext_noop("Tell the buyer what happens next")),
        ],
    ),
    "out_of_area": (
        gettext_noop("Outside the courier's delivery area"),
        [
            ("cq_confirm_area", gettext_noop("Confirm with the courier that the address is outside its area")),
            (
                "cq_options",
                gettext_noop("Offer the buyer a pickup point, a transfer or a reship by a courier that covers it"),
            ),
            ("cq_tell", gettext_noop("Tell the buyer what happens next")),
        ],
    ),
    "damaged_lost": (
        gettext_noop("Damaged or lost parcel"),
        [
            ("cq_evidence", gettext_noop("Get photos of the damage, or the courier's confirmation of the loss")),
            ("cq_settle_buyer", gettext_noop("Reship or refund the buyer first")),
            ("cq_claim", gettext_noop("Claim from the courier (goods value + freight)")),
        ],
    ),
}
BUYER_STANCES = ("accepts", "declines", "insists")


@dataclass(frozen=True)
class CaseFacts:
    case_type: str
    province: str = ""
    responsibility: str = "undetermined"
    line_value: Decimal = ZERO  # value of the affected line(s)
    line_cost: Decimal | None = None  # our cost price of it, when known
    wrong_item_value: Decimal | None = None  # R-AS-3: value of what was shipped by mistake
    shipped_matches_order: bool | None = None  # R-AS-3
    received_date: dt.date | None = None
    request_date: dt.date | None = None
    request_kind: str = ""  # return_no_reason | return_quality | exchange (R-AS-14)
    buyer_stance: str = ""  # "" | accepts | declines | insists
    buyer_pays_freight: bool | None = None  # R-AS-4
    misuse: bool | None = None  # R-AS-5
    remark_ok: bool | None = None  # R-AS-8: was the order remark there and right?
    warehouse_error: bool | None = None  # R-AS-8
    seized: bool = False  # R-AS-10
    at_fault: bool | None = None  # R-AS-12
    repairs: int = 0
    courier_class: str = ""  # 003 快递查询SOP: normal | difficult | out_of_area | damaged_lost


@dataclass(frozen=True)
class Proposal:
    code: str
    label: str
    cost: Decimal
    needs_approval: bool
    rule: str
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "label": self.label,
            "cost": f"{self.cost:.2f}",
            "needs_approval": self.needs_approval,
            "rule": self.rule,
            "note": self.note,
        }


@dataclass
class Decision:
    freight: Decimal
    return_freight_payer: str | None  # us | buyer | None (undetermined)
    window: dict[str, Any] | None
    partial_refund_cap: Decimal
    proposals: list[Proposal] = field(default_factory=list)
    checklist: list[tuple[str, str]] = field(default_factory=list)
    responsibility: str = "undetermined"
    explanation: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "freight": f"{self.freight:.2f}",
            "return_freight_payer": self.return_freight_payer,
            "window": self.window,
            "partial_refund_cap": f"{self.partial_refund_cap:.2f}",
            "responsibility": self.responsibility,
            "proposals": [p.as_dict() for p in self.proposals],
            "checklist": [{"code": c, "label": label} for c, label in self.checklist],
            "explanation": list(self.explanation),
        }


# The largest amount a case fact may carry (the money columns hold 12 digits with 2 places).
FIRST_YEAR, LAST_YEAR = 2000, 2100
_PLAIN_AMOUNT = re.compile(r"-?[0-9]+(?:\.[0-9]{1,2})?")
_PLAIN_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # the years anyone means (as clock.EARLIEST_YEAR / LATEST_YEAR)


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def freight_for(policy: dict[str, Any], province: str) -> Decimal:
    """R-AS-1: the freight standard for a province, named in any form (``浙江``, ``浙江省``,
    ``新疆维吾尔自治区``, a whole address); no province → the default; an unknown one is an error."""
    short = province_short(province)
    if short is None:
        if (province or "").strip():
            raise ValueError(f"unknown province {province!r}")
        return Decimal(policy["aftersales"]["freight_default"])
    for row in policy["aftersales"]["freight"]:
        if short in {province_short(p) for p in row["provinces"]}:
            return Decimal(row["amount"])
    return Decimal(policy["aftersales"]["freight_default"])


def freight_payer(responsibility: str) -> str | None:
    """R-AS-2: ours (or the courier's, which we then claim) → we pay; the buyer's → the buyer pays."""
    if responsibility in OURS or responsibility == "courier":
        return "us"
    if responsibility == "buyer":
        return "buyer"
    return None


REQUEST_KINDS = ("return_no_reason", "return_quality", "exchange")


def request_kind_of(facts: CaseFacts) -> str:
    """The window that applies: an exchange case's is the exchange window, whatever was typed; a return
    case's is the no-reason return unless it names the quality return (an empty or other kind does
    not switch the window off)."""
    if facts.case_type == "exchange":
        return "exchange"
    if facts.case_type == "return":
        return facts.request_kind if facts.request_kind == "return_quality" else "return_no_reason"
    return facts.request_kind if facts.request_kind in REQUEST_KINDS else ""


def window(policy: dict[str, Any], facts: CaseFacts) -> dict[str, Any] | None:
    """R-AS-14: is the request inside its window (days from receipt)?"""
    limits = {
        "return_no_reason": int(policy["aftersales"]["no_reason_return_days"]),
        "return_quality": int(policy["aftersales"]["quality_return_days"]),
        "exchange": int(policy["aftersales"]["exchange_days"]),
    }
    kind = request_kind_of(facts)
    if kind not in limits:
        return None
    limit = limits[kind]
    if facts.received_date is None or facts.request_date is None:
        return {"kind": kind, "limit_days": limit, "days": None, "within": None, "rule": "R-AS-14"}
    days = (facts.request_date - facts.received_date).days
    return {"kind": kind, "limit_days": limit, "days": days, "within": days <= limit, "rule": "R-AS-14"}


def partial_refund_cap(policy: dict[str, Any], province: str) -> Decimal:
    """R-AS-7: a partial refund may not exceed the exchange cost (return + reship freight) without approval."""
    return _money(2 * freight_for(policy, province))


def playbook(case_type: str) -> list[tuple[str, str]]:
    """The case type's checklist, each step in the reader's language."""
    return [(code, _(label)) for code, label in PLAYBOOKS[case_type]]


@dataclass(frozen=True)
class _Case:
    """The amounts every playbook weighs (R-AS-1 freight, R-AS-7 cap, the policy's offers)."""

    freight: Decimal
    cap: Decimal
    exchange_cost: Decimal
    goods: Decimal
    margin: Decimal
    percent: Decimal
    small: Decimal
    coupon: Decimal


def _case(policy: dict[str, Any], facts: CaseFacts) -> _Case:
    a = policy["aftersales"]
    freight = freight_for(policy, facts.province)
    return _Case(
        freight=freight,
        cap=partial_refund_cap(policy, facts.province),
        exchange_cost=_money(2 * freight),
        goods=facts.line_cost if facts.line_cost is not None else facts.line_value,
        # R-AS-4 (SPEC §5.1) "在保证利润的前提下": a small refund keeps the sale profitable.
        margin=max(ZERO, facts.line_value - facts.line_cost) if facts.line_cost is not None else facts.line_value,
        percent=Decimal(a.get("discount_offer_percent", "20")) / 100,
        small=Decimal(a.get("defect_refund_percent", "10")) / 100,
        coupon=Decimal(a.get("coupon_amount", "10.00")),
    )


def _wrong_item(c: _Case, facts: CaseFacts, decision: Decision) -> None:
    """R-AS-3: a wrong item shipped — compare with the order, keep it at a discount, else return or
    reship."""
    p = decision.proposals
    note = decision.explanation
    freight = c.freight
    cap = c.cap
    exchange_cost = c.exchange_cost
    goods = c.goods
    percent = c.percent
    if facts.shipped_matches_order:
        decision.responsibility = "buyer"
        note.append(_("What was shipped matches the order: the buyer ordered the wrong item; explain (R-AS-3)"))
        p.append(
            Proposal(
                "explain",
                _("Explain to the buyer: shipped as ordered, the buyer ordered the wrong item"),
                ZERO,
                False,
                "R-AS-3",
            )
        )
        p.append(
            Proposal("return_buyer_freight", _("Return or exchange, freight paid by the buyer"), ZERO, False, "R-AS-2")
        )
    else:
        if decision.responsibility == "undetermined":
            decision.responsibility = "ours_warehouse"
        value = facts.wrong_item_value if facts.wrong_item_value is not None else facts.line_value
        discount = _money(min(cap, value * percent))
        p.append(
            Proposal(
                "keep_discount",
                _("Suggest the buyer keeps the wrong item at a discount"),
                discount,
                False,
                "R-AS-3",
            )
        )
        if value > freight:
            note.append(
                _(
                    "Wrong item worth %(value)s > return freight %(freight)s: "
                    "if the buyer declines, we pay the freight of the return or exchange (R-AS-3)"
                )
                % {"value": value, "freight": freight}
            )
            p.append(
                Proposal(
                    "return_exchange_our_cost",
                    _("Buyer declines: return or exchange, freight paid by us"),
                    exchange_cost,
                    False,
                    "R-AS-3",
                )
            )
        else:
            note.append(
                _(
                    "Wrong item worth %(value)s ≤ return freight %(freight)s: if the buyer declines, "
                    "reship or refund with the supervisor's approval, no return (R-AS-3)"
                )
                % {"value": value, "freight": freight}
            )
            p.append(
                Proposal(
                    "reship_no_return",
                    _("With the supervisor's approval: reship the right item, the wrong one is not returned"),
                    _money(freight + goods),
                    True,
                    "R-AS-3",
                )
            )
            p.append(
                Proposal(
                    "refund_no_return",
                    _("With the supervisor's approval: refund, the wrong item is not returned"),
                    _money(facts.line_value),
                    True,
                    "R-AS-3",
                )
            )


def _defect(c: _Case, facts: CaseFacts, decision: Decision) -> None:
    """R-AS-4: a small defect — apologise with a coupon or a small refund within the margin."""
    p = decision.proposals
    cap = c.cap
    exchange_cost = c.exchange_cost
    margin = c.margin
    small = c.small
    coupon = c.coupon
    p.append(Proposal("coupon", _("Apologise and give a coupon for the next purchase"), coupon, False, "R-AS-4"))
    p.append(
        Proposal(
            "small_refund",
            _("Small compensation (partial refund)"),
            _money(min(cap, facts.line_value * small, margin)),
            False,
            "R-AS-4",
            _("At most the margin %(margin)s (price − cost price)") % {"margin": _money(margin)}
            if facts.line_cost is not None
            else "",
        )
    )
    if facts.buyer_pays_freight and facts.responsibility not in OURS:
        # R-AS-4 asks first whether the buyer pays; once the fault is ours R-AS-2 decides: we pay.
        p.append(
            Proposal(
                "return_buyer_freight",
                _("Buyer insists on a return or exchange: the buyer pays the freight"),
                ZERO,
                False,
                "R-AS-4",
            )
        )
    else:
        p.append(
            Proposal(
                "return_free_shipping",
                _("Buyer insists on a return or exchange: freight paid by us"),
                exchange_cost,
                False,
                "R-AS-4",
                _("First ask whether the buyer pays the freight"),
            )
        )


def _quality(c: _Case, facts: CaseFacts, decision: Decision) -> None:
    """R-AS-5: a quality problem — rule out misuse, then return or exchange at our cost."""
    p = decision.proposals
    note = decision.explanation
    exchange_cost = c.exchange_cost
    if facts.misuse:
        decision.responsibility = "buyer"
        note.append(_("Misuse, not a quality problem (R-AS-5)"))
        p.append(Proposal("explain_misuse", _("Explain it was misuse, not a quality problem"), ZERO, False, "R-AS-5"))
    else:
        if decision.responsibility == "undetermined" and facts.misuse is False:
            decision.responsibility = "ours_product"
        p.append(
            Proposal(
                "return_exchange_our_cost",
                _("Quality problem: return or exchange, freight paid by us"),
                exchange_cost,
                False,
                "R-AS-5",
                _("Record the product in quality feedback"),
            )
        )


def _agent_error(c: _Case, facts: CaseFacts, decision: Decision) -> None:
    """R-AS-6: the agent's error — negotiate compensation, else a free return or exchange."""
    p = decision.proposals
    cap = c.cap
    exchange_cost = c.exchange_cost
    small = c.small
    decision.responsibility = "ours_agent"
    p.append(
        Proposal(
            "compensation", _("Negotiate compensation"), _money(min(cap, facts.line_value * small)), False, "R-AS-6"
        )
    )
    p.append(
        Proposal(
            "return_exchange_our_cost",
            _("Buyer declines: free return or exchange, with an apology"),
            exchange_cost,
            False,
            "R-AS-6",
        )
    )


def _return_or_exchange(c: _Case, facts: CaseFacts, decision: Decision) -> None:
    """R-AS-7 and R-AS-2: retention first (an exchange, a price-difference refund), then the return or
    exchange, freight by responsibility."""
    p = decision.proposals
    note = decision.explanation
    cap = c.cap
    exchange_cost = c.exchange_cost
    t = facts.case_type
    p.append(Proposal("offer_exchange", _("Retention: suggest an exchange"), exchange_cost, False, "R-AS-7"))
    p.append(
        Proposal(
            "price_difference",
            _("Retention: price-difference refund (partial refund)"),
            _money(min(cap, facts.line_value)) if facts.line_value else cap,
            False,
            "R-AS-7",
            _("Partial refund cap %(cap)s (return + reship freight); above it the supervisor approves") % {"cap": cap},
        )
    )
    payer = freight_payer(facts.responsibility)
    cost = exchange_cost if payer == "us" else ZERO
    if t == "return" and facts.buyer_stance != "declines":
        # R-AS-7 (SPEC §5.1): the return waits for the buyer's answer to the retention offer.
        note.append(_("Offer the exchange or the price-difference refund first and record the buyer's answer (R-AS-7)"))
    else:
        p.append(
            Proposal(
                "accept_return" if t == "return" else "accept_exchange",
                _("Accept the return") if t == "return" else _("Accept the exchange"),
                cost,
                False,
                "R-AS-2",
                _("Freight: ")
                + {"us": _("we pay"), "buyer": _("the buyer pays"), None: _("responsibility undetermined")}[payer],
            )
        )


def _missing_item(c: _Case, facts: CaseFacts, decision: Decision) -> None:
    """R-AS-8: an item missing — the warehouse reships; a wrong remark charges the agent who took the
    order."""
    p = decision.proposals
    note = decision.explanation
    freight = c.freight
    goods = c.goods
    if facts.warehouse_error and facts.remark_ok is False:
        note.append(
            _(
                "Both the warehouse and the order remark erred: the warehouse reships at once; "
                "choose whether the agent who took the order bears the freight (R-AS-8)"
            )
        )
    if facts.warehouse_error:
        decision.responsibility = "ours_warehouse"
        p.append(
            Proposal(
                "reship_missing",
                _("Warehouse missed it: reship the missing part at once"),
                _money(freight + goods),
                False,
                "R-AS-8",
            )
        )
    if facts.remark_ok is False:
        if not facts.warehouse_error:
            decision.responsibility = "ours_agent"
        p.append(
            Proposal(
                "reship_missing_agent",
                _("Remark missing or wrong: reship, freight charged to the agent who took the order"),
                _money(freight + goods),
                False,
                "R-AS-8",
                _("The agent bears the reship freight %(freight)s") % {"freight": freight},
            )
        )
    if not facts.warehouse_error and facts.remark_ok is not False:
        p.append(Proposal("check_warehouse", _("First check with the warehouse"), ZERO, False, "R-AS-8"))


def _lost_parcel(c: _Case, facts: CaseFacts, decision: Decision) -> None:
    """R-AS-9: a lost parcel — reship or refund first, then claim from the courier."""
    p = decision.proposals
    note = decision.explanation
    freight = c.freight
    goods = c.goods
    decision.responsibility = "courier" if decision.responsibility == "undetermined" else decision.responsibility
    p.append(
        Proposal(
            "reship",
            _("Reship to the buyer first"),
            _money(freight + goods),
            False,
            "R-AS-9",
            _("then claim from the courier"),
        )
    )
    p.append(
        Proposal(
            "refund",
            _("Refund the buyer first"),
            _money(facts.line_value),
            False,
            "R-AS-9",
            _("then claim from the courier"),
        )
    )
    note.append(
        _("Claim: goods %(value)s + freight %(freight)s (R-AS-9)") % {"value": facts.line_value, "freight": freight}
    )


def _logistics_exception(c: _Case, facts: CaseFacts, decision: Decision) -> None:
    """R-AS-10: a logistics exception — the six steps; a seizure is settled with the courier first."""
    p = decision.proposals
    note = decision.explanation
    freight = c.freight
    goods = c.goods
    if facts.seized:
        note.append(_("Seized by security: settle responsibility with the courier, then refund or reship (R-AS-10)"))
        p.append(
            Proposal(
                "settle_courier_then_refund",
                _("Refund once responsibility is settled with the courier"),
                _money(facts.line_value),
                False,
                "R-AS-10",
            )
        )
        p.append(
            Proposal(
                "settle_courier_then_reship",
                _("Reship once responsibility is settled with the courier"),
                _money(freight + goods),
                False,
                "R-AS-10",
            )
        )
    else:
        p.append(
            Proposal(
                "follow_playbook",
                _("Six steps: calm, record, confirm address and phone, compare addresses, ask the courier, reply"),
                ZERO,
                False,
                "R-AS-10",
            )
        )


def _refund_only(c: _Case, facts: CaseFacts, decision: Decision) -> None:
    """A refund only."""
    p = decision.proposals
    p.append(Proposal("refund", _("Refund only"), _money(facts.line_value), False, "R-AS-2"))


def _dispute(c: _Case, facts: CaseFacts, decision: Decision) -> None:
    """R-AS-12: a dispute — settle privately when we are at fault, else prepare the appeal."""
    p = decision.proposals
    cap = c.cap
    if facts.at_fault:
        p.append(
            Proposal(
                "settle_privately",
                _("We are at fault: settle privately"),
                _money(min(cap, facts.line_value)),
                False,
                "R-AS-12",
            )
        )
    else:
        p.append(
            Proposal(
                "appeal",
                _("Prepare the appeal: vouchers, authorisation, reason, chat excerpts"),
                ZERO,
                False,
                "R-AS-12",
            )
        )


def _negative_review(c: _Case, facts: CaseFacts, decision: Decision) -> None:
    """R-AS-13: a negative review — an explanation reply and product feedback."""
    p = decision.proposals
    p.append(Proposal("explain_reply", _("Post an explanation reply"), ZERO, False, "R-AS-13"))
    p.append(Proposal("product_feedback", _("Record product feedback"), ZERO, False, "R-AS-13"))


# SPEC §5.1: each case type's playbook
PLAYS = {
    "wrong_item": _wrong_item,
    "defect": _defect,
    "quality": _quality,
    "agent_error": _agent_error,
    "return": _return_or_exchange,
    "exchange": _return_or_exchange,
    "missing_item": _missing_item,
    "lost_parcel": _lost_parcel,
    "logistics_exception": _logistics_exception,
    "refund_only": _refund_only,
    "dispute": _dispute,
    "negative_review": _negative_review,
}


def _courier_steps(facts: CaseFacts, decision: Decision) -> None:
    """The courier query's SOP (R-AS-10 / R-AS-9): its class adds its steps to the checklist."""
    if facts.courier_class in COURIER_CLASSES and facts.case_type in {"logistics_exception", "lost_parcel"}:
        label, steps = COURIER_CLASSES[facts.courier_class]
        decision.explanation.append(
            _("Courier query: %(class)s — the SOP's steps are on the checklist") % {"class": _(label)}
        )
        have = {code for code, _label in decision.checklist}
        decision.checklist = [*decision.checklist, *[(c, _(lab)) for c, lab in steps if c not in have]]


def _approvals(c: _Case, facts: CaseFacts, decision: Decision) -> None:
    """R-AS-7: a partial refund or compensation above the cap; R-AS-14: a return or exchange
    accepted outside its window (or with the window unknown) — the supervisor approves."""
    if decision.window is not None and decision.window["within"] is False:
        decision.explanation.append(
            _("Past the %(days)s-day window (R-AS-14)") % {"days": decision.window["limit_days"]}
        )
    outside = decision.window is not None and decision.window["within"] is not True

    def approval(prop: Proposal) -> Proposal:
        why = ""
        if prop.code in CAPPED and prop.cost > c.cap:
            why = _("above the cap the supervisor approves")
        elif prop.code in WINDOW_GATED and facts.case_type in {"return", "exchange"} and outside:
            why = _("outside the window (or receipt date unknown): the supervisor approves (R-AS-14)")
        if prop.needs_approval or not why:
            return prop
        return Proposal(prop.code, prop.label, prop.cost, True, prop.rule, (prop.note + ";" if prop.note else "") + why)

    decision.proposals = [approval(prop) for prop in decision.proposals]


def evaluate(policy: dict[str, Any], facts: CaseFacts) -> Decision:
    """SPEC §5.1: the case type's playbook on the case's facts, then the courier's SOP, who pays the
    return freight (R-AS-2), the window (R-AS-14) and what waits for the supervisor (R-AS-7)."""
    if facts.case_type not in CASE_TYPES:
        raise ValueError(f"unknown case type {facts.case_type!r}")
    if facts.responsibility not in RESPONSIBILITIES:
        raise ValueError(f"unknown responsibility {facts.responsibility!r}")
    c = _case(policy, facts)
    decision = Decision(
        freight=c.freight,
        return_freight_payer=None,
        window=window(policy, facts),
        partial_refund_cap=c.cap,
        checklist=playbook(facts.case_type),
        responsibility=facts.responsibility,
    )
    play = PLAYS.get(facts.case_type)
    if play is not None:
        play(c, facts, decision)
    _courier_steps(facts, decision)
    decision.return_freight_payer = freight_payer(decision.responsibility)
    _approvals(c, facts, decision)
    return decision


# What a return or exchange outside its window grants only with the supervisor (R-AS-14, SPEC §5.1).
WINDOW_GATED = frozenset({"accept_return", "accept_exchange", "offer_exchange", "price_difference"})
# Resolutions that are partial refunds or compensation: the R-AS-7 cap applies to them.
CAPPED = frozenset({"keep_discount", "small_refund", "price_difference", "compensation", "settle_privately"})


def late_shipment(
    *,
    paid_at: dt.datetime | None,
    shipped_at: dt.datetime | None,
    promised_at: dt.datetime | None,
    chased_at: list[dt.datetime],
    now: dt.datetime,
) -> dict[str, Any] | None:
    """R-AS-11: an order shipped (or still unshipped) after its promised time makes the agent responsible,
    unless the agent chased the warehouse before the promise ran out (追问记录) — then the warehouse is."""
    if paid_at is None or promised_at is None:
        return None
    actual = shipped_at or now
    late = actual > promised_at
    minutes = max(0, int((actual - promised_at).total_seconds() // 60))
    chased = sorted(c for c in chased_at if c <= promised_at)
    responsible = None
    if late:
        responsible = "ours_warehouse" if chased else "ours_agent"
    promise = f"{promised_at:%m-%d %H:%M}"
    if shipped_at:
        basis = _("Promised to ship by %(promise)s, shipped %(shipped)s") % {
            "promise": promise,
            "shipped": f"{shipped_at:%m-%d %H:%M}",
        }
    else:
        basis = _("Promised to ship by %(promise)s, not shipped yet") % {"promise": promise}
    if late:
        basis += _("; %(hours)s h %(minutes)s min late; ") % {"hours": minutes // 60, "minutes": minutes % 60}
        basis += (
            _("the agent chased the warehouse at %(at)s: the warehouse is responsible")
            % {"at": f"{chased[0]:%m-%d %H:%M}"}
            if chased
            else _("no timely chase recorded: the agent who took the order is responsible")
        )
    return {
        "late": late,
        "minutes_late": minutes,
        "responsible": responsible,
        "promised_at": promised_at,
        "chased_in_time": bool(chased),
        "rule": "R-AS-11",
        "basis": basis,
    }


FACT_NAMES = {
    "line_value": gettext_noop("Affected value"),
    "line_cost": gettext_noop("Our cost price"),
    "wrong_item_value": gettext_noop("Value of the wrong item"),
    "received_date": gettext_noop("Received on"),
    "request_date": gettext_noop("Requested on"),
    "shipped_matches_order": gettext_noop("Shipped item matches the order"),
    "buyer_pays_freight": gettext_noop("Buyer will pay the freight"),
    "misuse": gettext_noop("Misuse found"),
    "remark_ok": gettext_noop("Order remark present and right"),
    "warehouse_error": gettext_noop("Warehouse error"),
    "seized": gettext_noop("Seized by security"),
    "at_fault": gettext_noop("We are at fault"),
}


def facts_from_dict(data: dict[str, Any]) -> CaseFacts:
    """Build facts from JSON-ish input (strings for money and dates); raise ValueError on bad input,
    naming the fact as people call it."""

    def name(key: str) -> str:
        return _(FACT_NAMES.get(key, key))

    def money(key: str) -> Decimal | None:
        value = data.get(key)
        if value is None or value == "":
            return None
        text = str(value).strip()
        try:
            amount = Decimal(text)
        except ArithmeticError:
            raise ValueError(_("%(field)s must be an amount") % {"field": name(key)}) from None
        if not _PLAIN_AMOUNT.fullmatch(text):  # no 1e3, 1_000 or 12.345: what is typed is what is stored
            raise ValueError(_("%(field)s must be an amount with at most two decimals") % {"field": name(key)})
        if not amount.is_finite() or amount < 0:
            raise ValueError(_("%(field)s must be an amount ≥ 0") % {"field": name(key)})
        if amount > MONEY_MAX:
            raise ValueError(_("%(field)s may not exceed %(limit)s") % {"field": name(key), "limit": MONEY_MAX})
        return amount

    def date(key: str) -> dt.date | None:
        value = data.get(key)
        if not value:
            return None
        try:
            if not _PLAIN_DATE.fullmatch(str(value)):  # not 2026-W48-1 or 20261123: stored as typed
                raise ValueError(value)
            day = dt.date.fromisoformat(str(value))
        except ValueError:
            raise ValueError(_("%(field)s must be a date like 2026-11-29") % {"field": name(key)}) from None
        if not FIRST_YEAR <= day.year <= LAST_YEAR:  # year 9999 broke the windows' day arithmetic
            raise ValueError(
                _("%(field)s must lie between %(first)s and %(last)s")
                % {"field": name(key), "first": FIRST_YEAR, "last": LAST_YEAR}
            )
        return day

    def flag(key: str) -> bool | None:
        """A yes/no fact: true/false, "true"/"false", "yes"/"no", "1"/"0" — anything else is an error
        (a text "false" was read as yes)."""
        value = data.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"true", "yes", "1", "是"}:
            return True
        if text in {"false", "no", "0", "否"}:
            return False
        raise ValueError(_("%(field)s must be yes or no") % {"field": name(key)})

    received, requested = date("received_date"), date("request_date")
    if received is not None and requested is not None and received > requested:
        # R-AS-14 (SPEC §5.1): a parcel cannot be received after the buyer asked about it.
        raise ValueError(
            _("%(received)s (%(on)s) is after %(requested)s (%(req)s)")
            % {"received": name("received_date"), "on": received, "requested": name("request_date"), "req": requested}
        )
    courier_class = str(data.get("courier_class") or "")
    if courier_class and courier_class not in COURIER_CLASSES:
        raise ValueError(_("Unknown courier query class %(value)s") % {"value": courier_class[:20]})
    kind = str(data.get("request_kind") or "")
    if kind and kind not in REQUEST_KINDS:
        raise ValueError(_("Unknown request %(value)s") % {"value": kind[:20]})
    stance = str(data.get("buyer_stance") or "")
    if stance and stance not in BUYER_STANCES:
        raise ValueError(_("Unknown buyer's answer %(value)s") % {"value": stance[:20]})
    province = str(data.get("province") or "").strip()
    if province and province_short(province) is None:
        raise ValueError(_("Unknown province %(value)s (R-AS-1)") % {"value": province[:20]})
    return CaseFacts(
        case_type=str(data.get("case_type", "")),
        province=province_short(province) or "",
        responsibility=str(data.get("responsibility") or "undetermined"),
        line_value=money("line_value") or ZERO,
        line_cost=money("line_cost"),
        wrong_item_value=money("wrong_item_value"),
        shipped_matches_order=flag("shipped_matches_order"),
        received_date=received,
        request_date=requested,
        request_kind=str(data.get("request_kind") or ""),
        buyer_stance=str(data.get("buyer_stance") or ""),
        buyer_pays_freight=flag("buyer_pays_freight"),
        misuse=flag("misuse"),
        remark_ok=flag("remark_ok"),
        warehouse_error=flag("warehouse_error"),
        seized=bool(flag("seized")),
        at_fault=flag("at_fault"),
        repairs=_whole(data.get("repairs")),
        courier_class=courier_class,
    )


def _whole(value: Any) -> int:
    if value is None or value == "":
        return 0
    text = str(value).strip()
    if not text.isdigit() or len(text) > 4:
        raise ValueError(_("The number of repairs must be a whole number."))
    return int(text)


# The facts a case may hold: the rules' own, and what a platform refund record brings.
FACT_KEYS = frozenset(
    {
        "province", "responsibility", "line_value", "line_cost", "wrong_item_value", "shipped_matches_order",
        "received_date", "request_date", "request_kind", "buyer_stance", "buyer_pays_freight", "misuse",
        "remark_ok", "warehouse_error", "seized", "at_fault", "repairs", "courier_class",
        "refund_id", "platform_status", "reason", "cs_status", "refund_at", "trace",
    }
)  # fmt: skip
YES_NO = ("shipped_matches_order", "buyer_pays_freight", "misuse", "remark_ok", "warehouse_error", "seized", "at_fault")


def clean_facts(data: dict[str, Any]) -> dict[str, Any]:
    """The facts as stored: known keys only, plain values (text, number, yes/no), yes/no facts as
    true/false whatever form they came in; ValueError names the first wrong one."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key == "case_type":
            continue
        if key not in FACT_KEYS:
            raise ValueError(_("Unknown fact %(key)s") % {"key": str(key)[:40]})
        if value is not None and not isinstance(value, str | int | float | bool):
            raise ValueError(_("%(field)s must be a plain value") % {"field": _(FACT_NAMES.get(key, key))})
        out[key] = value
    for key in YES_NO:
        if key in out:
            out[key] = facts_from_dict({"case_type": "defect", key: out[key]}).__dict__[key]
    return out


# --- a parcel's trace (R-AS-10, issue 21 §2) ------------------------------------------------------

SIGNED_WORDS = ("签收", "已签收", "妥投", "代收")


def trace_exception(
    *,
    shipped_at: dt.datetime,
    steps: list[tuple[dt.datetime, str]],
    now: dt.datetime,
    stall_hours: int,
) -> str | None:
    """R-AS-10 from the courier's trace: ``"no_tracking"`` when a parcel shipped more than
    ``stall_hours`` ago has no step at all, ``"delayed"`` when its last step is older than that, and
    None while it moves or once it is signed for (a step whose words say so)."""
    limit = dt.timedelta(hours=stall_hours)
    if not steps:
        return "no_tracking" if now - shipped_at > limit else None
    last_at, _words = max(steps, key=lambda s: s[0])
    if any(word in text for _at, text in steps for word in SIGNED_WORDS):
        return None
    return "delayed" if now - last_at > limit else None
