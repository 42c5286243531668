from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from kefu.api.pagination import CursorPage
from kefu.commerce.selectors import access_order_by_id
from kefu.core.errors import ApplicationError
from kefu.core.params import Day, Limit, Moment
from kefu.core.policy_store import policy_in_force
from kefu.org.selectors import access_shop_by_id, access_staff_by_id
from kefu.policies import aftersales as rules
from kefu.policies.money import MONEY_MAX

from . import selectors, services

router = Router(tags=["after-sales"])

# An amount as the money columns hold it: ≥ 0, 2 places, at most 9,999,999,999.99 CNY.
Amount = Annotated[Decimal, Field(ge=0, le=MONEY_MAX, max_digits=12, decimal_places=2)]


class FactsIn(Schema):
    case_type: str
    province: str = ""
    responsibility: str = "undetermined"
    line_value: Amount = Decimal("0")
    line_cost: Amount | None = None
    wrong_item_value: Amount | None = None
    shipped_matches_order: bool | None = None
    received_date: Day | None = None
    request_date: Day | None = None
    request_kind: str = ""
    buyer_stance: str = ""  # "" | accepts | declines | insists (R-AS-7: the answer to the retention offer)
    courier_class: str = ""  # normal | difficult | out_of_area | damaged_lost (003 快递查询SOP)
    buyer_pays_freight: bool | None = None
    misuse: bool | None = None
    remark_ok: bool | None = None
    warehouse_error: bool | None = None
    seized: bool = False
    at_fault: bool | None = None


class ProposalOut(Schema):
    code: str
    label: str
    cost: str
    needs_approval: bool
    rule: str
    note: str


class DecisionOut(Schema):
    freight: str
    return_freight_payer: str | None
    window: dict[str, Any] | None
    partial_refund_cap: str
    responsibility: str
    proposals: list[ProposalOut]
    checklist: list[dict[str, str]]
    explanation: list[str]


class CaseOut(Schema):
    id: int
    number: str
    case_type: str
    shop_id: int
    order_id: int | None
    buyer_nick: str
    owner_id: int | None
    status: str
    category: str
    responsibility: str
    resolution: str
    opened_at: dt.datetime
    sla_due_at: dt.datetime | None
    platform_deadline: dt.datetime | None
    breached: bool

    @staticmethod
    def resolve_status(obj: Any) -> str:
        return str(obj.status.name)


class CaseIn(Schema):
    case_type: str
    order_id: int
    summary: str = ""
    facts: dict[str, Any] = {}
    platform_deadline: Moment | None = None


class RefundRecordsIn(Schema):
    shop: int
    refunds: list[dict[str, Any]]


class RefundSyncOut(Schema):
    created: int
    updated: int
    unchanged: int = 0
    failed: list[dict[str, Any]]


class FactsUpdateIn(Schema):
    facts: dict[str, Any] = {}
    responsibility: str | None = None


class ResolutionIn(Schema):
    code: str = ""  # checked after the case is found (a case outside scope is a 404 first)


class MoneyIn(Schema):
    kind: str
    amount: Amount
    note: str = Field("", max_length=300)
    idempotency_key: str | None = Field(None, max_length=64)


class MoneyOut(Schema):
    id: int
    case_id: int
    kind: str
    amount: Decimal
    status: str
    needs_supervisor: bool
    rule: str
    note: str
    created_at: dt.datetime
    decided_at: dt.datetime | None


class RejectIn(Schema):
    note: str = ""  # required (≤ 300 characters kept): checked after the line is found


class GrantIn(Schema):
    staff_id: int
    limit: Amount  # 0 revokes


class GrantOut(Schema):
    staff_id: int
    limit: Decimal
    active: bool


class TransitionIn(Schema):
    status: str = ""  # a status label name or a category; checked after the case is found


@router.post("/aftersales/evaluate", response=DecisionOut)
def evaluate(request: HttpRequest, facts: FactsIn) -> object:
    """Facts in, decision out (R-AS-1 … R-AS-14); nothing is stored."""
    data = facts.dict()
    try:
        return rules.evaluate(
            policy_in_force().document,
            rules.facts_from_dict({k: (str(v) if isinstance(v, Decimal | dt.date) else v) for k, v in data.items()}),
        ).as_dict()
    except ValueError as exc:
        raise ApplicationError("case_facts", str(exc)) from exc


@router.post("/aftersales/refunds", response=RefundSyncOut)
def push_refunds(request: HttpRequest, payload: RefundRecordsIn) -> object:
    """Push platform refund records (``taobao.refunds.receive.get`` fields, ``timeout`` = the platform's reply
    deadline): one case per refund, idempotent by ``refund_id``; bad records are reported by index."""
    shop = access_shop_by_id(request.user, payload.shop)
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    failed: list[dict[str, Any]] = []
    for index, record in enumerate(payload.refunds):
        try:
            _case, outcome = services.refund_sync(actor=request.user, shop=shop, record=record)
        except (ApplicationError, ValueError) as exc:
            failed.append({"row": index + 1, "reason": str(getattr(exc, "message", exc))})
            continue
        counts[outcome] += 1
    return {**counts, "failed": failed}


