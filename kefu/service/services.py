"""Field-service writes (SPEC §6). Every write is one action: capability and scope first, the change
and its timeline event in one transaction, messages to the customer through the outbox."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.commerce.models import Order
from kefu.core import clock
from kefu.core.actions import OPERATOR, action, is_operator
from kefu.core.actors import Actor, user_of
from kefu.core.errors import ApplicationError
from kefu.core.events import event_record
from kefu.core.outbox import outbox_put
from kefu.core.policy_store import policy_in_force
from kefu.org.models import Shop, Staff
from kefu.org.permissions import holders, staff_holds
from kefu.org.selectors import staff_of
from kefu.policies import care as care_rules
from kefu.policies import warranty
from kefu.policies.money import PRICE_MAX
from kefu.service.rules import Verb
from kefu.workflow import services as wf

from .models import (
    Agreement,
    AgreementBill,
    Billing,
    Channel,
    Part,
    PartKind,
    PlanItem,
    PlanState,
    ProofKind,
    RequestCategory,
    ServiceKind,
    ServiceRequest,
    StockEntry,
    StockKind,
)
from .notify import NOTIFY
from .selectors import (
    billing_plan,
    confirmation_text,
    covering_agreement,
    fault_causes,
    parts_on_request,
    plan_dates,
    settlement_figures,
    verdict_for,
)
from .workflow import REQUESTS

MAX_QUANTITY = 10_000


def _text(value: str, limit: int) -> str:
    return (value or "").strip()[:limit]


def _to(item: ServiceRequest, category: str, actor: Actor, note: str = "") -> None:
    """Move the request to its category's default label (through the core's guarded transition)."""
    if item.status.category != category:
        wf.transition(actor=actor, item=item, label=wf.default_label(REQUESTS, category), note=note)


def _locked(item: ServiceRequest) -> ServiceRequest:
    # the request row alone is locked, its status read after the lock: with the status joined, a
    # waiter whose request had changed status meanwhile found no row once the lock was granted
    # (PostgreSQL re-checks the join against the new row) — 22 of 50 parallel settlements
    # answered 500 (issue 16 §10)
    locked = ServiceRequest.objects.select_for_update().get(pk=item.pk)
    locked.status  # noqa: B018 — loaded now, inside the lock
    return locked


# --- intake and evaluation ---------------------------------------------------------------------------


def _create_request(
    *,
    actor: Actor,
    shop: Shop,
    channel: str,
    contact_name: str,
    contact_phone: str,
    product: str,
    fault: str,
    purchase_date: dt.date,
    part: str = PartKind.UNIT,
    serial_no: str = "",
    purchase_channel: str = "",
    address: str = "",
    order: Order | None = None,
    kind: str = ServiceKind.REPAIR,
    agreement: Agreement | None = None,
    due_on: dt.date | None = None,
    proof_kind: str = "",
    proof_ref: str = "",
) -> ServiceRequest:
    """A repair request by phone, online or WeChat (or a released plan item, a raised replacement);
    it gets its number and R-SVC-6's on-site timer."""
    if kind not in ServiceKind.values:
        raise ApplicationError("service_request", _("Choose the service item."))
    if agreement is not None and agreement.shop_id != shop.pk:
        raise ApplicationError("service_request", _("The agreement is not with this shop."))
    if agreement is not None and agreement.reviewed_at is None:
        raise ApplicationError("agreement", _("The agreement is not reviewed yet: it is not in effect."))
    if agreement is not None and kind == ServiceKind.REPAIR:
        # a repair under an agreement is for a unit it covers, while it runs (its discounts apply)
        if not any(p.get("serial_no") and p.get("serial_no") == (serial_no or "").strip() for p in agreement.products):
            raise ApplicationError("agreement", _("The agreement does not cover this serial number."))
        if not agreement.starts_on <= clock.today() <= agreement.ends_on:
            raise ApplicationError("agreement", _("The agreement is not running today."))
    if agreement is None and kind == ServiceKind.REPAIR and (serial_no or "").strip():
        # SPEC §6.1: a repair of a covered product links to its agreement (and gets its discounts)
        agreement = covering_agreement(shop=shop, serial_no=serial_no.strip(), on=clock.today())
    if channel not in Channel.values:
        raise ApplicationError("service_request", _("Choose how the request came in."))
    if part not in PartKind.values:
        raise ApplicationError("service_request", _("Choose whether the unit or an accessory failed."))
    for value, label in ((contact_name, _("contact")), (contact_phone, _("phone")), (product, _("product"))):
        if not (value or "").strip():
            raise ApplicationError("service_request", _("The %(field)s is required.") % {"field": label})
    if not (fault or "").strip():
        raise ApplicationError("service_request", _("Describe the fault."))
    if proof_kind and proof_kind not in ProofKind.values:
        raise ApplicationError("service_request", _("Choose the proof of purchase from the list."))
    today = clock.today()
    if purchase_date > today:
        raise ApplicationError("service_request", _("The purchase date is in the future."))
    if order is not None and order.shop_id != shop.pk:
        raise ApplicationError("service_request", _("The order is not from this shop."))
    now = clock.now()
    item = ServiceRequest.objects.create(
        number=f"tmp-{uuid.uuid4().hex[:16]}",
        shop=shop,
        order=order,
        customer_id=order.customer_id if order else None,
        channel=channel,
        kind=kind,
        agreement=agreement,
        contact_name=_text(contact_name, 64),
        contact_phone=_text(contact_phone, 32),
        address=_text(address, 200),
        product=_text(product, 120),
        serial_no=_text(serial_no, 64),
        part=part,
        purchase_date=purchase_date,
        purchase_channel=_text(purchase_channel, 64),
        fault=_text(fault, 2000),
        proof_kind=proof_kind,
        proof_ref=_text(proof_ref, 64) if proof_kind else "",
        owner=staff_of(actor),
        **{
            **wf.open_fields(REQUESTS, now),
            # R-SVC-6 (clarified): the 24-hour commitment is for repairs; planned work is due on its date
            **({"sla_due_at": clock.day_start(due_on + dt.timedelta(days=1))} if due_on is not None else {}),
        },
    )
    item.number = f"FW{clock.local_date(now):%Y%m%d}{item.pk:06d}"
    ServiceRequest.objects.filter(pk=item.pk).update(number=item.number)
    event_record(
        actor=actor,
        verb=Verb.SERVICE_REQUEST_CREATED,
        subject=item,
        after={"number": item.number, "channel": channel, "product": item.product, "on_site_due": item.sla_due_at},
    )
    return item


