from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema

from kefu.api.pagination import CursorPage
from kefu.core import clock
from kefu.core.errors import ApplicationError
from kefu.core.pagination import keyset_page
from kefu.core.params import Day, Limit, Moment
from kefu.org.permissions import has_capability
from kefu.org.selectors import access_staff_by_employee_no

from . import selectors, services

router = Router(tags=["workforce"])


class PunchIn(Schema):
    employee_no: str
    at: Moment
    kind: str = "unknown"


class PunchOut(Schema):
    id: int
    staff_id: int
    at: dt.datetime
    kind: str
    source: str


class PunchResult(Schema):
    punch: PunchOut
    created: bool


@router.get("/punches", response=CursorPage[PunchOut])
def list_punches(
    request: HttpRequest,
    staff: int | None = None,
    date_from: Day | None = None,
    date_to: Day | None = None,
    cursor: str | None = None,
    limit: Limit = 100,
) -> object:
    qs = selectors.punches(actor=request.user)
    if staff:
        qs = qs.filter(staff_id=staff)
    if date_from:
        qs = qs.filter(at__gte=clock.day_start(date_from))
    if date_to:
        qs = qs.filter(at__lt=clock.day_start(date_to + dt.timedelta(days=1)))
    return keyset_page(qs, key="at", cursor=cursor, limit=limit)


@router.post("/punches", response=PunchResult)
def push_punch(request: HttpRequest, payload: PunchIn) -> object:
    """Push one punch (e.g. from a DingTalk connector). The same punch twice is stored once."""
    if not has_capability(request.user, "attendance.import"):
        raise ApplicationError("permission_denied", _("Importing attendance is not allowed for your role."), status=403)
    if payload.kind not in {"on", "off", "unknown"}:
        raise ApplicationError("punch_kind", "kind must be on, off or unknown")
    staff = access_staff_by_employee_no(request.user, payload.employee_no)
    punch, created = services.punch_record(actor=request.user, staff=staff, at=payload.at, kind=payload.kind)
    return {"punch": punch, "created": created}


@router.get("/attendance/statement")
def statement(request: HttpRequest, month: str | None = None, team: int | None = None) -> object:
    """The monthly statement (SPEC §3.6) as JSON: the supervisor and the deputy get everyone in scope
    (``team`` narrows it); anyone else gets their own."""
    from kefu.org.selectors import staff_of

    from .forms import parse_month

    year, number = parse_month(month)
    if has_capability(request.user, "pay.view"):
        staff = selectors.visible_staff(actor=request.user, team=team, month=(year, number))
    else:
        me = staff_of(request.user)
        if me is None or team is not None:
            raise ApplicationError(
                "permission_denied",
                _("Statements are private: only the person, the supervisor and the deputy see them."),
                status=403,
            )
        staff = [me]
    return selectors.statement_document(staff=staff, year=year, month=number)
