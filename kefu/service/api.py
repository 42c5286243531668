"""Field-service API: every step of a work order a technician's phone app or an integration needs
(request, evaluate, appoint, arrive, diagnose, checklist, parts, signature, settlement, return
visit), agreements with their bills and plans, and the warranty verdict on facts alone. Scoped as
the pages are (404 outside scope, ids in bodies too); errors in the one shape."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from kefu.api.pagination import CursorPage
from kefu.core.errors import ApplicationError
from kefu.core.params import Day, Limit, Moment
from kefu.core.policy_store import policy_in_force
from kefu.org.selectors import access_shop_by_id
from kefu.policies import warranty
from kefu.policies.money import PRICE_MAX
from kefu.workflow.schemas import WorkItemStatus

from . import selectors, services

router = Router(tags=["service"])

Cause = Literal["misuse", "model_mismatch", "altered", "force_majeure", "clearance_sale"]
Finding = Literal["misuse", "model_mismatch", "altered", "force_majeure"]
Amount = Annotated[Decimal, Field(ge=0, le=PRICE_MAX, max_digits=10, decimal_places=2)]
Percent = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]


class ReturnIn(Schema):
    invoice_date: Day
    return_date: Day
    price: str = Field(max_length=20, description="The price paid, e.g. 1999.00")
    repair_days: int = Field(default=0, ge=0, le=36500)
    category: str = Field(default="", max_length=60)


class WarrantyFactsIn(Schema):
    part: Literal["unit", "accessory"]
    purchase_date: Day
    request_date: Day
    agreement_months: int | None = Field(default=None, ge=1, le=1200)
    causes: list[Cause] = Field(default_factory=list, max_length=10)
    repairs_in_warranty: int = Field(default=0, ge=0, le=1000)
    request_open_days: int = Field(default=0, ge=0, le=36500)
    return_: ReturnIn | None = Field(default=None, alias="return")


class WarrantyOut(Schema):
    in_warranty: bool
    warranty_ends: dt.date
    charge: Literal["free", "paid"]
    paid_reasons: list[str]
    replacement_due: bool
    rules: list[str]
    explanation: list[str]
    depreciation: str | None


@router.post("/service/warranty/evaluate", response=WarrantyOut)
def warranty_evaluate(request: HttpRequest, facts: WarrantyFactsIn) -> object:
    """Facts in, warranty verdict out (R-SVC-1 … R-SVC-5); nothing is stored."""
    data = facts.dict(by_alias=True)
    if data.get("return"):
        data["return"] = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in data["return"].items()}
    try:
        parsed = warranty.facts_from_dict(
            {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in data.items()}
        )
    except ValueError as exc:
        raise ApplicationError("warranty_facts", str(exc)) from exc
    return warranty.evaluate(policy_in_force(parsed.request_date).document, parsed).as_dict()


# --- work orders -------------------------------------------------------------------------------------


class RequestOut(WorkItemStatus):
    id: int
    number: str
    shop_id: int
    kind: str
    channel: str
    contact_name: str
    contact_phone: str
    address: str
    product: str
    serial_no: str
    part: str
    purchase_date: dt.date
    fault: str
    agreement_id: int | None
    replaces_id: int | None
    charge: str
    warranty_ends: dt.date | None
    replacement_due: bool
    paid_reasons: list[str]
    technician_id: int | None
    appointment_at: dt.datetime | None
    appointment_reason: str
    commitment_missed: bool
    sla_due_at: dt.datetime | None
    on_site_at: dt.datetime | None
    breached: bool
    diagnosis: str
    findings: list[str]
    parts_consent_at: dt.datetime | None
    checklist: dict[str, Any]
    signed_by: str
    signed_at: dt.datetime | None
    parts_amount: Decimal
    labour: Decimal
    discount: Decimal
    amount_due: Decimal
    settled_at: dt.datetime | None
    satisfaction: int | None
    visited_at: dt.datetime | None
    opened_at: dt.datetime
    proof_kind: str
    proof_ref: str
    receipt_no: str
    brought_in_at: dt.datetime | None
    brought_in_items: str
    brought_back_at: dt.datetime | None
    loaner: str
    loaner_out_at: dt.datetime | None
    loaner_back_at: dt.datetime | None
    referred_to: str
    referred_at: dt.datetime | None
    referral_followed_at: dt.datetime | None

    @staticmethod
    def resolve_paid_reasons(obj: Any) -> list[str]:
        return list(obj.verdict.get("paid_reasons", []))

    @staticmethod
    def resolve_findings(obj: Any) -> list[str]:
        return list(obj.causes)


class RequestIn(Schema):
    shop_id: int
    channel: Literal["phone", "online", "wechat"]
    contact_name: str = Field(max_length=64)
    contact_phone: str = Field(max_length=32)
    product: str = Field(max_length=120)
    fault: str = Field(max_length=2000)
    purchase_date: Day
    part: Literal["unit", "accessory"] = "unit"
    serial_no: str = Field(default="", max_length=64)
    purchase_channel: str = Field(default="", max_length=64)
    address: str = Field(default="", max_length=200)
    agreement_id: int | None = None
    proof_kind: Literal["", "invoice", "order", "card"] = ""
    proof_ref: str = Field(default="", max_length=64)


class EvaluateIn(Schema):
    causes: list[Cause] = Field(default_factory=list, max_length=10)
    agreement_months: int | None = Field(default=None, ge=1, le=1200)


class AppointmentIn(Schema):
    technician_id: int = 0  # checked after the request is found (404 first)
    at: Moment | None = None
    reason: str = Field(default="", max_length=200, description="The customer's reason for a time after the commitment")


class DiagnosisIn(Schema):
    diagnosis: str = Field(default="", max_length=2000)
    fault_cause: str = Field(default="", max_length=40)
    findings: list[Finding] = Field(default_factory=list, max_length=4)
    parts_consent: bool = False


class StepIn(Schema):
    code: str = Field(default="", max_length=40)
    done: bool = True


class PartsIn(Schema):
    part_id: int = 0
    quantity: int = Field(default=1, ge=1, le=1000)
    action: Literal["issue", "return"] = "issue"
    idempotency_key: str | None = Field(default=None, max_length=64)


class SignatureIn(Schema):
    signed_by: str = Field(default="", max_length=64)
    signature: str = Field(default="", max_length=20000, description="An SVG path drawn on the device")


class SettlementIn(Schema):
    labour: Amount = Decimal("0")
    discount_percent: Percent = Decimal("0")


class ReturnVisitIn(Schema):
    satisfaction: int = Field(default=0, ge=0, le=5)
    notes: str = Field(default="", max_length=2000)


def _item(request: HttpRequest, request_id: int) -> Any:
    return selectors.request_get(actor=request.user, request_id=request_id)


@router.get("/service/requests", response=CursorPage[RequestOut])
def list_requests(
    request: HttpRequest,
    category: str | None = None,
    technician: int | None = None,
    shop: int | None = None,
    q: str | None = None,
    overdue: bool = False,
    cursor: str | None = None,
    limit: Limit = 50,
) -> object:
    filters = selectors.RequestFilters(
        category=category or "", technician=technician, shop=shop, q=(q or "")[:64], overdue=overdue
    )
    return selectors.request_page(actor=request.user, filters=filters, cursor=cursor, limit=limit)


@router.get("/service/requests/{request_id}", response=RequestOut)
def get_request(request: HttpRequest, request_id: int) -> object:
    return _item(request, request_id)


@router.post("/service/requests", response=RequestOut)
def create_request(request: HttpRequest, payload: RequestIn) -> object:
    """A repair request (服务申请); a covered unit's serial number links it to its agreement."""
    shop = access_shop_by_id(request.user, payload.shop_id)
    agreement = (
        selectors.agreement_get(actor=request.user, agreement_id=payload.agreement_id) if payload.agreement_id else None
    )
    data = payload.dict(exclude={"shop_id", "agreement_id"})
    return services.request_create(actor=request.user, shop=shop, agreement=agreement, **data)