# A person takes a request with the intake capability; a rule (R-SVC-3/4, also from the daily job)
# raises its replacement work order through the same code without one.
request_create = action(capability="service.intake", scope=("shop", "order", "agreement"))(_create_request)


@action(capability="service.intake", scope=("item",))
def request_evaluate(
    *, actor: Actor, item: ServiceRequest, causes: list[str] | None = None, agreement_months: int | None = None
) -> ServiceRequest:
    """R-SVC-1 … R-SVC-4 on the request: the verdict is stored with the facts it was given; a due
    replacement (R-SVC-3/4) is raised on the request and in its timeline."""
    causes = [c for c in (causes or []) if c]
    unknown = [c for c in causes if c not in warranty.CAUSES]
    if unknown:
        raise ApplicationError("service_request", _("Unknown cause: %(cause)s") % {"cause": unknown[0][:40]})
    if agreement_months is not None and not 0 < agreement_months <= 1200:
        raise ApplicationError("service_request", _("The agreement's months must be from 1 to 1200."))
    item = _locked(item)
    if item.status.category not in (RequestCategory.NEW, RequestCategory.SCHEDULED):
        raise ApplicationError("transition", _("The warranty is evaluated before the visit starts."))
    if agreement_months is None and item.agreement_id:
        agreement_months = (
            Agreement.objects.filter(pk=item.agreement_id).values_list("warranty_months", flat=True).get()
        )
    _take_verdict(actor, item, causes=causes, agreement_months=agreement_months, verb=Verb.SERVICE_REQUEST_EVALUATED)
    return item


def _take_verdict(
    actor: Actor, item: ServiceRequest, *, causes: list[str], agreement_months: int | None, verb: str
) -> warranty.Verdict:
    """Take the warranty verdict on the request's current facts and store it (R-SVC-1 … R-SVC-4): at
    evaluation, and again whenever the facts change — the technician's findings (R-SVC-2, SPEC §6.1).
    The settlement always follows the latest verdict; a due replacement is raised once."""
    verdict = verdict_for(item, causes=causes, agreement_months=agreement_months)
    before = {
        "charge": item.charge,
        "causes": list(item.causes),
        "paid_reasons": list((item.verdict or {}).get("paid_reasons", [])),
        "replacement_due": item.replacement_due,
    }
    item.causes, item.agreement_months = causes, agreement_months
    # the facts are kept with the verdict: the page explains it again in its reader's language
    item.verdict = {**verdict.as_dict(), "warranty_ends": verdict.warranty_ends.isoformat(), "facts": verdict.facts}
    item.charge = verdict.charge
    item.replacement_due = verdict.replacement_due
    item.warranty_ends = verdict.warranty_ends
    item.evaluated_at = clock.now()
    item.updated_at = item.evaluated_at
    item.save(
        update_fields=[
            "causes",
            "agreement_months",
            "verdict",
            "charge",
            "replacement_due",
            "warranty_ends",
            "evaluated_at",
            "updated_at",
        ]
    )
    event_record(
        actor=actor,
        verb=verb,
        subject=item,
        before=before,
        after={
            "charge": verdict.charge,
            "causes": list(causes),
            "paid_reasons": verdict.paid_reasons,
            "replacement_due": verdict.replacement_due,
            "rules": verdict.rules,
        },
    )
    if verdict.replacement_due and not before["replacement_due"]:
        _raise_replacement(actor, item, verdict)
    return verdict


REPLACEMENT_REASONS = {
    "repeated_repairs": gettext_lazy("repaired twice in warranty and still failing (R-SVC-3)"),
    "not_repaired_in_time": gettext_lazy("not repaired within the policy's days (R-SVC-4)"),
}


def _raise_replacement(actor: Actor, item: ServiceRequest, verdict: warranty.Verdict) -> ServiceRequest | None:
    """R-SVC-3/4: the replacement becomes a work order of its own (same customer and unit), once per
    request, with the reason; the original carries the flag and the event."""
    event_record(
        actor=actor,
        verb=Verb.SERVICE_REQUEST_REPLACEMENT_DUE,
        subject=item,
        after={"reason": verdict.replacement_reason, "rules": verdict.rules},
    )
    if ServiceRequest.objects.filter(replaces=item).exists():
        return None
    if (
        item.serial_no
        and ServiceRequest.objects.filter(kind=ServiceKind.REPLACEMENT, serial_no=item.serial_no)
        .exclude(status__category=RequestCategory.CLOSED)
        .exists()
    ):
        return None  # a replacement of this unit is already under way: one is enough
    reason = REPLACEMENT_REASONS.get(verdict.replacement_reason, verdict.replacement_reason)
    # raised by the rule (also from the daily job), not by a person taking a call: no intake capability
    work = _create_request(
        actor=actor,
        shop=item.shop,
        channel=item.channel,
        kind=ServiceKind.REPLACEMENT,
        agreement=item.agreement,
        order=item.order,
        contact_name=item.contact_name,
        contact_phone=item.contact_phone,
        address=item.address,
        product=item.product,
        serial_no=item.serial_no,
        part=item.part,
        purchase_date=item.purchase_date,
        purchase_channel=item.purchase_channel,
        fault=_("Replace it with the same model: %(reason)s; request %(number)s.")
        % {"reason": reason, "number": item.number},
    )
    ServiceRequest.objects.filter(pk=work.pk).update(replaces=item)
    work.replaces = item
    event_record(
        actor=actor, verb=Verb.SERVICE_REQUEST_REPLACEMENT_RAISED, subject=item, after={"request": work.number}
    )
    return work


