"""Warranty verdicts of the field-service manual (SPEC §6, R-SVC-1 … R-SVC-5), pure Python.

From a repair request's facts and the policy document, ``evaluate`` says whether the product is
in warranty and until when (R-SVC-1), whether the repair is free or paid and why (R-SVC-2), whether
a replacement is due instead of another repair (R-SVC-3 twice repaired, R-SVC-4 not repaired in 60
days) and, for a return after use, the depreciation charged (R-SVC-5). Nothing is stored; the same
facts always give the same verdict.

Readings taken (beyond SPEC's own):
- A warranty of N months is counted as the Civil Code counts periods (arts. 201, 203): from the day
  after the purchase to the same day N months later, or that month's last day when it has no such
  day (bought 2026-01-10 with 12 months: covered to 2027-01-10; bought 2026-01-31 with 1 month: to
  2026-02-28). A request on or before ``warranty_ends`` is in warranty.
- A project/contract customer's agreement replaces the standard term: the unit per the agreement,
  at least the standard and at most ``warranty_agreement_max_months`` (seed: 最高是3年);
  accessories ``warranty_agreement_accessory_months`` whatever the agreement says (seed: 附件免费
  保修半年,行业工程采购用户保修是一年; SPEC §6.1).
- A replacement work order (R-SVC-3/4) never raises another replacement (SPEC §6.1).
- A replacement (R-SVC-3/4) is due only for a free repair: in warranty and no paid cause.
  R-SVC-3 counts completed repairs by us inside the warranty; the request at hand is the failure
  after them. R-SVC-4 is due once the request has been open ``repair_max_days`` days.
- Depreciation (R-SVC-5) = price × the category's percent per day × days of use, days of use =
  invoice date to return date less the days in repair (never below 0), capped at the price,
  rounded half-up to the cent. The category's row, else the ``*`` row.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from .i18n import _, gettext_noop
from .i18n import days as days_phrase
from .money import PRICE_MAX

CENT = Decimal("0.01")
PARTS = ("unit", "accessory")
# R-SVC-2: each cause makes the repair paid, even in warranty.
CAUSES: dict[str, str] = {
    "misuse": gettext_noop("Damaged by use, maintenance or storage not as instructed"),
    "model_mismatch": gettext_noop("The model does not match the warranty card"),
    "altered": gettext_noop("The product or its warranty card was altered"),
    "force_majeure": gettext_noop("Damaged by force majeure"),
    "clearance_sale": gettext_noop("Sold at a clearance discount"),
}
OUT_OF_WARRANTY = "out_of_warranty"
PAID_REASONS: dict[str, str] = {**CAUSES, OUT_OF_WARRANTY: gettext_noop("Out of warranty")}
MAX_PRICE = PRICE_MAX
_AMOUNT = re.compile(r"^-?[0-9]{1,12}(\.[0-9]{1,2})?$")
MAX_DAYS = 36_500


@dataclass(frozen=True)
class Return:
    invoice_date: dt.date
    return_date: dt.date
    price: Decimal
    repair_days: int = 0
    category: str = ""


@dataclass(frozen=True)
class Facts:
    part: str
    purchase_date: dt.date
    request_date: dt.date
    agreement_months: int | None = None
    causes: tuple[str, ...] = ()
    repairs_in_warranty: int = 0
    request_open_days: int = 0
    return_: Return | None = None
    replacement: bool = False  # the request is itself a replacement work order (never raises another)


@dataclass
class Verdict:
    in_warranty: bool
    warranty_ends: dt.date
    months: int
    charge: str  # free | paid
    paid_reasons: list[str] = field(default_factory=list)
    replacement_due: bool = False
    replacement_reason: str = ""  # "" | repeated_repairs | not_repaired_in_time
    rules: list[str] = field(default_factory=list)
    explanation: list[str] = field(default_factory=list)
    depreciation: Decimal | None = None
    facts: dict[str, Any] = field(default_factory=dict)  # what it was decided on (JSON-ready)

    def as_dict(self) -> dict[str, Any]:
        return {
            "in_warranty": self.in_warranty,
            "warranty_ends": self.warranty_ends,
            "charge": self.charge,
            "paid_reasons": list(self.paid_reasons),
            "replacement_due": self.replacement_due,
            "rules": list(self.rules),
            "explanation": list(self.explanation),
            "depreciation": None if self.depreciation is None else f"{self.depreciation:.2f}",
        }


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (the month's last day when it has no such day)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def term_months(policy: Mapping[str, Any], part: str, agreement_months: int | None) -> int:
    """R-SVC-1: the warranty term of a unit or an accessory, an agreement's term where it is longer."""
    svc = policy["service"]
    standard = int(svc["warranty_unit_months"] if part == "unit" else svc["warranty_accessory_months"])
    if not agreement_months:
        return standard
    if part != "unit":  # a project customer's accessories: the policy's term, whatever the agreement says
        return max(standard, int(svc.get("warranty_agreement_accessory_months", standard)))
    return max(standard, min(int(agreement_months), int(svc["warranty_agreement_max_months"])))