@router.post("/service/requests/{request_id}/evaluate", response=RequestOut)
def evaluate_request(request: HttpRequest, request_id: int, payload: EvaluateIn | None = None) -> object:
    payload = payload or EvaluateIn()
    item = _item(request, request_id)
    return services.request_evaluate(
        actor=request.user, item=item, causes=list(payload.causes), agreement_months=payload.agreement_months
    )


@router.post("/service/requests/{request_id}/appointment", response=RequestOut)
def appoint(request: HttpRequest, request_id: int, payload: AppointmentIn | None = None) -> object:
    payload = payload or AppointmentIn()
    item = _item(request, request_id)
    technician = selectors.technician_get(actor=request.user, staff_id=payload.technician_id)
    if payload.at is None:
        raise ApplicationError("validation_error", "at: required")
    return services.appointment_set(
        actor=request.user, item=item, technician=technician, at=payload.at, reason=payload.reason
    )


@router.post("/service/requests/{request_id}/arrive", response=RequestOut)
def arrive(request: HttpRequest, request_id: int) -> object:
    return services.visit_arrive(actor=request.user, item=_item(request, request_id))


@router.post("/service/requests/{request_id}/diagnosis", response=RequestOut)
def diagnose(request: HttpRequest, request_id: int, payload: DiagnosisIn | None = None) -> object:
    """The diagnosis; findings of misuse, a mismatched or altered model or force majeure take the
    verdict again (R-SVC-2) and a consent given for another price no longer stands."""
    payload = payload or DiagnosisIn()
    return services.visit_diagnose(
        actor=request.user,
        item=_item(request, request_id),
        diagnosis=payload.diagnosis,
        fault_cause=payload.fault_cause,
        findings=list(payload.findings),
        parts_consent=payload.parts_consent,
    )