# --- appointment and visit ------------------------------------------------------------------------


@action(capability="service.dispatch", scope=("item", "technician"))
def appointment_set(
    *, actor: Actor, item: ServiceRequest, technician: Staff, at: dt.datetime, reason: str = ""
) -> ServiceRequest:
    """Appoint a technician and a time; the confirmation goes to the customer after commit.
    R-SVC-6 (clarified): a repair appointed after its 24-hour commitment records the customer's
    reason (the customer asked for a later time), or is flagged as a miss."""
    if not staff_holds(technician, "service.attend"):
        raise ApplicationError("service_request", _("Choose an active technician."))
    if at < clock.now() - dt.timedelta(minutes=5):
        raise ApplicationError("service_request", _("The appointment is in the past."))
    item = _locked(item)
    if item.status.category not in (RequestCategory.NEW, RequestCategory.SCHEDULED):
        raise ApplicationError("transition", _("The visit has already started."))
    if not item.evaluated_at:
        raise ApplicationError("service_request", _("Evaluate the request (warranty) before the appointment."))
    if (
        item.status.category == RequestCategory.SCHEDULED
        and item.technician_id == technician.pk
        and item.appointment_at == at
    ):
        return item  # the same appointment again (a resent form, a double click): no second SMS
    reason = _text(reason, 200)
    late = item.kind == ServiceKind.REPAIR and item.sla_due_at is not None and at > item.sla_due_at
    text = confirmation_text(item, technician, at)
    # the one write path of an assignee: the workflow core (the appointment's fields go with it)
    wf.assign(
        actor=actor,
        item=item,
        assignee=technician,
        also={
            "appointment_at": at,
            "appointment_reason": reason if late else "",
            "commitment_missed": late and not reason,
        },
        verb=Verb.SERVICE_REQUEST_APPOINTED,
        shown={"message": text},
    )
    if late:
        event_record(
            actor=actor,
            verb=Verb.SERVICE_REQUEST_COMMITMENT_MISSED if not reason else "service_request.later_by_request",
            subject=item,
            after={"appointment": at, "on_site_due": item.sla_due_at, "reason": reason, "rule": "R-SVC-6"},
        )
    _to(item, RequestCategory.SCHEDULED, actor)
    outbox_put(NOTIFY, {"request": item.pk, "phone": item.contact_phone, "text": text})
    return item


def _visit_actor(actor: Actor, item: ServiceRequest) -> None:
    """The request's technician works the visit (the supervisor and deputy may stand in)."""
    if is_operator(actor):
        return
    me = staff_of(actor)
    if me is None or (me.position in holders("service.attend") and me.pk != item.technician_id):
        raise ApplicationError("not_found", _("Not found"), status=404)


@action(capability="service.visit", scope=("item",))
def visit_arrive(*, actor: Actor, item: ServiceRequest) -> ServiceRequest:
    """The technician is on site: R-SVC-6's timer stops (met when on time, breached stays recorded)."""
    item = _locked(item)
    _visit_actor(actor, item)
    if item.status.category != RequestCategory.SCHEDULED:
        raise ApplicationError("transition", _("Only a scheduled visit can start."))
    now = clock.now()
    on_time = item.sla_due_at is None or now <= item.sla_due_at
    ServiceRequest.objects.filter(pk=item.pk).update(on_site_at=now, updated_at=now)
    item.on_site_at = now
    _to(item, RequestCategory.ON_SITE, actor)
    event_record(
        actor=actor,
        verb=Verb.SERVICE_REQUEST_ARRIVED,
        subject=item,
        after={"at": now, "on_time": on_time, "on_site_due": item.sla_due_at, "rule": "R-SVC-6"},
    )
    return item


# R-SVC-2 (SPEC §6.1): what the technician can find on site that makes a repair paid.
SITE_FINDINGS = ("misuse", "model_mismatch", "altered", "force_majeure")


