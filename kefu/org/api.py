from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from kefu.api.pagination import CursorPage
from kefu.core.errors import ApplicationError
from kefu.core.params import Day, Limit
from kefu.org.permissions import has_capability
from kefu.org.services import staff_import

from . import selectors

router = Router(tags=["organisation"])


class ShopOut(Schema):
    id: int
    name: str
    code: str
    platform: str
    active: bool

    @staticmethod
    def resolve_base_salary(obj: Any) -> Decimal | None:
        return getattr(obj, "visible_salary", None)


class TeamOut(Schema):
    id: int
    name: str
    shop_ids: list[int]


class StaffOut(Schema):
    id: int
    employee_no: str
    name: str
    position: str
    team_id: int | None
    base_salary: Decimal | None = Field(
        None, description="Only for the person, the supervisor and the deputy; null for everyone else."
    )
    dingtalk_user_id: str
    hire_date: dt.date | None
    leave_date: dt.date | None = Field(None, description="The last day employed (R-WF-18).")
    active: bool

    @staticmethod
    def resolve_base_salary(obj: Any) -> Decimal | None:
        return getattr(obj, "visible_salary", None)


class ImportSummaryOut(Schema):
    created: int
    updated: int
    unchanged: int
    failed: list[dict[str, object]]


@router.get("/shops", response=list[ShopOut])
def list_shops(request: HttpRequest) -> object:
    return selectors.shop_list(actor=request.user)


@router.get("/shops/{shop_id}", response=ShopOut)
def get_shop(request: HttpRequest, shop_id: int) -> object:
    return selectors.shop_get(actor=request.user, shop_id=shop_id)


def _team(t: object) -> dict[str, object]:
    return {"id": t.pk, "name": t.name, "shop_ids": sorted(s.pk for s in t.shops.all())}  # type: ignore[attr-defined]


@router.get("/teams", response=list[TeamOut])
def list_teams(request: HttpRequest) -> object:
    return [_team(t) for t in selectors.team_list(actor=request.user)]


@router.get("/teams/{team_id}", response=TeamOut)
def get_team(request: HttpRequest, team_id: int) -> object:
    return _team(selectors.team_get(actor=request.user, team_id=team_id))


@router.get("/staff", response=CursorPage[StaffOut])
def list_staff(
    request: HttpRequest,
    team: int | None = None,
    position: str | None = None,
    q: str | None = None,
    cursor: str | None = None,
    limit: Limit = 50,
) -> object:
    return selectors.staff_list(actor=request.user, team=team, position=position, q=q, cursor=cursor, limit=limit)


class LeaveDateIn(Schema):
    leave_date: Day | None = Field(None, description="The last day employed; null takes it back (required).")


@router.post("/staff/{staff_id}/leave-date", response=StaffOut)
def set_leave_date(request: HttpRequest, staff_id: int, payload: LeaveDateIn) -> object:
    """R-WF-18: record (or take back) a staff member's leaving date — supervisor and deputy only. The
    person is inactive after it, their roster ends there, statements pay the days employed."""
    from .services import staff_set_leave_date

    member = selectors.staff_get(actor=request.user, staff_id=staff_id)
    if "leave_date" not in payload.model_fields_set:
        raise ApplicationError("validation_error", _('Send "leave_date": a date, or null to take it back.'))
    return staff_set_leave_date(actor=request.user, staff=member, leave_date=payload.leave_date)


@router.post("/staff/import", response=ImportSummaryOut)
def import_staff(request: HttpRequest) -> object:
    """Import a staff CSV/XLSX sent as the raw request body (Content-Type text/csv or the XLSX type)."""
    if not has_capability(request.user, "org.manage"):
        raise ApplicationError(
            "permission_denied", _("Managing the organisation is not allowed for your role."), status=403
        )
    name = request.headers.get("X-File-Name", "staff.csv")
    return staff_import(actor=request.user, data=request.body, file_name=name).as_dict()


@router.get("/staff/{staff_id}", response=StaffOut)
def get_staff(request: HttpRequest, staff_id: int) -> object:
    return selectors.staff_get(actor=request.user, staff_id=staff_id)
