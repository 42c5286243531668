"""Writes for after-sales cases. Every transition is one guarded service call that records an event."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from kefu.aftersales.rules import Verb
from kefu.commerce.models import Order
from kefu.core import clock, plugins
from kefu.core.actions import action, is_operator
from kefu.core.actors import Actor, user_of
from kefu.core.errors import ApplicationError, PermissionDenied
from kefu.core.events import event_record
from kefu.core.ledger import create_once, keyed_row
from kefu.core.params import parse_moment
from kefu.core.policy_store import policy_in_force
from kefu.core.scoping import APPROVE, ensure_in_scope
from kefu.org.models import Shop, Staff
from kefu.org.permissions import has_capability, staff_holds
from kefu.org.selectors import staff_of
from kefu.policies import aftersales as rules
from kefu.policies.money import MONEY_MAX
from kefu.policies.remark import RemarkError, parse_remark
from kefu.workflow import services as wf
from kefu.workflow.models import StatusLabel

from . import selectors
from .models import (
    AgentCharge,
    Case,
    Category,
    ClaimStatus,
    CourierClaim,
    Evidence,
    MoneyKind,
    MoneyLine,
    MoneyStatus,
    NegativeReview,
    RefundApprover,
    Responsibility,
    ShipmentChase,
    ShopRating,
)
from .workflow import CASES

REFUND_KINDS = {MoneyKind.REFUND, MoneyKind.PARTIAL_REFUND, MoneyKind.COMPENSATION}
# The largest amount a money line holds (DecimalField max_digits=12): 9,999,999,999.99 CNY.


_in_scope = ensure_in_scope


def statuses_ensure() -> None:
    """Every case category needs at least one label (recreates the defaults of any left without)."""
    wf.labels_ensure(CASES)


def _deadline(value: dt.datetime | None) -> dt.datetime | None:
    try:
        return clock.make_aware(value) if value is not None else None
    except ValueError as exc:
        raise ApplicationError("deadline", _("The deadline is not valid: %(error)s") % {"error": exc}) from exc


def case_can_transition(case: Case, category: str) -> bool:
    return CASES.can_enter(case.category, category)


def case_decision(case: Case) -> rules.Decision:
    """The rules' decision for the case's current facts, with the policy in force when it was opened."""
    facts = {**case.facts, "case_type": case.case_type, "responsibility": case.responsibility}
    policy = policy_in_force(clock.local_date(case.opened_at)).document
    return rules.evaluate(policy, rules.facts_from_dict(facts))


@action(capability="cases.handle", scope=("order",))
def case_open(
    *,
    actor: Actor,
    case_type: str,
    shop: Shop | None = None,
    order: Order | None = None,
    buyer_nick: str = "",
    owner: Staff | None = None,
    facts: dict[str, Any] | None = None,
    summary: str = "",
    reason: str = "",
    platform_deadline: dt.datetime | None = None,
    external_ref: str = "",
    conversation_ref: int | None = None,
) -> Case:
    """Open a case from an order (or for a buyer without one); opened from a conversation, the case
    keeps a link to it (``conversation_ref``)."""
    if case_type not in rules.CASE_TYPES:
        raise ApplicationError("case_type", _("Unknown case type: %(value)s") % {"value": case_type[:40]})
    if order is not None:
        shop = order.shop
        buyer_nick = buyer_nick or order.buyer_nick
    if order is None and not buyer_nick.strip():
        raise ApplicationError("case_shop", _("A case needs an order or a buyer."))
    # the server's own jobs (a platform connector, the command line) act for the whole department
    if shop is None or (not is_operator(actor) and not Shop.objects.restrict(actor).filter(pk=shop.pk).exists()):
        raise ApplicationError("case_shop", _("A case needs a shop or an order in your scope."))
    facts = dict(facts or {})
    # R-AS-14 (SPEC §5.1): the request date defaults to the day the case is opened.
    facts.setdefault("request_date", clock.today().isoformat())
    # the order's first two lines, in the lines' order: one line gives its value, the first its product
    lines = list(order.lines.select_related("product")[:2]) if order is not None else []
    if order is not None:
        facts.setdefault("province", order.province)
        if len(lines) == 1:
            # one line: its own value and, when the product's cost price is known, its cost (the
            # R-AS-4 margin) — the order's total would count the postage and nothing else
            only = lines[0]
            facts.setdefault("line_value", str(only.price * only.quantity))
            cost = only.cost_price or (only.product.cost_price if only.product is not None else None)
            if cost:
                facts.setdefault("line_cost", str(cost * only.quantity))
        facts.setdefault("line_value", str(order.paid_amount))
        if order.received_at:
            facts.setdefault("received_date", clock.local_date(order.received_at).isoformat())
    try:
        facts = rules.clean_facts(facts)
        rules.facts_from_dict({**facts, "case_type": case_type})
    except (ValueError, TypeError) as exc:
        raise ApplicationError("case_facts", _("The case facts are not valid: %(error)s") % {"error": exc}) from exc
    now = clock.now()
    product = lines[0].product if lines else None
    if owner is not None:
        _in_scope(actor, owner)
    platform_deadline = _deadline(platform_deadline)
    case = Case.objects.create(
        external_ref=external_ref[:64],
        case_type=case_type,
        shop=shop,
        order=order,
        customer=order.customer if order else None,
        buyer_nick=buyer_nick[:100],
        product=product,
        owner=owner or staff_of(actor),
        **wf.open_fields(CASES, now),
        facts=facts,
        summary=summary[:500],
        reason=reason[:100],
        platform_deadline=platform_deadline,
        conversation_ref=conversation_ref,
    )
    decision = case_decision(case)
    if decision.responsibility != case.responsibility:
        Case.objects.filter(pk=case.pk).update(responsibility=decision.responsibility)
        case.responsibility = decision.responsibility
    event_record(
        actor=actor,
        verb=Verb.CASE_OPENED,
        subject=case,
        after={"type": case_type, "order": order.order_no if order else None, "facts": facts},
        data={"conversation": conversation_ref} if conversation_ref else {},
    )
    return case


@action(capability="cases.handle", scope=("case",))
def case_update_facts(*, actor: Actor, case: Case, facts: dict[str, Any], responsibility: str | None = None) -> Case:
    try:
        merged = {**case.facts, **rules.clean_facts(dict(facts))}
        rules.facts_from_dict({**merged, "case_type": case.case_type})
    except (ValueError, TypeError) as exc:
        raise ApplicationError("case_facts", _("The case facts are not valid: %(error)s") % {"error": exc}) from exc
    if responsibility is not None and responsibility not in Responsibility.values:
        raise ApplicationError(
            "responsibility", _("Unknown responsibility: %(value)s") % {"value": responsibility[:40]}
        )
    before = {"facts": case.facts, "responsibility": case.responsibility}
    case.facts = merged
    if responsibility:
        case.responsibility = responsibility
    decision = case_decision(case)
    if not responsibility and case.responsibility == Responsibility.UNDETERMINED:
        case.responsibility = decision.responsibility
    case.updated_at = clock.now()
    case.save(update_fields=["facts", "responsibility", "updated_at"])
    event_record(
        actor=actor,
        verb=Verb.CASE_FACTS_UPDATED,
        subject=case,
        before=before,
        after={"facts": case.facts, "responsibility": case.responsibility},
    )
    return case


@action(capability="cases.handle", scope=("case",))
def case_transition(*, actor: Actor, case: Case, status: StatusLabel, note: str = "") -> Case:
    """Move the case to another status label (the shared core's guarded transition)."""
    return wf.transition(actor=actor, item=case, label=status, note=note)  # type: ignore[no-any-return]


@action(capability="cases.handle", scope=("case",))
def case_set_deadline(*, actor: Actor, case: Case, deadline: dt.datetime | None) -> Case:
    """Set the platform's reply deadline by hand (when it did not come with the refund data)."""
    deadline = _deadline(deadline)
    before = {"platform_deadline": case.platform_deadline}
    Case.objects.filter(pk=case.pk).update(platform_deadline=deadline, escalated_at=None, updated_at=clock.now())
    case.platform_deadline = deadline
    event_record(
        actor=actor, verb=Verb.CASE_DEADLINE_SET, subject=case, before=before, after={"platform_deadline": deadline}
    )
    return case


@action(capability="cases.handle", scope=("case",))
def checklist_toggle(*, actor: Actor, case: Case, code: str, done: bool) -> Case:
    """Tick a step of the case type's playbook (the case's checklist)."""
    return wf.checklist_toggle(actor=actor, item=case, code=code, done=done)  # type: ignore[no-any-return]


@action(capability="cases.handle", scope=("case",))
def evidence_add(*, actor: Actor, case: Case, kind: str, name: str, data: bytes, note: str = "") -> Evidence:
    """Store one piece of evidence (the shared core's safe attachment)."""
    return wf.attach(actor=actor, item=case, kind=kind, name=name, data=data, note=note)  # type: ignore[no-any-return]


@action(capability="cases.handle", scope=("case",))
def money_post(
    *,
    actor: Actor,
    case: Case,
    kind: str,
    amount: Decimal,
    note: str = "",
    rule: str = "",
    idempotency_key: str | None = None,
    needs_supervisor: bool = False,
    proposed: bool = False,
) -> MoneyLine:
    """Append a money line. Refunds/compensation wait for approval (R-AS-7); others are posted at once
    unless they need the supervisor. The caps count every line of the case, not one at a time (the
    case's row is locked while they are added up): partial refunds and compensation above the R-AS-7
    cap, freight borne above return + reship at the R-AS-1 standard (with a reason), and money the
    playbook did not propose (``proposed``: a chosen resolution's line) above the cap; a refund on a
    case without an order (nothing to check it against) always needs the supervisor.
    With an idempotency key (browser forms, API clients) the same key posts one line however often it
    arrives: the unique key decides, and the repeat returns the line already posted."""
    existing = keyed_row(MoneyLine, idempotency_key)
    if existing is not None:
        return _same_line(existing, case)
    if kind not in MoneyKind.values:
        raise ApplicationError("money_kind", _("Unknown kind of money line: %(value)s") % {"value": kind[:40]})
    amount = money_amount(amount)
    refund = kind in REFUND_KINDS
    if kind in ORDER_REFUNDS and case.order_id is not None:
        _refund_fits(case.order_id, amount)
    decision = case_decision(case)
    cap = decision.partial_refund_cap
    # the caps count every line of the order's cases (a second case on the same order starts at what
    # the first gave), under the order's row lock (or the case's, without an order)
    if case.order_id is not None:
        Order.objects.select_for_update().filter(pk=case.order_id).values_list("pk", flat=True).first()
        lines = MoneyLine.objects.filter(case__order_id=case.order_id)
    else:
        Case.objects.select_for_update().filter(pk=case.pk).values_list("pk", flat=True).first()
        lines = case.money.all()

    def so_far(*kinds: str) -> Decimal:
        return lines.filter(kind__in=kinds).exclude(status=MoneyStatus.REJECTED).aggregate(t=Sum("amount"))[
            "t"
        ] or Decimal("0")

    # R-AS-7: what is given to keep the buyer happy — partial refunds, compensation, coupons — together
    # (a coupon the playbook proposed is its fixed amount; one typed by hand counts like the others)
    concessions = (MoneyKind.PARTIAL_REFUND, MoneyKind.COMPENSATION, MoneyKind.COUPON)
    capped = kind in concessions and not (proposed and kind == MoneyKind.COUPON)
    needs = needs_supervisor or (capped and so_far(*concessions) + amount > cap)
    if refund and case.order_id is None:
        needs = True  # no order to check the refund against: the supervisor decides
    if not proposed and kind == MoneyKind.RESHIP_COST and so_far(kind) + amount > cap:
        needs = True  # a reship the playbook did not propose, above the cap
    if kind == MoneyKind.FREIGHT_BORNE and so_far(kind) + amount > 2 * decision.freight:
        # R-AS-1: freight above the standard (return + reship) for a difficult buyer: a reason, and
        # the supervisor approves it (SPEC §5.1).
        if not note.strip():
            raise ApplicationError(
                "freight_reason",
                _("Freight of ¥%(amount)s is above the standard (¥%(standard)s a parcel): give the reason (R-AS-1).")
                % {"amount": amount, "standard": decision.freight},
            )
        needs = True
    # Refunds wait for an approver; any other line waits only when it needs the supervisor (SPEC §5.1).
    waits = refund or needs
    line, created = create_once(
        MoneyLine,
        key=idempotency_key,
        case=case,
        kind=kind,
        amount=amount,
        status=MoneyStatus.REQUESTED if waits else MoneyStatus.POSTED,
        needs_supervisor=needs,
        rule=rule or ("R-AS-7" if refund else ""),
        note=note[:300],
        created_by=user_of(actor),
        created_at=clock.now(),
    )
    if not created:
        return _same_line(line, case)
    event_record(
        actor=actor,
        verb=Verb.CASE_MONEY_REQUESTED if waits else "case.money_posted",
        subject=case,
        after={"kind": kind, "amount": amount, "needs_supervisor": needs, "line": line.pk},
    )
    return line


ORDER_REFUNDS = (MoneyKind.REFUND, MoneyKind.PARTIAL_REFUND)


def _refund_fits(order_id: int, amount: Decimal, *, line: MoneyLine | None = None) -> None:
    """Refunds of an order never exceed what the buyer paid and has not had back: the order's row is
    locked first, so parallel requests (whatever their keys) check and insert one after another.
    ``line``: the refund being approved, counted once (it is already among the asked)."""
    paid, refunded = (
        Order.objects.select_for_update().filter(pk=order_id).values_list("paid_amount", "refunded_amount")[0]
    )
    asked = MoneyLine.objects.filter(
        case__order_id=order_id, kind__in=ORDER_REFUNDS, status__in=[MoneyStatus.REQUESTED, MoneyStatus.APPROVED]
    )
    if line is not None:
        asked = asked.exclude(pk=line.pk)
    remaining = paid - refunded - (asked.aggregate(total=Sum("amount"))["total"] or Decimal("0"))
    if amount > remaining:
        raise ApplicationError(
            "money_amount",
            _("A refund of ¥%(amount)s is more than what remains of the order's paid amount (¥%(remaining)s).")
            % {"amount": amount, "remaining": max(remaining, Decimal("0"))},
        )


def _same_line(line: MoneyLine, case: Case) -> MoneyLine:
    if line.case_id != case.pk:
        raise ApplicationError("idempotency_key", _("This idempotency key was used for another case."), status=409)
    return line


def money_amount(value: Any) -> Decimal:
    """A money amount as the ledger stores it: positive, 2 places, at most MONEY_MAX (the column holds 12 digits)."""
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (ArithmeticError, ValueError) as exc:
        raise ApplicationError("money_amount", _("Enter an amount such as 12.50.")) from exc
    if not amount.is_finite() or amount <= 0:
        raise ApplicationError("money_amount", _("The amount must be greater than zero."))
    if amount > MONEY_MAX:
        raise ApplicationError("money_amount", _("The amount may not exceed %(max)s.") % {"max": MONEY_MAX})
    return amount


@action(capability="refund.approve", scope=("line",), scope_action=APPROVE)
def refund_approve(*, actor: Actor, line: MoneyLine) -> MoneyLine:
    """Approve a waiting money line once: the status moves in one conditional UPDATE, so concurrent
    approvals cannot both win; a refund is checked again against what the order has left."""
    _approver(actor, line)
    if line.kind in ORDER_REFUNDS and line.case.order_id is not None:
        _refund_fits(line.case.order_id, line.amount, line=line)
    won = MoneyLine.objects.filter(pk=line.pk).decide(status=MoneyStatus.APPROVED, by=actor, at=clock.now())
    if not won:
        raise ApplicationError("refund_decided", _("This refund was already decided."), status=409)
    event_record(
        actor=actor,
        verb=Verb.CASE_REFUND_APPROVED,
        subject=line.case,
        after={"line": line.pk, "kind": line.kind, "amount": line.amount},
    )
    line.refresh_from_db()
    _advance(actor, line.case)
    return line


def _approver(actor: Actor, line: MoneyLine) -> None:
    if (
        line.created_by_id is not None
        and line.created_by_id == getattr(actor, "pk", None)
        and not has_capability(actor, "refund.approve_over_cap")
    ):
        raise PermissionDenied(_("Nobody approves their own request; another approver decides."))
    if selectors.may_approve(actor, line):
        return
    if line.needs_supervisor:
        raise PermissionDenied(_("The supervisor approves this (%(rule)s).") % {"rule": line.rule or "R-AS-7"})
    raise PermissionDenied(
        _("Approving this needs the refund-approval permission for ¥%(amount)s.") % {"amount": line.amount}
    )


@action(capability="refund.approve", scope=("line",), scope_action=APPROVE)
def refund_reject(*, actor: Actor, line: MoneyLine, note: str) -> MoneyLine:
    """Reject a waiting money line once, with the reason the agent and the buyer will be told. A line
    the chosen resolution made takes the case back to choosing (SPEC §5.1)."""
    _approver(actor, line)
    note = (note or "").strip()[:300]
    if not note:
        raise ApplicationError("comment_required", _("A rejection needs a reason."))
    won = MoneyLine.objects.filter(pk=line.pk).decide(status=MoneyStatus.REJECTED, by=actor, at=clock.now())
    if not won:
        raise ApplicationError("refund_decided", _("This refund was already decided."), status=409)
    event_record(
        actor=actor,
        verb=Verb.CASE_REFUND_REJECTED,
        subject=line.case,
        after={"line": line.pk, "kind": line.kind, "amount": line.amount, "note": note},
    )
    line.refresh_from_db()
    case = line.case
    if (
        case.resolution
        and RESOLUTION_MONEY.get(case.resolution) == line.kind
        and not case.money.filter(kind=line.kind).exclude(status=MoneyStatus.REJECTED).exists()
        and Case.objects.filter(pk=case.pk, resolution=case.resolution).update(resolution="", updated_at=clock.now())
    ):
        event_record(
            actor=actor, verb=Verb.CASE_RESOLUTION_REFUSED, subject=case, before={"resolution": case.resolution}
        )
    return line


@action(capability="refund.delegate", scope=("staff",))
def refund_grant(*, actor: Actor, staff: Staff, limit: Any) -> RefundApprover:
    """R-AS-7: the supervisor grants a person the refund-approval permission up to ``limit`` (0 revokes)."""
    amount = Decimal("0") if str(limit).strip() in {"0", "0.00", ""} else money_amount(limit)
    # the desk's people, not the supervisor who grants (nor a technician or the warehouse)
    if amount and (not staff_holds(staff, "desk.handle") or staff_holds(staff, "refund.delegate")):
        raise ApplicationError("refund_grant", _("%(name)s does not work on after-sales money.") % {"name": staff.name})
    grant = RefundApprover.objects.select_for_update().filter(staff=staff).first()
    before = {"limit": grant.limit, "active": grant.active} if grant else None
    if amount == 0:
        if grant is None or not grant.active:
            raise ApplicationError("refund_grant", _("This person holds no refund-approval grant."))
        RefundApprover.objects.filter(pk=grant.pk).update(active=False)
        grant.active = False
    elif grant is None:
        grant = RefundApprover.objects.create(
            staff=staff, limit=amount, granted_by=user_of(actor), granted_at=clock.now()
        )
    else:
        RefundApprover.objects.filter(pk=grant.pk).update(
            limit=amount, active=True, granted_by=user_of(actor), granted_at=clock.now()
        )
        grant.limit, grant.active = amount, True
    event_record(
        actor=actor,
        verb=Verb.REFUND_GRANTED if grant.active else "refund.revoked",
        subject=staff,
        before=before,
        after={"limit": grant.limit, "active": grant.active},
    )
    return grant


# How a chosen proposal turns into money (kind, amount source).
RESOLUTION_MONEY = {
    "keep_discount": MoneyKind.PARTIAL_REFUND,
    "small_refund": MoneyKind.PARTIAL_REFUND,
    "price_difference": MoneyKind.PARTIAL_REFUND,
    "compensation": MoneyKind.COMPENSATION,
    "settle_privately": MoneyKind.COMPENSATION,
    "coupon": MoneyKind.COUPON,
    "refund_no_return": MoneyKind.REFUND,
    "refund": MoneyKind.REFUND,
    "settle_courier_then_refund": MoneyKind.REFUND,
    "return_exchange_our_cost": MoneyKind.FREIGHT_BORNE,
    "return_free_shipping": MoneyKind.FREIGHT_BORNE,
    "offer_exchange": MoneyKind.FREIGHT_BORNE,
    "accept_return": MoneyKind.FREIGHT_BORNE,
    "accept_exchange": MoneyKind.FREIGHT_BORNE,
    "reship_no_return": MoneyKind.RESHIP_COST,
    "reship": MoneyKind.RESHIP_COST,
    "reship_missing": MoneyKind.RESHIP_COST,
    "reship_missing_agent": MoneyKind.RESHIP_COST,
    "settle_courier_then_reship": MoneyKind.RESHIP_COST,
}


@action(capability="cases.handle", scope=("case",))
def resolution_choose(*, actor: Actor, case: Case, code: str) -> Case:
    """Choose one of the decision's proposals; its cost becomes a money line (refunds await approval).
    A case's resolution is chosen once: the choice is one conditional UPDATE from "none chosen", so a
    double click, two tabs or two people choosing different resolutions at once give one choice,
    one money line and one agent charge. Choosing the same again changes nothing; another one is
    refused (409) — money already recorded is corrected with a money line of its own."""
    decision = case_decision(case)
    proposal = next((p for p in decision.proposals if p.code == code), None)
    if proposal is None:
        raise ApplicationError("resolution", _("This resolution is not proposed for this case."))
    kind = RESOLUTION_MONEY.get(code)
    if (
        proposal.needs_approval
        and not (kind and proposal.cost > 0)
        and not has_capability(actor, "refund.approve_over_cap")
    ):
        # no money line to wait on (a return outside its window at the buyer's cost): the approval is
        # the supervisor's own choice (SPEC §5.1 "approval means waiting")
        outside = decision.window is not None and decision.window.get("within") is not True
        raise PermissionDenied(
            _("This resolution needs the supervisor: ask them to choose it (%(rule)s).")
            % {"rule": "R-AS-14" if outside else proposal.rule}
        )
    agent = responsible_agent(case) if code == "reship_missing_agent" else None
    if code == "reship_missing_agent" and agent is None:
        raise ApplicationError(
            "responsible_agent",
            _("The order remark names no agent; choose the agent who took the order on the case first (R-AS-8)."),
        )
    if not Case.objects.filter(pk=case.pk, resolution="").update(resolution=code, updated_at=clock.now()):
        case.refresh_from_db(fields=["resolution"])
        if case.resolution == code:
            return case  # already chosen: one effect
        raise ApplicationError(
            "resolution_chosen",
            _("This case's resolution was already chosen (%(chosen)s); correct money with a money line instead.")
            % {"chosen": next((p.label for p in decision.proposals if p.code == case.resolution), case.resolution)},
            status=409,
        )
    case.resolution = code
    event_record(
        actor=actor,
        verb=Verb.CASE_RESOLUTION_CHOSEN,
        subject=case,
        after={
            "resolution": code,
            "cost": proposal.cost,
            "rule": proposal.rule,
            "needs_approval": proposal.needs_approval,
        },
    )
    if kind and proposal.cost > 0:
        money_post(
            actor=actor,
            case=case,
            kind=kind,
            amount=proposal.cost,
            note=proposal.label,
            rule=proposal.rule,
            needs_supervisor=proposal.needs_approval,
            proposed=True,
        )
    if agent is not None:
        _charge_agent(actor, case, agent, decision.freight)
    _advance(actor, case)
    return case


def _advance(actor: Actor, case: Case) -> None:
    """The status follows the work: once a resolution is chosen and no refund awaits approval, an
    active case moves to its category's "resolved" label (closing stays a person's decision)."""
    case.refresh_from_db()
    if not case.resolution or case.category in CASES.done:
        return
    if case.money.filter(status=MoneyStatus.REQUESTED).exists():
        return
    resolved = wf.default_label(CASES, Category.RESOLVED)
    if CASES.can_enter(case.category, resolved.category):
        wf.transition(actor=actor, item=case, label=resolved, note=str(_("Resolution carried out")))


def responsible_agent(case: Case) -> Staff | None:
    """R-AS-8 (clarified): the agent who took the order is the 备注人 of the order remark (R-COM-1),
    else the pre-sales agent who last answered the buyer before payment (the service desk answers,
    through ``plugins.served_by``), else the agent chosen by hand on the case — never silently the
    case owner."""
    order = case.order
    if order is not None and order.memo:
        try:
            remark = parse_remark(order.memo)
        except RemarkError:  # a remark not in the R-COM-1 format names nobody
            remark = None
        if remark is not None and remark.author:
            named = list(Staff.objects.filter(name=remark.author, active=True)[:2])
            if len(named) == 1:
                return named[0]
    if order is not None:
        served = plugins.served_by(order.shop_id, order.buyer_nick, order.paid_at or order.ordered_at)
        if served is not None:
            return served  # type: ignore[no-any-return]
    return case.responsible_staff


def _charge_agent(actor: Actor, case: Case, agent: Staff, freight: Decimal) -> None:
    """R-AS-8: the agent who took the order bears the reship freight (once per case and agent)."""
    try:
        with transaction.atomic():
            AgentCharge.objects.create(
                staff=agent, case=case, amount=freight, reason="R-AS-8 补发运费(备注缺失或错误)", at=clock.now()
            )
    except IntegrityError:
        return
    event_record(
        actor=actor,
        verb=Verb.STAFF_CHARGED,
        subject=agent,
        after={"case": case.number, "amount": freight, "rule": "R-AS-8"},
    )


@action(capability="cases.handle", scope=("case", "staff"))
def case_set_responsible_staff(*, actor: Actor, case: Case, staff: Staff) -> Case:
    if not staff.active:
        raise ApplicationError("responsible_agent", _("This person has left."))
    Case.objects.filter(pk=case.pk).update(responsible_staff=staff)
    case.responsible_staff = staff
    event_record(actor=actor, verb=Verb.CASE_RESPONSIBLE_AGENT_SET, subject=case, after={"staff": staff.name})
    return case


# --- courier claims (R-AS-9) -------------------------------------------------------------------

CLAIM_NEXT: dict[str, set[str]] = {
    ClaimStatus.FILED: {ClaimStatus.ANSWERED, ClaimStatus.PAID, ClaimStatus.REJECTED, ClaimStatus.WRITTEN_OFF},
    ClaimStatus.ANSWERED: {ClaimStatus.PAID, ClaimStatus.REJECTED, ClaimStatus.WRITTEN_OFF},
    ClaimStatus.REJECTED: {ClaimStatus.WRITTEN_OFF},
    ClaimStatus.PAID: set(),
    ClaimStatus.WRITTEN_OFF: set(),
}


@action(capability="cases.handle", scope=("case",))
def claim_open(*, actor: Actor, case: Case, courier: str = "", tracking_no: str = "") -> CourierClaim:
    """Open the courier claim of a case, once: the one-to-one key decides between simultaneous calls."""
    if CourierClaim.objects.filter(case=case).exists():
        raise ApplicationError("claim_exists", _("This case already has a claim."), status=409)
    decision = case_decision(case)
    value = Decimal(str(case.facts.get("line_value") or "0"))
    amount = (value + decision.freight).quantize(Decimal("0.01"))  # goods value + freight (R-AS-9)
    try:
        with transaction.atomic():
            claim = CourierClaim.objects.create(
                case=case,
                courier=(courier or (case.order.courier if case.order else ""))[:32],
                tracking_no=(tracking_no or (case.order.tracking_no if case.order else ""))[:64],
                amount=amount,
                filed_at=clock.now(),
            )
    except IntegrityError as exc:
        raise ApplicationError("claim_exists", _("This case already has a claim."), status=409) from exc
    event_record(actor=actor, verb=Verb.CLAIM_FILED, subject=case, after={"amount": amount, "courier": claim.courier})
    return claim


@action(capability="cases.handle", scope=("claim",))
def claim_update(
    *, actor: Actor, claim: CourierClaim, status: str, recovered: Decimal | None = None, note: str = ""
) -> CourierClaim:
    """Move a claim on; the move is a conditional UPDATE from the status the caller saw, so a claim is
    recovered (and its money posted) once however many requests arrive together."""
    if status not in CLAIM_NEXT.get(claim.status, set()):
        raise ApplicationError(
            "claim_transition",
            _("The claim cannot move from “%(from)s” to “%(to)s”.")
            % {
                "from": claim.get_status_display(),
                "to": ClaimStatus(status).label if status in ClaimStatus.values else status[:20],
            },
            status=409,
        )
    fields: dict[str, Any] = {"status": status, "note": note[:300]}
    if status in {ClaimStatus.PAID, ClaimStatus.WRITTEN_OFF}:
        fields["closed_at"] = clock.now()
    amount = None
    if status == ClaimStatus.PAID:
        amount = money_amount(recovered if recovered is not None else claim.amount)
        if amount > claim.amount:  # a courier pays at most what was claimed
            raise ApplicationError(
                "money_amount",
                _("The recovered amount (¥%(recovered)s) exceeds the claim (¥%(claimed)s).")
                % {"recovered": amount, "claimed": claim.amount},
            )
        fields["recovered"] = amount
    if not CourierClaim.objects.filter(pk=claim.pk, status=claim.status).update(**fields):
        raise ApplicationError("claim_changed", _("The claim changed meanwhile; reload the page."), status=409)
    if amount is not None:
        money_post(actor=actor, case=claim.case, kind=MoneyKind.CLAIM_RECOVERED, amount=amount, rule="R-AS-9")
    event_record(
        actor=actor,
        verb=Verb.CLAIM_UPDATED,
        subject=claim.case,
        before={"status": claim.status},
        after={"status": status, "recovered": fields.get("recovered")},
    )
    claim.refresh_from_db()
    return claim


# --- deadlines (R-AS-11, platform deadlines, SLA) ----------------------------------------------


def deadlines_escalate(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Escalate and flag cases by their platform deadline and SLA (the shared core's sweep, which
    covers every registered workflow)."""
    return wf.deadlines_sweep(now=now)


# --- late shipment (R-AS-11) -----------------------------------------------------------------


@action(capability="shipping.chase", scope=("order",))
def chase_record(*, actor: Actor, order: Order, note: str = "") -> ShipmentChase:
    """The agent chased the warehouse about this order's shipment."""
    chase = ShipmentChase.objects.create(order=order, staff=staff_of(actor), at=clock.now(), note=note[:300])
    event_record(actor=actor, verb=Verb.ORDER_WAREHOUSE_CHASED, subject=order, after={"note": note})
    return chase


def shipping_judgement(*, order: Order, now: dt.datetime | None = None) -> dict[str, Any] | None:
    """R-AS-11 for one order: promised time (paid + policy hours), lateness and who is responsible."""
    if order.paid_at is None:
        return None
    hours = int(policy_in_force(clock.local_date(order.paid_at)).aftersales.ship_within_hours)
    tz = clock.local_tz()  # the rules print times: local (Asia/Shanghai), never the database's UTC

    def local(value: dt.datetime | None) -> dt.datetime | None:
        return value.astimezone(tz) if value is not None else None

    paid_at = local(order.paid_at)
    assert paid_at is not None
    return rules.late_shipment(
        paid_at=paid_at,
        shipped_at=local(order.shipped_at),
        promised_at=paid_at + dt.timedelta(hours=hours),
        chased_at=[c.at.astimezone(tz) for c in order.chases.all()],
        now=(now or clock.now()).astimezone(tz),
    )


# --- platform refund data (FORMATS.md §2f) -------------------------------------------------------


def _optional_moment(value: Any) -> dt.datetime | None:
    """A date-time text of a record that only informs a figure: unreadable is the same as absent."""
    try:
        return parse_moment(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


def _refund_timeout(value: Any) -> dt.datetime | None:
    """The platform's reply deadline of a refund record: a date-time text, or nothing."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ApplicationError("refund_timeout", _("timeout must be a date and time, like 2026-11-28 10:00:00."))
    try:
        return parse_moment(value)
    except ValueError as exc:
        raise ApplicationError("refund_timeout", _("timeout: %(error)s") % {"error": exc}) from None


@action(capability="cases.handle", scope=("shop",))
def refund_sync(*, actor: Actor, shop: Shop, record: dict[str, Any]) -> tuple[Case, str]:
    """Create or update the case of one platform refund (idempotent by refund_id) and say which it
    was: ``"created"``, ``"updated"`` or ``"unchanged"``; the platform's reply
    deadline comes with the data (``timeout``), never hard-coded. The refund id is written by the
    INSERT that creates the case, so simultaneous pushes of one refund make one case (the unique
    (shop, refund id) key decides; the loser updates the winner's case)."""
    refund_id = str(record.get("refund_id") or "").strip()
    if not refund_id:
        raise ApplicationError("refund_id", _("refund_id is required."))
    if len(refund_id) > Case._meta.get_field("external_ref").max_length:  # type: ignore[operator]
        raise ApplicationError("refund_id", _("refund_id has at most 64 characters."))
    deadline = _refund_timeout(record.get("timeout"))
    facts = {
        "refund_id": refund_id,
        "platform_status": str(record.get("status", "")),
        "line_value": str(record.get("refund_fee") or "0"),
        "reason": str(record.get("reason", ""))[:100],
        # the platform's intervention (客服介入): 1 none … 6 done — a disputed refund (shop health)
        "cs_status": str(record.get("cs_status", "") or "")[:4],
    }
    created = _optional_moment(record.get("created"))  # when the buyer asked (shop health counts by it)
    if created:
        facts["refund_at"] = created.isoformat()
    case = Case.objects.filter(shop=shop, external_ref=refund_id).first()
    if case is None:
        order = Order.objects.filter(shop=shop, order_no=str(record.get("tid", ""))).first()
        kind = "refund_only" if record.get("good_status") in (None, "", "BUYER_NOT_RECEIVED") else "return"
        try:
            return case_open(
                actor=actor,
                case_type=kind,
                order=order,
                shop=shop,
                buyer_nick=str(record.get("buyer_nick", "")),
                facts=facts,
                summary=str(record.get("desc", "") or record.get("reason", ""))[:500],
                reason=facts["reason"],
                platform_deadline=deadline or None,
                external_ref=refund_id,
            ), "created"
        except IntegrityError:
            case = Case.objects.get(shop=shop, external_ref=refund_id)
    changed: dict[str, Any] = {}
    if deadline and case.platform_deadline != deadline:
        changed["platform_deadline"] = deadline
    if (case.facts.get("platform_status"), case.facts.get("cs_status")) != (
        facts["platform_status"],
        facts["cs_status"],
    ):
        changed["facts"] = {**case.facts, **facts}
    if changed:
        before = {k: getattr(case, k) for k in changed}
        Case.objects.filter(pk=case.pk).update(**changed, updated_at=clock.now(), escalated_at=None)
        event_record(actor=actor, verb=Verb.CASE_PLATFORM_REFUND_UPDATED, subject=case, before=before, after=changed)
        case.refresh_from_db()
        return case, "updated"
    return case, "unchanged"


def _rating(value: Any) -> Decimal:
    text = str(value if value is not None else "").strip()
    try:
        number = Decimal(text)
    except ArithmeticError:
        raise ValueError(_("A rating is a number from 0 to 5, such as 4.85.")) from None
    if not number.is_finite() or not 0 <= number <= 5 or number != number.quantize(Decimal("0.01")):
        raise ValueError(_("A rating is a number from 0 to 5, such as 4.85."))
    return number.quantize(Decimal("0.01"))


@action(capability="orders.import", scope=("shop",))
def shop_ratings_record(*, actor: Actor, shop: Shop, ratings: list[dict[str, Any]]) -> dict[str, Any]:
    """The platform's DSR of some days (描述相符, 服务态度, 物流服务, 0–5 with two places), one row per
    day, idempotent: the same day again replaces its figures. Bad rows are reported by number."""
    created = updated = 0
    failed: list[dict[str, Any]] = []
    now = clock.now()
    for index, row in enumerate(ratings[:1000], start=1):
        try:
            try:
                day = dt.date.fromisoformat(str(row.get("day") or ""))
            except ValueError:
                raise ValueError(_("day must be a date like 2026-11-29.")) from None
            if not dt.date(2000, 1, 1) <= day <= clock.today():
                raise ValueError(_("day must lie between 2000-01-01 and today."))
            values = {key: _rating(row.get(key)) for key in ("description", "service", "logistics")}
        except (ValueError, ApplicationError) as exc:
            failed.append({"row": index, "reason": str(getattr(exc, "message", exc))})
            continue
        _row, new = ShopRating.objects.update_or_create(shop=shop, day=day, defaults={**values, "recorded_at": now})
        created += int(new)
        updated += int(not new)
    if created or updated:
        event_record(actor=actor, verb=Verb.SHOP_RATINGS_RECORDED, subject=shop, after={"days": created + updated})
    return {"created": created, "updated": updated, "failed": failed}


# --- negative reviews (R-AS-13) ----------------------------------------------------------------


@action(capability="cases.handle", scope=("shop", "order"))
def review_record(
    *,
    actor: Actor,
    shop: Shop,
    content: str,
    rating: int = 1,
    buyer_nick: str = "",
    order: Order | None = None,
    reviewed_at: dt.datetime | None = None,
) -> NegativeReview:
    if order is not None and order.shop_id != shop.pk:
        raise ApplicationError("review_order", _("The order belongs to another shop."))
    if not content.strip():
        raise ApplicationError("review_content", _("The review text is required."))
    product = None
    if order is not None:
        line = order.lines.select_related("product").first()
        product = line.product if line else None
    review = NegativeReview.objects.create(
        shop=shop,
        order=order,
        product=product,
        buyer_nick=buyer_nick[:100],
        rating=max(1, min(5, rating)),
        content=content,
        reviewed_at=reviewed_at or clock.now(),
    )
    event_record(actor=actor, verb=Verb.REVIEW_RECORDED, subject=review, after={"rating": review.rating})
    return review


@action(capability="cases.handle", scope=("shop",))
def review_sync(*, actor: Actor, shop: Shop, record: dict[str, Any]) -> tuple[NegativeReview | None, str]:
    """A platform rating read by a connector (``taobao.traderates.get``: ``tid``, ``oid``, ``nick``,
    ``result`` good/neutral/bad, ``content``, ``created``): a bad or neutral one becomes the day's
    negative review (R-AS-13), once — the order line's reference keys it. Good ones are not reviews
    to answer: ``"unchanged"``."""
    result = str(record.get("result") or "")
    if result not in {"bad", "neutral"}:
        return None, "unchanged"
    ref = f"{record.get('tid', '')}:{record.get('oid', '')}"[:64]
    if ref == ":":
        raise ApplicationError("review_order", _("The rating names no order."))
    found = NegativeReview.objects.filter(shop=shop, external_ref=ref).first()
    if found is not None:
        return found, "unchanged"
    content = str(record.get("content") or "").strip() or _("(no text: the buyer only rated)")
    order = Order.objects.filter(shop=shop, order_no=str(record.get("tid", ""))).first()
    try:
        with transaction.atomic():
            review = review_record(
                actor=actor,
                shop=shop,
                content=content[:2000],
                rating=1 if result == "bad" else 3,
                buyer_nick=str(record.get("nick") or ""),
                order=order,
                reviewed_at=_optional_moment(record.get("created")),
            )
            NegativeReview.objects.filter(pk=review.pk).update(external_ref=ref)
    except IntegrityError:  # read by two runs at once: the other one's review stands
        return NegativeReview.objects.get(shop=shop, external_ref=ref), "unchanged"
    return review, "created"


@action(capability="cases.handle", scope=("order",))
def trace_check(
    *, actor: Actor, order: Order, steps: list[tuple[dt.datetime, str]], company: str = "", tracking_no: str = ""
) -> tuple[Case | None, str]:
    """R-AS-10 from the courier's trace of a shipped order: when it has stalled (or never started)
    past the policy's hours, a logistics-exception case is opened — once per order — with the last
    step as its first fact. ``"created"`` when a case was opened, else ``"unchanged"``."""
    if order.shipped_at is None:
        return None, "unchanged"
    now = clock.now()
    hours = int(policy_in_force(clock.local_date(now)).aftersales.trace_stall_hours)
    verdict = rules.trace_exception(shipped_at=order.shipped_at, steps=steps, now=now, stall_hours=hours)
    if verdict is None:
        return None, "unchanged"
    ref = f"trace:{order.order_no}"[:64]
    if Case.objects.filter(shop_id=order.shop_id, external_ref=ref).exists():
        return None, "unchanged"
    last = max(steps, key=lambda s: s[0]) if steps else None
    summary = (
        _("The courier's trace has said nothing since %(at)s: %(words)s")
        % {"at": last[0].astimezone(clock.local_tz()).strftime("%m-%d %H:%M"), "words": last[1][:200]}
        if last
        else _("The parcel has no courier trace %(hours)s hours after shipping.") % {"hours": hours}
    )
    try:
        case = case_open(
            actor=actor,
            case_type="logistics_exception",
            order=order,
            facts={"courier_class": "difficult", "trace": verdict},
            summary=str(summary)[:500],
            reason=str(summary)[:100],
            external_ref=ref,
        )
    except IntegrityError:
        return None, "unchanged"
    event_record(actor=actor, verb=Verb.CASE_TRACE_STALLED, subject=case, data={"exception": verdict, "hours": hours})
    return case, "created"


@action(capability="cases.handle", scope=("review",))
def review_reply(*, actor: Actor, review: NegativeReview, reply: str, feedback_reason: str = "") -> NegativeReview:
    if not reply.strip():
        raise ApplicationError("review_reply", _("The explanation reply is required."))
    NegativeReview.objects.filter(pk=review.pk).update(
        reply=reply, replied_by=user_of(actor), replied_at=clock.now(), feedback_reason=feedback_reason[:100]
    )
    review.refresh_from_db()
    event_record(
        actor=actor, verb=Verb.REVIEW_REPLIED, subject=review, after={"reply": reply[:200], "feedback": feedback_reason}
    )
    return review


# --- disputes (R-AS-12) ------------------------------------------------------------------------


@action(capability="cases.handle", scope=("case",))
def dispute_pack(*, actor: Actor, case: Case, reason: str = "") -> bytes:
    """The appeal pack as one ZIP: summary, reason text, chat excerpts and every evidence file."""
    buf = io.BytesIO()
    decision = case_decision(case)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        summary = {
            "case": case.number,
            "type": case.case_type,
            "shop": case.shop.name,
            "order": case.order.order_no if case.order else None,
            "buyer": case.buyer_nick,
            "responsibility": case.responsibility,
            "opened_at": case.opened_at.isoformat(),
            "platform_deadline": case.platform_deadline.isoformat() if case.platform_deadline else None,
            "decision": decision.as_dict(),
            "evidence": [{"kind": e.kind, "name": e.original_name, "sha256": e.sha256} for e in case.evidence.all()],
        }
        archive.writestr("summary.json", json.dumps(summary, ensure_ascii=False, indent=2))
        archive.writestr("申诉理由.txt", reason or case.summary or "")
        chats = [e for e in case.evidence.all() if e.kind == "chat"]
        for index, evidence in enumerate(case.evidence.all(), start=1):
            with evidence.file.open("rb") as handle:
                archive.writestr(
                    f"evidence/{index:02d}-{evidence.kind}-{Path(evidence.file.name or 'file').name}", handle.read()
                )
        archive.writestr("聊天记录清单.txt", "\n".join(f"{e.original_name} {e.note}" for e in chats))
    event_record(actor=actor, verb=Verb.CASE_APPEAL_PACK_EXPORTED, subject=case, data={"files": case.evidence.count()})
    return buf.getvalue()