@action(capability="service.visit", scope=("item",))
def visit_diagnose(
    *,
    actor: Actor,
    item: ServiceRequest,
    diagnosis: str,
    parts_consent: bool = False,
    fault_cause: str = "",
    findings: list[str] | None = None,
) -> ServiceRequest:
    """The diagnosis with its cause (from the policy's catalogue, for 产品故障原因分析), the
    technician's findings that make the repair paid (R-SVC-2: misuse, a mismatched or altered model,
    force majeure) and whether the customer agreed to parts (seed 003: 征得客户同意). New findings
    take the verdict again; a consent given before a changed verdict no longer stands — the customer
    consents to the price the latest verdict shows."""
    causes = dict(fault_causes())
    if fault_cause and fault_cause not in causes:
        raise ApplicationError("service_request", _("Choose a fault cause from the list."))
    findings = [f for f in (findings or []) if f]
    if any(f not in SITE_FINDINGS for f in findings):
        raise ApplicationError("service_request", _("Unknown finding: %(cause)s") % {"cause": findings[0][:40]})
    item = _locked(item)
    _visit_actor(actor, item)
    if item.status.category != RequestCategory.ON_SITE:
        raise ApplicationError("transition", _("Record the diagnosis during the visit."))
    if not (diagnosis or "").strip():
        raise ApplicationError("service_request", _("Describe the diagnosis."))
    now = clock.now()
    before = {"diagnosis": item.diagnosis, "consent": bool(item.parts_consent_at)}
    new = [f for f in findings if f not in item.causes]
    changed = False
    if new:
        charge = item.charge
        _take_verdict(
            actor,
            item,
            causes=[*item.causes, *new],
            agreement_months=item.agreement_months,
            verb=Verb.SERVICE_REQUEST_REEVALUATED,
        )
        if item.charge != charge:
            item.parts_consent_at = None  # consent covers the price shown, which has changed
            changed = True
    item.diagnosis = _text(diagnosis, 2000)
    item.fault_cause = fault_cause or item.fault_cause
    # a consent sent with findings was given for the price shown before them (and a repeat of that
    # post must not slip it in): the customer consents in a post of its own
    if parts_consent and not item.parts_consent_at and not changed and not findings:
        item.parts_consent_at = now
        item.verdict = {**item.verdict, "consented_charge": item.charge}
    item.updated_at = now
    item.save(update_fields=["diagnosis", "fault_cause", "parts_consent_at", "verdict", "updated_at"])
    event_record(
        actor=actor,
        verb=Verb.SERVICE_REQUEST_DIAGNOSED,
        subject=item,
        before=before,
        # the cause as the policy's catalogue words it (the catalogue is data, not a translatable code)
        after={
            "diagnosis": item.diagnosis,
            "cause": causes.get(item.fault_cause, item.fault_cause),
            "consent": bool(item.parts_consent_at),
            "charge": item.charge,
        },
    )
    return item


@action(capability="service.visit", scope=("item",))
def visit_step(*, actor: Actor, item: ServiceRequest, code: str, done: bool) -> ServiceRequest:
    """Tick a step of the visit checklist: the request's technician, during the visit."""
    item = _locked(item)
    _visit_actor(actor, item)
    if item.status.category != RequestCategory.ON_SITE:
        raise ApplicationError("transition", _("The checklist is ticked during the visit."))
    return wf.checklist_toggle(actor=actor, item=item, code=code, done=done)  # type: ignore[no-any-return]


@action(capability="service.visit", scope=("item",))
def bring_in(*, actor: Actor, item: ServiceRequest, taken: str, loaner: str = "") -> ServiceRequest:
    """R-SVC-7 (003 需运回公司用户服务中心修理): the repair cannot be done on site — the unit goes to the
    service centre with a receipt of what was taken, and a loaner unit or a temporary solution is
    offered (修理期间我们将提供替换机或临时解决方案) and tracked until returned. The days there count as
    days in repair (R-SVC-4/5)."""
    item = _locked(item)
    _visit_actor(actor, item)
    if item.status.category != RequestCategory.ON_SITE:
        raise ApplicationError("transition", _("The unit is taken in during the visit."))
    if item.brought_in_at:
        raise ApplicationError("changed", _("The unit is already at the service centre."), status=409)
    taken = _text(taken, 300)
    if not taken:
        raise ApplicationError("service_request", _("Write down what is taken (the customer's receipt)."))
    now = clock.now()
    item.brought_in_at, item.brought_in_items, item.updated_at = now, taken, now
    item.loaner = _text(loaner, 200)
    item.loaner_out_at = now if item.loaner else None
    item.save(update_fields=["brought_in_at", "brought_in_items", "loaner", "loaner_out_at", "updated_at"])
    event_record(
        actor=actor,
        verb=Verb.SERVICE_REQUEST_BROUGHT_IN,
        subject=item,
        after={"taken": taken, "loaner": item.loaner, "rule": "R-SVC-7"},
    )
    return item


@action(capability="service.visit", scope=("item",))
def bring_back(*, actor: Actor, item: ServiceRequest) -> ServiceRequest:
    """R-SVC-7: the repaired unit is back with the customer (then the report is signed)."""
    item = _locked(item)
    _visit_actor(actor, item)
    now = clock.now()
    if not ServiceRequest.objects.filter(pk=item.pk, brought_in_at__isnull=False, brought_back_at__isnull=True).update(
        brought_back_at=now, updated_at=now
    ):
        raise ApplicationError("changed", _("The unit is not at the service centre."), status=409)
    item.brought_back_at = now
    days = (clock.local_date(now) - clock.local_date(item.brought_in_at)).days if item.brought_in_at else 0
    event_record(actor=actor, verb=Verb.SERVICE_REQUEST_BROUGHT_BACK, subject=item, after={"days_in_repair": days})
    return item


@action(capability="service.visit", scope=("item",))
def loaner_return(*, actor: Actor, item: ServiceRequest) -> ServiceRequest:
    """R-SVC-7: the loaner unit is back (once)."""
    now = clock.now()
    if not ServiceRequest.objects.filter(pk=item.pk, loaner_out_at__isnull=False, loaner_back_at__isnull=True).update(
        loaner_back_at=now, updated_at=now
    ):
        raise ApplicationError("changed", _("No loaner is out on this request."), status=409)
    item.loaner_back_at = now
    event_record(actor=actor, verb=Verb.SERVICE_REQUEST_LOANER_RETURNED, subject=item, after={"loaner": item.loaner})
    return item