def warranty_ends(purchase_date: dt.date, months: int) -> dt.date:
    return add_months(purchase_date, months)


def depreciation_percent(policy: Mapping[str, Any], category: str) -> Decimal:
    rows = policy["service"].get("depreciation") or []
    by_category = {str(r["category"]): Decimal(str(r["percent_per_day"])) for r in rows}
    return by_category.get(category, by_category.get("*", Decimal(0)))


def depreciation(policy: Mapping[str, Any], ret: Return) -> tuple[Decimal, int, Decimal]:
    """R-SVC-5: (amount, days of use, percent per day)."""
    days = max(0, (ret.return_date - ret.invoice_date).days - max(0, ret.repair_days))
    percent = depreciation_percent(policy, ret.category)
    amount = min(ret.price, ret.price * percent / 100 * days)
    return amount.quantize(CENT, rounding=ROUND_HALF_UP), days, percent


def evaluate(policy: Mapping[str, Any], facts: Facts) -> Verdict:
    svc = policy["service"]
    months = term_months(policy, facts.part, facts.agreement_months)
    ends = warranty_ends(facts.purchase_date, months)
    in_warranty = facts.request_date <= ends
    what = _("The unit") if facts.part == "unit" else _("The accessory")
    explanation = [
        _("%(what)s is covered for %(months)s months from the purchase date %(bought)s, to %(ends)s.")
        % {"what": what, "months": months, "bought": facts.purchase_date.isoformat(), "ends": ends.isoformat()}
    ]
    if facts.agreement_months:
        explanation.append(
            _("The customer's agreement gives %(asked)s months; the policy allows at most %(months)s.")
            % {"asked": facts.agreement_months, "months": months}
        )
    rules = ["R-SVC-1"]
    paid = [c for c in CAUSES if c in set(facts.causes)]
    if not in_warranty:
        paid.append(OUT_OF_WARRANTY)
        explanation.append(
            _("Requested on %(day)s, after the warranty ended: a paid repair.")
            % {"day": facts.request_date.isoformat()}
        )
    else:
        explanation.append(_("Requested on %(day)s, in warranty.") % {"day": facts.request_date.isoformat()})
    for cause in paid:
        if cause != OUT_OF_WARRANTY:
            explanation.append(_("Paid repair: %(reason)s.") % {"reason": _(CAUSES[cause])})
    if paid:
        rules.append("R-SVC-2")
    verdict = Verdict(
        facts=facts_as_dict(facts),
        in_warranty=in_warranty,
        warranty_ends=ends,
        months=months,
        charge="paid" if paid else "free",
        paid_reasons=paid,
        rules=rules,
        explanation=explanation,
    )
    if not paid and facts.replacement:
        explanation.append(_("A free replacement with the same model."))
    elif not paid:
        explanation.append(_("A free repair."))
        before = int(svc["repairs_before_replacement"])
        if facts.repairs_in_warranty >= before:
            verdict.replacement_due, verdict.replacement_reason = True, "repeated_repairs"
            rules.append("R-SVC-3")
            explanation.append(
                _(
                    "Repaired %(n)s times by us in warranty and still failing: replace it free with the same "
                    "model (another model with the customer paying the difference when none is left)."
                )
                % {"n": facts.repairs_in_warranty}
            )
        limit = int(svc["repair_max_days"])
        if facts.request_open_days >= limit:
            if not verdict.replacement_due:
                verdict.replacement_due, verdict.replacement_reason = True, "not_repaired_in_time"
            rules.append("R-SVC-4")
            explanation.append(
                _("Not repaired %(span)s after the request (limit %(limit)s): replace it with the same model.")
                % {"span": days_phrase(facts.request_open_days), "limit": days_phrase(limit)}
            )
    if facts.return_ is not None:
        amount, days, percent = depreciation(policy, facts.return_)
        verdict.depreciation = amount
        rules.append("R-SVC-5")
        explanation.append(
            _("A return after %(span)s of use (repair days deducted) at %(percent)s%% a day: depreciation ¥%(amount)s.")
            % {"span": days_phrase(days), "percent": percent, "amount": f"{amount:.2f}"}
        )
    return verdict