@router.get("/aftersales/cases", response=CursorPage[CaseOut])
def list_cases(
    request: HttpRequest,
    case_type: str | None = None,
    category: str | None = None,
    shop: int | None = None,
    q: str | None = None,
    cursor: str | None = None,
    limit: Limit = 50,
) -> object:
    filters = selectors.CaseFilters(case_type=case_type, category=category, shop=shop, q=q)
    return selectors.case_inbox(actor=request.user, filters=filters, cursor=cursor, limit=limit)


@router.get("/aftersales/cases/{case_id}", response=CaseOut)
def get_case(request: HttpRequest, case_id: int) -> object:
    return selectors.case_get(actor=request.user, case_id=case_id)


@router.post("/aftersales/cases", response=CaseOut)
def open_case(request: HttpRequest, payload: CaseIn) -> object:
    order = access_order_by_id(request.user, payload.order_id)
    return services.case_open(
        actor=request.user,
        case_type=payload.case_type,
        order=order,
        facts=payload.facts,
        summary=payload.summary,
        platform_deadline=payload.platform_deadline,
    )


@router.post("/aftersales/cases/{case_id}/transition", response=CaseOut)
def transition(request: HttpRequest, case_id: int, payload: TransitionIn | None = None) -> object:
    payload = payload or TransitionIn()
    case = selectors.case_get(actor=request.user, case_id=case_id)
    status = selectors.case_status_named(payload.status)
    if status is None:
        raise ApplicationError("unknown_status", f"unknown status {payload.status!r}")
    return services.case_transition(actor=request.user, case=case, status=status)


@router.get("/aftersales/cases/{case_id}/decision", response=DecisionOut)
def case_decision(request: HttpRequest, case_id: int) -> object:
    """The playbook's decision for the case's current facts: proposals, costs, what needs approval."""
    case = selectors.case_get(actor=request.user, case_id=case_id)
    return services.case_decision(case).as_dict()


@router.post("/aftersales/cases/{case_id}/facts", response=CaseOut)
def update_facts(request: HttpRequest, case_id: int, payload: FactsUpdateIn) -> object:
    case = selectors.case_get(actor=request.user, case_id=case_id)
    return services.case_update_facts(
        actor=request.user, case=case, facts=payload.facts, responsibility=payload.responsibility
    )


@router.post("/aftersales/cases/{case_id}/resolution", response=CaseOut)
def choose_resolution(request: HttpRequest, case_id: int, payload: ResolutionIn | None = None) -> object:
    """Choose a proposal: its money line is posted, or waits for approval when the playbook says so."""
    case = selectors.case_get(actor=request.user, case_id=case_id)
    return services.resolution_choose(actor=request.user, case=case, code=(payload or ResolutionIn()).code)


@router.get("/aftersales/cases/{case_id}/money", response=list[MoneyOut])
def case_money(request: HttpRequest, case_id: int) -> object:
    case = selectors.case_get(actor=request.user, case_id=case_id)
    return list(case.money.order_by("created_at", "id"))


@router.post("/aftersales/cases/{case_id}/money", response=MoneyOut)
def post_money(request: HttpRequest, case_id: int, payload: MoneyIn) -> object:
    """Record a money line; refunds (and lines that need the supervisor) wait for approval. The same
    ``idempotency_key`` posts one line however often it arrives."""
    case = selectors.case_get(actor=request.user, case_id=case_id)
    return services.money_post(
        actor=request.user,
        case=case,
        kind=payload.kind,
        amount=payload.amount,
        note=payload.note,
        idempotency_key=payload.idempotency_key or None,
    )


@router.post("/aftersales/money/{line_id}/approve", response=MoneyOut)
def approve_money(request: HttpRequest, line_id: int) -> object:
    line = selectors.money_line_get(actor=request.user, line_id=line_id)
    return services.refund_approve(actor=request.user, line=line)


@router.post("/aftersales/money/{line_id}/reject", response=MoneyOut)
def reject_money(request: HttpRequest, line_id: int, payload: RejectIn | None = None) -> object:
    """Reject with a reason; a line the chosen resolution made takes the case back to choosing."""
    line = selectors.money_line_get(actor=request.user, line_id=line_id)
    return services.refund_reject(actor=request.user, line=line, note=(payload or RejectIn()).note)


@router.post("/aftersales/refund-grants", response=GrantOut)
def grant_refund_approval(request: HttpRequest, payload: GrantIn) -> object:
    """The supervisor grants a person the refund-approval permission up to ``limit`` (0 revokes; R-AS-7)."""
    staff = access_staff_by_id(request.user, payload.staff_id)
    return services.refund_grant(actor=request.user, staff=staff, limit=payload.limit)


class RatingsIn(Schema):
    shop: int
    ratings: list[dict[str, Any]] = Field(max_length=1000)


class RatingsOut(Schema):
    created: int
    updated: int
    failed: list[dict[str, Any]]


@router.post("/aftersales/shop-ratings", response=RatingsOut)
def push_ratings(request: HttpRequest, payload: RatingsIn) -> object:
    """The platform's DSR per day (``day``, ``description``, ``service``, ``logistics``, each 0–5):
    idempotent by shop and day; bad rows are reported by number (shop health, FORMATS §3)."""
    shop = access_shop_by_id(request.user, payload.shop)
    return services.shop_ratings_record(actor=request.user, shop=shop, ratings=payload.ratings)