@action(capability="service.intake", scope=("item",))
def request_refer(*, actor: Actor, item: ServiceRequest) -> ServiceRequest:
    """R-SVC-8 (003 不属于公司用户服务中心上门的区域): a request outside the service area goes to the sales
    point that serves it, with the customer's contact; it stays open until the referral is followed
    up, so the customer never calls twice."""
    item = _locked(item)
    if item.status.category not in (RequestCategory.NEW, RequestCategory.SCHEDULED):
        raise ApplicationError("transition", _("A request is referred before the visit."))
    point = warranty.referral(policy_in_force().document, item.address)
    if point is None:
        raise ApplicationError("service_request", _("The service centre visits this address: no referral."))
    now = clock.now()
    item.referred_to = _text(f"{point['name']} {point['phone']}", 120)
    item.referred_at, item.updated_at = now, now
    item.save(update_fields=["referred_to", "referred_at", "updated_at"])
    event_record(
        actor=actor,
        verb=Verb.SERVICE_REQUEST_REFERRED,
        subject=item,
        after={"to": item.referred_to, "customer": f"{item.contact_name} {item.contact_phone}", "rule": "R-SVC-8"},
    )
    return item


@action(capability="service.intake", scope=("item",))
def referral_follow_up(*, actor: Actor, item: ServiceRequest, outcome: str) -> ServiceRequest:
    """R-SVC-8: the referral is followed up (did the sales point serve the customer?) and the
    request closes."""
    outcome = _text(outcome, 300)
    if not outcome:
        raise ApplicationError("service_request", _("What did the sales point do for the customer?"))
    item = _locked(item)
    if not item.referred_at:
        raise ApplicationError("service_request", _("The request was not referred."))
    now = clock.now()
    if not ServiceRequest.objects.filter(pk=item.pk, referral_followed_at__isnull=True).update(
        referral_followed_at=now, referral_outcome=outcome, updated_at=now
    ):
        raise ApplicationError("changed", _("The referral is already followed up."), status=409)
    item.referral_followed_at, item.referral_outcome = now, outcome
    _to(item, RequestCategory.CLOSED, actor, note=outcome)
    event_record(actor=actor, verb=Verb.SERVICE_REQUEST_REFERRAL_FOLLOWED, subject=item, after={"outcome": outcome})
    return item


@action(capability=OPERATOR)
def replacements_sweep(*, actor: Actor = None) -> int:
    """R-SVC-4 for requests still being worked: a free repair not completed ``repair_max_days`` after
    the request is flagged for replacement (daily; once per request)."""
    limit = int(policy_in_force().service.repair_max_days)
    cutoff = clock.day_start(clock.today() - dt.timedelta(days=limit)) + dt.timedelta(days=1)
    flagged = 0
    due = ServiceRequest.objects.filter(
        replacement_due=False, signed_at__isnull=True, opened_at__lt=cutoff, evaluated_at__isnull=False
    ).exclude(status__category=RequestCategory.CLOSED)
    for item in due.select_related("status"):
        verdict = verdict_for(item, causes=list(item.causes), agreement_months=item.agreement_months)
        if not verdict.replacement_due:
            continue
        if ServiceRequest.objects.filter(pk=item.pk, replacement_due=False).update(replacement_due=True):
            _raise_replacement(actor, item, verdict)
            flagged += 1
    return flagged


# --- stock ----------------------------------------------------------------------------------------


def _quantity(quantity: int) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 < quantity <= MAX_QUANTITY:
        raise ApplicationError(
            "stock", _("The quantity must be a whole number from 1 to %(top)s.") % {"top": MAX_QUANTITY}
        )
    return quantity


def _move(part: Part, kind: str, delta: int, **fields: Any) -> StockEntry:
    """One stock movement: the balance changes by a conditional UPDATE that never lets it go below
    zero (so 50 simultaneous issues of the last part give one issue and 49 refusals), and the ledger
    row carries the balance after it."""
    if delta < 0:
        changed = Part.objects.filter(pk=part.pk, on_hand__gte=-delta).update(on_hand=F("on_hand") + delta)
        if not changed:
            raise ApplicationError("stock_short", _("Not enough %(part)s in stock.") % {"part": part.name}, status=409)
    else:
        Part.objects.filter(pk=part.pk).update(on_hand=F("on_hand") + delta)
    balance = Part.objects.filter(pk=part.pk).values_list("on_hand", flat=True).get()
    return StockEntry.objects.create(part=part, kind=kind, quantity=delta, balance=balance, at=clock.now(), **fields)


@action(capability="stock.receive")
def stock_receive(*, actor: Actor, part: Part, quantity: int, note: str = "", key: str | None = None) -> StockEntry:
    _quantity(quantity)
    # the part's row first: the same receipt sent 100 times at once waits here, then finds the first
    list(Part.objects.select_for_update().filter(pk=part.pk).values_list("pk", flat=True))
    if key and (done := StockEntry.objects.filter(idempotency_key=key).first()):
        return done
    try:
        with transaction.atomic():  # a savepoint: a receipt another request stored meanwhile is that one
            entry = _move(
                part,
                StockKind.RECEIVED,
                quantity,
                by=user_of(actor),
                note=_text(note, 200),
                idempotency_key=key or None,
                unit_price=part.price,
            )
    except IntegrityError:
        if not key:
            raise
        return StockEntry.objects.get(idempotency_key=key)
    event_record(
        actor=actor, verb=Verb.STOCK_RECEIVED, subject=part, after={"quantity": quantity, "balance": entry.balance}
    )
    return entry


@action(capability="service.visit", scope=("item",))
def parts_issue(
    *, actor: Actor, item: ServiceRequest, part: Part, quantity: int = 1, key: str | None = None
) -> StockEntry:
    """Parts requisition for the visit, after the customer agreed; never below zero in stock.
    ``key`` makes a resent form (double click, two tabs) one issue."""
    _quantity(quantity)
    item = _locked(item)
    _visit_actor(actor, item)
    if key and (done := StockEntry.objects.filter(idempotency_key=key, request=item).first()):
        return done
    if item.status.category != RequestCategory.ON_SITE:
        raise ApplicationError("transition", _("Parts are issued during the visit."))
    if not item.parts_consent_at:
        raise ApplicationError("service_request", _("Record the customer's consent to parts first."))
    try:
        with transaction.atomic():
            entry = _move(
                part,
                StockKind.ISSUED,
                -quantity,
                request=item,
                by=user_of(actor),
                unit_price=part.price,
                idempotency_key=key or None,
            )
    except IntegrityError:
        done = StockEntry.objects.filter(idempotency_key=key).first() if key else None
        if done is None:
            raise
        return done
    event_record(
        actor=actor,
        verb=Verb.STOCK_ISSUED,
        subject=item,
        after={"spare_part": f"{part.code} {part.name}", "quantity": quantity, "balance": entry.balance},
    )
    return entry