def facts_as_dict(facts: Facts) -> dict[str, Any]:
    out: dict[str, Any] = {
        "part": facts.part,
        "purchase_date": facts.purchase_date.isoformat(),
        "request_date": facts.request_date.isoformat(),
        "agreement_months": facts.agreement_months,
        "causes": list(facts.causes),
        "repairs_in_warranty": facts.repairs_in_warranty,
        "request_open_days": facts.request_open_days,
        "replacement": facts.replacement,
    }
    if facts.return_ is not None:
        r = facts.return_
        out["return"] = {
            "invoice_date": r.invoice_date.isoformat(),
            "return_date": r.return_date.isoformat(),
            "price": f"{r.price:.2f}",
            "repair_days": r.repair_days,
            "category": r.category,
        }
    return out


# --- facts from untrusted input ---------------------------------------------------------------------


def _date(value: Any, name: str) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(_("%(name)s must be a date (YYYY-MM-DD).") % {"name": name}) from None


def _count(value: Any, name: str, top: int = MAX_DAYS) -> int:
    if isinstance(value, bool) or value is None or value == "":
        if value is None or value == "":
            return 0
        raise ValueError(_("%(name)s must be a whole number from 0 to %(top)s.") % {"name": name, "top": top})
    try:
        number = int(str(value))
    except ValueError:
        raise ValueError(_("%(name)s must be a whole number from 0 to %(top)s.") % {"name": name, "top": top}) from None
    if not 0 <= number <= top:
        raise ValueError(_("%(name)s must be a whole number from 0 to %(top)s.") % {"name": name, "top": top})
    return number


def facts_from_dict(data: Mapping[str, Any]) -> Facts:
    """Facts from a request body, every field checked (ValueError with a sentence)."""
    part = str(data.get("part") or "")
    if part not in PARTS:
        raise ValueError(_("part must be unit or accessory."))
    purchase = _date(data.get("purchase_date"), "purchase_date")
    request = _date(data.get("request_date"), "request_date")
    if request < purchase:
        raise ValueError(_("The request date is before the purchase date."))
    causes: Iterable[Any] = data.get("causes") or ()
    if isinstance(causes, str) or not isinstance(causes, Iterable):
        raise ValueError(_("causes must be a list."))
    cause_list = tuple(str(c) for c in causes)
    unknown = [c for c in cause_list if c not in CAUSES]
    if unknown:
        raise ValueError(_("Unknown cause: %(cause)s") % {"cause": unknown[0][:40]})
    agreement = data.get("agreement_months")
    months = None if agreement in (None, "", 0) else _count(agreement, "agreement_months", 1200) or None
    ret = data.get("return")
    return_ = None
    if ret:
        if not isinstance(ret, Mapping):
            raise ValueError(_("return must be an object."))
        invoice = _date(ret.get("invoice_date"), "return.invoice_date")
        back = _date(ret.get("return_date"), "return.return_date")
        if back < invoice:
            raise ValueError(_("The return date is before the invoice date."))
        text = str(ret.get("price")).strip()
        if not _AMOUNT.match(text):
            raise ValueError(_("return.price must be an amount."))
        try:
            price = Decimal(text) + 0  # + 0 turns -0 into 0
        except (InvalidOperation, ValueError):
            raise ValueError(_("return.price must be an amount.")) from None
        if not price.is_finite() or price < 0 or price > MAX_PRICE:
            raise ValueError(_("return.price must be an amount from 0 to %(top)s.") % {"top": MAX_PRICE})
        return_ = Return(
            invoice_date=invoice,
            return_date=back,
            price=price.quantize(CENT, rounding=ROUND_HALF_UP),
            repair_days=_count(ret.get("repair_days"), "return.repair_days"),
            category=str(ret.get("category") or "")[:60],
        )
    return Facts(
        part=part,
        purchase_date=purchase,
        request_date=request,
        agreement_months=months,
        causes=cause_list,
        repairs_in_warranty=_count(data.get("repairs_in_warranty"), "repairs_in_warranty", 1000),
        request_open_days=_count(data.get("request_open_days"), "request_open_days"),
        return_=return_,
    )


def referral(policy: Mapping[str, Any], address: str) -> dict[str, str] | None:
    """R-SVC-8: None when the service centre visits the address (a city of ``service_area`` named in
    it, or no address yet); else the sales point that serves it — the first whose areas are named
    in the address, else the one for "*" — as {name, phone}."""
    svc = policy["service"]
    text = (address or "").strip()
    area = [str(city) for city in svc.get("service_area", [])]
    if not text or not area or any(city in text for city in area):
        return None
    points = list(svc.get("sales_points", []))
    for point in points:
        if any(a != "*" and str(a) in text for a in point.get("areas", [])):
            return {"name": str(point["name"]), "phone": str(point.get("phone", ""))}
    fallback = next((p for p in points if "*" in p.get("areas", [])), None)
    return {"name": str(fallback["name"]), "phone": str(fallback.get("phone", ""))} if fallback else None
