"""Staffing's API (issue 22). ``POST /staffing/erlang``: R-WFM-2 for one hour, inputs in, the
requirement out; nothing is stored, any signed-in person or token may ask."""

from __future__ import annotations

from decimal import Decimal

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from kefu.core.errors import ApplicationError
from kefu.policies import staffing

router = Router(tags=["staffing"])


class ErlangIn(Schema):
    arrivals_per_hour: Decimal = Field(ge=0, le=1_000_000, description="forecast sessions in the hour (λ)")
    handle_seconds: Decimal = Field(gt=0, le=86_400, description="mean session duration (AHT)")
    concurrency: int = Field(ge=1, le=20, description="sessions one agent serves at once (c)")
    answer_within_seconds: Decimal = Field(ge=0, le=86_400, description="the platform's answer time (T)")
    service_level: Decimal = Field(gt=0, lt=1, description="share to answer within T (X), e.g. 0.8")
    shrinkage: Decimal = Field(ge=0, lt=1, description="share of paid time not at the desk, e.g. 0.30")


class ErlangOut(Schema):
    slots: int
    agents: int
    rostered: int
    service_level: str = Field(description="achieved at `slots`, 4 places")
    wait_probability: str = Field(description="Erlang C at `slots`, 4 places")


@router.post("/staffing/erlang", response=ErlangOut)
def erlang(request: HttpRequest, payload: ErlangIn) -> object:
    """Required chat slots, agents and rostered heads for one hour (R-WFM-2, Erlang C with
    concurrency and shrinkage)."""
    try:
        return staffing.required(
            arrivals_per_hour=float(payload.arrivals_per_hour),
            handle_seconds=float(payload.handle_seconds),
            concurrency=payload.concurrency,
            answer_within_seconds=float(payload.answer_within_seconds),
            service_level=float(payload.service_level),
            shrinkage=float(payload.shrinkage),
        ).as_dict()
    except ValueError as exc:
        raise ApplicationError("validation_error", str(exc)) from exc