@action(capability="service.visit", scope=("item",))
def parts_return(*, actor: Actor, item: ServiceRequest, part: Part, quantity: int = 1) -> StockEntry:
    """An unused part back to stock (at most what the request holds)."""
    _quantity(quantity)
    item = _locked(item)
    _visit_actor(actor, item)
    if item.status.category not in (RequestCategory.ON_SITE, RequestCategory.SIGNED):
        raise ApplicationError("transition", _("Parts are returned before the settlement."))
    held = parts_on_request(item).get(part.pk, 0)
    if quantity > held:
        raise ApplicationError("stock", _("The request holds only %(n)s of this part.") % {"n": held})
    entry = _move(
        part,
        StockKind.RETURNED,
        quantity,
        request=item,
        by=user_of(actor),
        unit_price=part.price,
    )
    event_record(actor=actor, verb=Verb.STOCK_RETURNED, subject=item, after={"part": part.code, "quantity": quantity})
    return entry


# --- acceptance and settlement --------------------------------------------------------------------


MAX_SIGNATURE = 60_000


def _signature(svg_path: str) -> str:
    """The signature as drawn: SVG path data only (M/L/Q commands and numbers), nothing that runs."""
    from .report import signature_strokes

    data = (svg_path or "").strip()
    if (
        not data
        or len(data) > MAX_SIGNATURE
        or any(c not in "MLQmlq0123456789., -" for c in data)
        or signature_strokes(data, strict=True) is None  # "L 1.2.3 40" passed the characters, then the PDF failed
    ):
        raise ApplicationError("signature", _("The customer's signature is missing or not a drawing."))
    return data


@action(capability="service.visit", scope=("item",))
def report_sign(*, actor: Actor, item: ServiceRequest, signed_by: str, signature: str) -> ServiceRequest:
    """The customer accepts the work by signing the service report (客户服务报告) on the device."""
    item = _locked(item)
    _visit_actor(actor, item)
    if item.status.category != RequestCategory.ON_SITE:
        raise ApplicationError("transition", _("The report is signed at the end of the visit."))
    if item.brought_in_at and not item.brought_back_at:
        raise ApplicationError(
            "service_request", _("The unit is still at the service centre: bring it back before the customer signs.")
        )
    if item.loaner_out_at and not item.loaner_back_at:
        raise ApplicationError(
            "service_request", _("The loaner is still with the customer: take it back before the customer signs.")
        )
    if item.charge == "paid" and not item.parts_consent_at:
        # R-SVC-2 (SPEC §6.1): a paid repair is signed for only after the customer agreed to its price
        raise ApplicationError(
            "service_request", _("A paid repair: record the customer's consent to the price before they sign.")
        )
    if not item.diagnosis:
        raise ApplicationError("service_request", _("Record the diagnosis before the customer signs."))
    if not (signed_by or "").strip():
        raise ApplicationError("signature", _("Who signed?"))
    now = clock.now()
    item.signed_by, item.signature, item.signed_at, item.updated_at = (
        _text(signed_by, 64),
        _signature(signature),
        now,
        now,
    )
    item.save(update_fields=["signed_by", "signature", "signed_at", "updated_at"])
    _to(item, RequestCategory.SIGNED, actor)
    event_record(actor=actor, verb=Verb.SERVICE_REQUEST_SIGNED, subject=item, after={"signed_by": item.signed_by})
    return item


@action(capability="service.settle", scope=("item",))
def request_settle(
    *, actor: Actor, item: ServiceRequest, labour: Decimal, discount_percent: Decimal = Decimal(0)
) -> ServiceRequest:
    """Settlement: parts + labour, minus the agreement's discounts on parts and labour (or the
    discount given here, for a customer without one) and the warranty (a free repair costs nothing)."""
    if not Decimal(0) <= labour <= PRICE_MAX or not Decimal(0) <= discount_percent <= 100:
        raise ApplicationError(
            "amount",
            _("Labour must be an amount from 0 to %(top)s and the discount from 0 to 100%%.") % {"top": PRICE_MAX},
        )
    item = _locked(item)
    if item.settled_at is not None:
        raise ApplicationError("changed", _("Already settled."), status=409)
    if item.status.category != RequestCategory.SIGNED:
        raise ApplicationError("transition", _("Settle after the customer has signed the report."))
    agreement = Agreement.objects.filter(pk=item.agreement_id).first() if item.agreement_id else None
    if agreement is not None:
        rates = (agreement.parts_discount, agreement.labour_discount)
    else:
        rates = (discount_percent, discount_percent)
    figures = settlement_figures(item, labour.quantize(Decimal("0.01")) + 0, *rates)
    now = clock.now()
    updated = ServiceRequest.objects.filter(pk=item.pk, settled_at__isnull=True).update(
        labour=figures["labour"],
        parts_amount=figures["parts"],
        discount=figures["discount"],
        amount_due=figures["due"],
        settled_at=now,
        updated_at=now,
    )
    if not updated:
        raise ApplicationError("changed", _("Already settled."), status=409)
    item.refresh_from_db()
    if figures["due"] > 0:
        # R-SVC-9: a paid repair gets the company's receipt (统一收据), numbered once
        item.receipt_no = f"SJ{clock.local_date(now):%Y%m%d}{item.pk:06d}"
        ServiceRequest.objects.filter(pk=item.pk).update(receipt_no=item.receipt_no)
    _to(item, RequestCategory.SETTLED, actor)
    event_record(
        actor=actor,
        verb=Verb.SERVICE_REQUEST_SETTLED,
        subject=item,
        after={
            "parts_amount": figures["parts"],
            "labour": figures["labour"],
            "discount": figures["discount"],
            "amount_due": figures["due"],
            "receipt": item.receipt_no,
        },
    )
    return item