@router.post("/service/requests/{request_id}/steps", response=RequestOut)
def tick_step(request: HttpRequest, request_id: int, payload: StepIn | None = None) -> object:
    payload = payload or StepIn()
    return services.visit_step(
        actor=request.user, item=_item(request, request_id), code=payload.code, done=payload.done
    )


@router.post("/service/requests/{request_id}/parts", response=RequestOut)
def parts(request: HttpRequest, request_id: int, payload: PartsIn | None = None) -> object:
    """Issue parts from stock (never below zero; an idempotency key issues once) or return them."""
    payload = payload or PartsIn()
    item = _item(request, request_id)
    part = selectors.part_get(actor=request.user, part_id=payload.part_id)
    if payload.action == "issue":
        services.parts_issue(
            actor=request.user, item=item, part=part, quantity=payload.quantity, key=payload.idempotency_key or None
        )
    else:
        services.parts_return(actor=request.user, item=item, part=part, quantity=payload.quantity)
    return _item(request, request_id)


@router.post("/service/requests/{request_id}/signature", response=RequestOut)
def sign(request: HttpRequest, request_id: int, payload: SignatureIn | None = None) -> object:
    payload = payload or SignatureIn()
    return services.report_sign(
        actor=request.user, item=_item(request, request_id), signed_by=payload.signed_by, signature=payload.signature
    )


@router.post("/service/requests/{request_id}/settlement", response=RequestOut)
def settle(request: HttpRequest, request_id: int, payload: SettlementIn | None = None) -> object:
    """Parts + labour, less the agreement's discounts and the warranty (the latest verdict)."""
    payload = payload or SettlementIn()
    return services.request_settle(
        actor=request.user,
        item=_item(request, request_id),
        labour=payload.labour,
        discount_percent=payload.discount_percent,
    )


class BringInIn(Schema):
    taken: str = Field(default="", max_length=300, description="What goes to the service centre (the receipt)")
    loaner: str = Field(default="", max_length=200, description="The loaner unit or temporary solution offered")


class FollowUpIn(Schema):
    outcome: str = Field(default="", max_length=300)


@router.post("/service/requests/{request_id}/bring-in", response=RequestOut)
def bring_in(request: HttpRequest, request_id: int, payload: BringInIn | None = None) -> object:
    """R-SVC-7: not repairable on site — to the service centre, with a loaner or temporary solution."""
    payload = payload or BringInIn()
    return services.bring_in(
        actor=request.user, item=_item(request, request_id), taken=payload.taken, loaner=payload.loaner
    )


@router.post("/service/requests/{request_id}/bring-back", response=RequestOut)
def bring_back(request: HttpRequest, request_id: int) -> object:
    return services.bring_back(actor=request.user, item=_item(request, request_id))


@router.post("/service/requests/{request_id}/loaner-returned", response=RequestOut)
def loaner_returned(request: HttpRequest, request_id: int) -> object:
    return services.loaner_return(actor=request.user, item=_item(request, request_id))


@router.post("/service/requests/{request_id}/referral", response=RequestOut)
def refer(request: HttpRequest, request_id: int) -> object:
    """R-SVC-8: refer a request outside the service area to the sales point that serves it."""
    return services.request_refer(actor=request.user, item=_item(request, request_id))


@router.post("/service/requests/{request_id}/referral/follow-up", response=RequestOut)
def follow_up(request: HttpRequest, request_id: int, payload: FollowUpIn | None = None) -> object:
    payload = payload or FollowUpIn()
    return services.referral_follow_up(actor=request.user, item=_item(request, request_id), outcome=payload.outcome)


