"""Customer-care API: complaints from intake to their tracking return visit (SPEC §7), scoped as the
pages are (404 outside scope, ids in bodies too); errors in the one shape."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from kefu.commerce.selectors import access_order_by_id
from kefu.core.errors import ApplicationError
from kefu.core.params import Moment
from kefu.org.selectors import access_shop_by_id, access_staff_by_id
from kefu.workflow.schemas import WorkItemStatus

from . import selectors, services
from .models import ComplaintCategory

router = Router(tags=["care"])


class ComplaintOut(WorkItemStatus):
    id: int
    number: str
    shop_id: int
    customer_id: int | None
    order_id: int | None
    contact_name: str
    contact_phone: str
    channel: str
    text: str
    emotion: str
    emotion_suggested: str
    emotion_matches: dict[str, list[str]]
    owner_id: int | None
    checklist: dict[str, Any]
    reason: str
    our_fault: bool | None
    resolution: str
    opened_at: dt.datetime
    resolved_at: dt.datetime | None


class ComplaintIn(Schema):
    shop_id: int
    contact_name: str = Field(max_length=64)
    text: str = Field(max_length=5000)
    channel: str = Field(default="phone", max_length=16)
    contact_phone: str = Field(default="", max_length=32)
    buyer_nick: str = Field(default="", max_length=100)
    order_id: int | None = None
    emotion: Literal["", "anger", "anxiety", "sadness", "shouting", "calm"] = ""


class StepIn(Schema):
    code: str = Field(default="", max_length=40)
    done: bool = True


class EmotionIn(Schema):
    emotion: str = Field(default="", max_length=16)


class AssignIn(Schema):
    owner_id: int = 0


class ResolveIn(Schema):
    reason: str = Field(default="", max_length=40)
    resolution: str = Field(default="", max_length=2000)
    our_fault: bool = False


class VisitIn(Schema):
    agent_id: int = 0
    at: Moment | None = None
    channel: Literal["phone", "email"] = "phone"


class VisitOut(Schema):
    id: int
    customer_id: int
    complaint_id: int | None
    agent_id: int
    channel: str
    topic: str
    scheduled_at: dt.datetime
    done_at: dt.datetime | None
    satisfaction: int | None
    opinion: str


class VisitRecordIn(Schema):
    opinion: str = Field(default="", max_length=2000)
    satisfaction: int = Field(default=0, ge=0, le=5)
    suggestions: str = Field(default="", max_length=2000)


def _complaint(request: HttpRequest, complaint_id: int) -> Any:
    return selectors.complaint_get(actor=request.user, complaint_id=complaint_id)


@router.get("/care/complaints", response=list[ComplaintOut])
def list_complaints(request: HttpRequest, category: str | None = None) -> object:
    """The newest 50 complaints in scope (``category``: open, handling, resolved, closed)."""
    if category and category not in ComplaintCategory.values:
        raise ApplicationError("validation_error", f"category: one of {', '.join(ComplaintCategory.values)}")
    return selectors.complaints(actor=request.user, category=category or "")


@router.get("/care/complaints/{complaint_id}", response=ComplaintOut)
def get_complaint(request: HttpRequest, complaint_id: int) -> object:
    return _complaint(request, complaint_id)


@router.post("/care/complaints", response=ComplaintOut)
def create_complaint(request: HttpRequest, payload: ComplaintIn) -> object:
    """R-CARE-1 intake: the emotion suggested from the text; the customer found by the order, nick
    or phone (else recorded) — every complaint belongs to a customer."""
    shop = access_shop_by_id(request.user, payload.shop_id)
    order = access_order_by_id(request.user, payload.order_id) if payload.order_id else None
    return services.complaint_create(
        actor=request.user,
        shop=shop,
        contact_name=payload.contact_name,
        text=payload.text,
        channel=payload.channel,
        contact_phone=payload.contact_phone,
        emotion=payload.emotion,
        order=order,
        buyer_nick=payload.buyer_nick,
    )


@router.post("/care/complaints/{complaint_id}/steps", response=ComplaintOut)
def tick_step(request: HttpRequest, complaint_id: int, payload: StepIn | None = None) -> object:
    payload = payload or StepIn()
    item = _complaint(request, complaint_id)
    services.complaint_step(actor=request.user, item=item, code=payload.code, done=payload.done)
    return _complaint(request, complaint_id)


@router.post("/care/complaints/{complaint_id}/emotion", response=ComplaintOut)
def confirm_emotion(request: HttpRequest, complaint_id: int, payload: EmotionIn | None = None) -> object:
    payload = payload or EmotionIn()
    return services.complaint_emotion_set(
        actor=request.user, item=_complaint(request, complaint_id), emotion=payload.emotion
    )


@router.post("/care/complaints/{complaint_id}/assign", response=ComplaintOut)
def assign(request: HttpRequest, complaint_id: int, payload: AssignIn | None = None) -> object:
    """The team lead or the supervisor gives the complaint to the person who handles it."""
    payload = payload or AssignIn()
    item = _complaint(request, complaint_id)
    owner = access_staff_by_id(request.user, payload.owner_id)
    services.complaint_assign(actor=request.user, item=item, owner=owner)
    return _complaint(request, complaint_id)


@router.post("/care/complaints/{complaint_id}/resolve", response=ComplaintOut)
def resolve(request: HttpRequest, complaint_id: int, payload: ResolveIn | None = None) -> object:
    payload = payload or ResolveIn()
    return services.complaint_resolve(
        actor=request.user,
        item=_complaint(request, complaint_id),
        reason=payload.reason,
        resolution=payload.resolution,
        our_fault=payload.our_fault,
    )


@router.post("/care/complaints/{complaint_id}/visits", response=VisitOut)
def schedule_visit(request: HttpRequest, complaint_id: int, payload: VisitIn | None = None) -> object:
    """The tracking return visit (R-CARE-3: never in the customer's rest hours)."""
    payload = payload or VisitIn()
    item = _complaint(request, complaint_id)
    if payload.at is None:
        raise ApplicationError("validation_error", "at: required")
    return services.complaint_visit_schedule(
        actor=request.user,
        item=item,
        agent=selectors.agent_in_scope(request.user, payload.agent_id),
        at=payload.at,
        channel=payload.channel,
    )


@router.post("/care/visits/{visit_id}", response=VisitOut)
def record_visit(request: HttpRequest, visit_id: int, payload: VisitRecordIn | None = None) -> object:
    """Record the visit completely: what the customer said and their satisfaction (1–5)."""
    payload = payload or VisitRecordIn()
    visit = selectors.visit_get(actor=request.user, visit_id=visit_id)
    return services.visit_record(
        actor=request.user,
        visit=visit,
        opinion=payload.opinion,
        satisfaction=payload.satisfaction,
        suggestions=payload.suggestions,
    )