@action(capability="service.intake", scope=("item",))
def request_return_visit(*, actor: Actor, item: ServiceRequest, satisfaction: int, notes: str = "") -> ServiceRequest:
    """The return visit after the work (seed 003: 了解机器修复后使用情况和服务情况): satisfaction 1–5 and
    what the customer said; never in the customer's rest hours (R-CARE-3). Closes the request."""
    if isinstance(satisfaction, bool) or not isinstance(satisfaction, int) or not 1 <= satisfaction <= 5:
        raise ApplicationError("service_request", _("Satisfaction is from 1 to 5."))
    now = clock.now()
    windows = policy_in_force().care.rest_windows
    if care_rules.in_rest_hours(now.astimezone(clock.local_tz()).time(), windows):
        raise ApplicationError("rest_hours", _("It is the customer's rest time; call back outside it (R-CARE-3)."))
    item = _locked(item)
    if item.visited_at is not None:
        raise ApplicationError("changed", _("The return visit is already recorded."), status=409)
    if item.status.category != RequestCategory.SETTLED:
        raise ApplicationError("transition", _("The return visit follows the settlement."))
    updated = ServiceRequest.objects.filter(pk=item.pk, visited_at__isnull=True).update(
        visited_at=now, satisfaction=satisfaction, visit_notes=_text(notes, 2000), updated_at=now
    )
    if not updated:
        raise ApplicationError("changed", _("The return visit is already recorded."), status=409)
    item.refresh_from_db()
    _to(item, RequestCategory.CLOSED, actor)
    event_record(
        actor=actor,
        verb=Verb.SERVICE_REQUEST_VISITED,
        subject=item,
        after={"satisfaction": satisfaction, "notes": notes[:300]},
    )
    return item


# --- agreements and proactive plans (seed 003 §1–2) -----------------------------------------------

PLAN_KINDS = (
    (ServiceKind.RETURN_VISIT, "return_visit_every_months"),
    (ServiceKind.MAINTENANCE, "maintenance_every_months"),
    (ServiceKind.SERVICE, "service_every_months"),
)
MAX_AGREEMENT_YEARS = 10


@action(capability="agreements.manage", scope=("shop",))
def agreement_create(
    *,
    actor: Actor,
    shop: Shop,
    customer_name: str,
    contact_name: str,
    contact_phone: str,
    products: list[dict[str, str]],
    starts_on: dt.date,
    ends_on: dt.date,
    fee: Decimal,
    billing: str,
    parts_discount: Decimal = Decimal(0),
    labour_discount: Decimal = Decimal(0),
    warranty_months: int | None = None,
    address: str = "",
    visits: dict[str, int] | None = None,
) -> Agreement:
    """A service agreement: its receivables by the billing plan and its proactive plan (the policy's
    preset: monthly return visit, quarterly maintenance, yearly service) are generated with it, the
    plan items waiting for review."""
    if billing not in Billing.values:
        raise ApplicationError("agreement", _("Choose a billing plan."))
    if not starts_on <= ends_on <= warranty.add_months(starts_on, 12 * MAX_AGREEMENT_YEARS):
        raise ApplicationError("agreement", _("The agreement ends before it starts, or runs over ten years."))
    if not Decimal(0) <= fee <= PRICE_MAX:
        raise ApplicationError("amount", _("The fee is not a valid amount."))
    for rate in (parts_discount, labour_discount):
        if not Decimal(0) <= rate <= 100:
            raise ApplicationError("amount", _("A discount is from 0 to 100%."))
    if warranty_months is not None and not 1 <= warranty_months <= 1200:
        raise ApplicationError("agreement", _("The agreement's months must be from 1 to 1200."))
    cleaned = [
        {"product": _text(str(p.get("product", "")), 120), "serial_no": _text(str(p.get("serial_no", "")), 64)}
        for p in products[:200]
        if str(p.get("product", "")).strip()
    ]
    if not cleaned:
        raise ApplicationError("agreement", _("Name at least one covered product."))
    for value in (customer_name, contact_name, contact_phone):
        if not (value or "").strip():
            raise ApplicationError("agreement", _("The customer, the contact and the phone are required."))
    preset = policy_in_force(starts_on).service.agreement_plan
    schedule: dict[str, int] = {str(kind): int(getattr(preset, key)) for kind, key in PLAN_KINDS}
    for kind, months in (visits or {}).items():
        if kind in schedule and isinstance(months, int) and 0 <= months <= 120:
            schedule[kind] = months
    now = clock.now()
    agreement = Agreement.objects.create(
        number=f"tmp-{uuid.uuid4().hex[:16]}",
        shop=shop,
        customer_name=_text(customer_name, 100),
        contact_name=_text(contact_name, 64),
        contact_phone=_text(contact_phone, 32),
        address=_text(address, 200),
        products=cleaned,
        starts_on=starts_on,
        ends_on=ends_on,
        fee=fee.quantize(Decimal("0.01")) + 0,
        billing=billing,
        parts_discount=parts_discount,
        labour_discount=labour_discount,
        warranty_months=warranty_months,
        visits=schedule,
        created_at=now,
        created_by=user_of(actor),
    )
    agreement.number = f"XY{starts_on:%Y%m}{agreement.pk:05d}"
    Agreement.objects.filter(pk=agreement.pk).update(number=agreement.number)
    bills = billing_plan(agreement)
    AgreementBill.objects.bulk_create(AgreementBill(agreement=agreement, due_on=d, amount=a) for d, a in bills)
    plan = plan_dates(agreement)
    PlanItem.objects.bulk_create(PlanItem(agreement=agreement, kind=k, due_on=d) for k, d in plan)
    event_record(
        actor=actor,
        verb=Verb.AGREEMENT_CREATED,
        subject=agreement,
        after={"agreement": agreement.number, "fee": agreement.fee, "bills": len(bills), "plan": len(plan)},
    )
    return agreement


