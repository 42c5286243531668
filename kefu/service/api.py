"""Field-service API: the warranty verdict (nothing stored)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from kefu.core.errors import ApplicationError
from kefu.core.params import Day
from kefu.core.policy_store import policy_in_force
from kefu.policies import warranty

router = Router(tags=["service"])

Cause = Literal["misuse", "model_mismatch", "altered", "force_majeure", "clearance_sale"]


class ReturnIn(Schema):
    invoice_date: Day
    return_date: Day
    price: str = Field(max_length=20, description="The price paid, e.g. 1999.00")
    repair_days: int = Field(0, ge=0, le=36500)
    category: str = Field("", max_length=60)


class WarrantyFactsIn(Schema):
    part: Literal["unit", "accessory"]
    purchase_date: Day
    request_date: Day
    agreement_months: int | None = Field(None, ge=1, le=1200)
    causes: list[Cause] = Field(default_factory=list, max_length=10)
    repairs_in_warranty: int = Field(0, ge=0, le=1000)
    request_open_days: int = Field(0, ge=0, le=36500)
    return_: ReturnIn | None = Field(None, alias="return")


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