@router.post("/service/requests/{request_id}/return-visit", response=RequestOut)
def return_visit(request: HttpRequest, request_id: int, payload: ReturnVisitIn | None = None) -> object:
    payload = payload or ReturnVisitIn()
    return services.request_return_visit(
        actor=request.user, item=_item(request, request_id), satisfaction=payload.satisfaction, notes=payload.notes
    )


# --- agreements --------------------------------------------------------------------------------------


class BillOut(Schema):
    id: int
    due_on: dt.date
    amount: Decimal
    paid_at: dt.datetime | None


class PlanItemOut(Schema):
    id: int
    kind: str
    due_on: dt.date
    state: str
    request_id: int | None


class AgreementOut(Schema):
    id: int
    number: str
    shop_id: int
    customer_name: str
    contact_name: str
    contact_phone: str
    address: str
    products: list[dict[str, str]]
    starts_on: dt.date
    ends_on: dt.date
    fee: Decimal
    billing: str
    parts_discount: Decimal
    labour_discount: Decimal
    warranty_months: int | None
    visits: dict[str, int]
    reviewed_at: dt.datetime | None
    bills: list[BillOut]
    plan: list[PlanItemOut]

    @staticmethod
    def resolve_bills(obj: Any) -> list[Any]:
        return list(obj.bills.all())  # prefetched in due order (selectors._with_bills_and_plan)

    @staticmethod
    def resolve_plan(obj: Any) -> list[Any]:
        return list(obj.plan.all())


class ProductIn(Schema):
    product: str = Field(max_length=120)
    serial_no: str = Field(default="", max_length=64)


class AgreementIn(Schema):
    shop_id: int
    customer_name: str = Field(max_length=100)
    contact_name: str = Field(max_length=64)
    contact_phone: str = Field(max_length=32)
    address: str = Field(default="", max_length=200)
    products: list[ProductIn] = Field(max_length=200)
    starts_on: Day
    ends_on: Day
    fee: Amount
    billing: Literal["once", "monthly", "quarterly", "yearly"]
    parts_discount: Percent = Decimal("0")
    labour_discount: Percent = Decimal("0")
    warranty_months: int | None = Field(default=None, ge=1, le=1200)


class PlanDecisionIn(Schema):
    state: Literal["reviewed", "skipped", "draft", "released"] = "reviewed"


@router.get("/service/agreements", response=list[AgreementOut])
def list_agreements(request: HttpRequest) -> object:
    return selectors.agreements(actor=request.user)


@router.get("/service/agreements/{agreement_id}", response=AgreementOut)
def get_agreement(request: HttpRequest, agreement_id: int) -> object:
    return selectors.agreement_get(actor=request.user, agreement_id=agreement_id)


@router.post("/service/agreements", response=AgreementOut)
def create_agreement(request: HttpRequest, payload: AgreementIn) -> object:
    """An agreement with its receivables and its plan; it takes effect once the supervisor reviews it."""
    shop = access_shop_by_id(request.user, payload.shop_id)
    data = payload.dict(exclude={"shop_id", "products"})
    products = [p.dict() for p in payload.products]
    agreement = services.agreement_create(actor=request.user, shop=shop, products=products, **data)
    return selectors.agreement_get(actor=request.user, agreement_id=agreement.pk)


@router.post("/service/agreements/{agreement_id}/review", response=AgreementOut)
def review_agreement(request: HttpRequest, agreement_id: int) -> object:
    agreement = selectors.agreement_get(actor=request.user, agreement_id=agreement_id)
    services.agreement_review(actor=request.user, agreement=agreement)
    return selectors.agreement_get(actor=request.user, agreement_id=agreement_id)


@router.post("/service/plan-items/{item_id}", response=PlanItemOut)
def decide_plan_item(request: HttpRequest, item_id: int, payload: PlanDecisionIn | None = None) -> object:
    """Review or skip a plan item; ``released`` turns a reviewed item into its work order, once."""
    payload = payload or PlanDecisionIn()
    item = selectors.plan_item_get(actor=request.user, item_id=item_id)
    if payload.state == "released":
        services.plan_release(actor=request.user, item=item)
        return selectors.plan_item_get(actor=request.user, item_id=item_id)
    return services.plan_decide(actor=request.user, item=item, state=payload.state)


@router.post("/service/bills/{bill_id}/pay", response=BillOut)
def pay_bill(request: HttpRequest, bill_id: int) -> object:
    """A receivable paid, once (a second payment is a 409)."""
    bill = selectors.bill_get(actor=request.user, bill_id=bill_id)
    return services.bill_pay(actor=request.user, bill=bill)