@action(capability="agreements.review", scope=("agreement",))
def agreement_review(*, actor: Actor, agreement: Agreement) -> Agreement:
    """SPEC §6.1: the supervisor reviews (审核) the agreement; it takes effect then, once."""
    now = clock.now()
    if not Agreement.objects.filter(pk=agreement.pk, reviewed_at__isnull=True).update(
        reviewed_at=now, reviewed_by=user_of(actor)
    ):
        raise ApplicationError("changed", _("The agreement is already reviewed."), status=409)
    agreement.reviewed_at, agreement.reviewed_by = now, user_of(actor)
    event_record(actor=actor, verb=Verb.AGREEMENT_REVIEWED, subject=agreement, after={"agreement": agreement.number})
    return agreement


@action(capability="agreements.manage", scope=("bill",))
def bill_pay(*, actor: Actor, bill: AgreementBill) -> AgreementBill:
    """A receivable paid, once (a double click records one payment); only of an agreement in effect."""
    if not Agreement.objects.filter(pk=bill.agreement_id, reviewed_at__isnull=False).exists():
        raise ApplicationError("agreement", _("The agreement is not reviewed yet: it is not in effect."))
    now = clock.now()
    if not AgreementBill.objects.filter(pk=bill.pk, paid_at__isnull=True).update(paid_at=now):
        raise ApplicationError("changed", _("This bill is already paid."), status=409)
    bill.paid_at = now
    event_record(
        actor=actor,
        verb=Verb.AGREEMENT_BILL_PAID,
        subject=bill.agreement,
        after={"due_on": bill.due_on, "amount": bill.amount},
    )
    return bill


@action(capability="service.dispatch", scope=("item",))
def plan_decide(*, actor: Actor, item: PlanItem, state: str) -> PlanItem:
    """Review a plan item (reviewed) or skip it; a released item does not change."""
    if state not in (PlanState.REVIEWED, PlanState.SKIPPED, PlanState.DRAFT):
        raise ApplicationError("agreement", _("Unknown plan state."))
    before = item.state
    if not PlanItem.objects.filter(pk=item.pk).exclude(state=PlanState.RELEASED).update(state=state):
        raise ApplicationError("changed", _("This plan item is already released."), status=409)
    item.state = state
    event_record(
        actor=actor,
        verb=Verb.AGREEMENT_PLAN_DECIDED,
        subject=item.agreement,
        before={"state": before},
        after={"state": state, "kind": item.kind, "due_on": item.due_on},
    )
    return item


@action(capability="service.dispatch", scope=("item",))
def plan_release(*, actor: Actor, item: PlanItem) -> ServiceRequest:
    """Release a reviewed plan item as a work order (a service request), once; due on its plan date."""
    agreement = Agreement.objects.select_related("shop").get(pk=item.agreement_id)
    if agreement.reviewed_at is None:
        raise ApplicationError("agreement", _("The agreement is not reviewed yet: it is not in effect."))
    if not PlanItem.objects.filter(pk=item.pk, state=PlanState.REVIEWED).update(state=PlanState.RELEASED):
        raise ApplicationError("changed", _("Only a reviewed plan item is released, and only once."), status=409)
    first = agreement.products[0] if agreement.products else {"product": "", "serial_no": ""}
    work = request_create(
        actor=actor,
        shop=agreement.shop,
        channel=Channel.PLAN,
        kind=item.kind,
        agreement=agreement,
        contact_name=agreement.contact_name,
        contact_phone=agreement.contact_phone,
        address=agreement.address,
        product=first["product"] or agreement.customer_name,
        serial_no=first.get("serial_no", ""),
        purchase_date=min(agreement.starts_on, clock.today()),
        fault=_("%(kind)s due %(due)s under agreement %(number)s")
        % {"kind": ServiceKind(item.kind).label, "due": item.due_on.isoformat(), "number": agreement.number},
        due_on=item.due_on,
    )
    PlanItem.objects.filter(pk=item.pk).update(request=work)
    event_record(
        actor=actor,
        verb=Verb.AGREEMENT_PLAN_RELEASED,
        subject=agreement,
        after={"request": work.number, "due_on": item.due_on},
    )
    return work


@action(capability="stock.receive")
def part_create(*, actor: Actor, code: str, name: str, price: Decimal) -> Part:
    """A spare part in the catalogue (its stock starts at zero; receive it)."""
    code, name = _text(code, 40), _text(name, 120)
    if not code or not name:
        raise ApplicationError("stock", _("A part needs a code and a name."))
    if not Decimal(0) <= price <= PRICE_MAX or price != price.quantize(Decimal("0.01")):
        raise ApplicationError("amount", _("The price is not a valid amount."))
    price = price + 0  # -0 is 0
    if Part.objects.filter(code=code).exists():
        raise ApplicationError("stock", _("A part with this code exists."))
    part = Part.objects.create(code=code, name=name, price=price.quantize(Decimal("0.01")))
    event_record(
        actor=actor, verb=Verb.STOCK_PART_CREATED, subject=part, after={"code": code, "name": name, "price": price}
    )
    return part
