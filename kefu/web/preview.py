"""What a draft handbook policy would change, before it is saved (nothing is stored), person by person
and case by case, with the difference in money. Reads through each module's selectors.

A statement uses the version in force on its month's first day, so a version effective on E first
applies to the month beginning on or after E (``first_month``). When that month has begun, the
preview recomputes it — exactly what saving changes. When it lies ahead, no drawn statement changes:
the preview says so, and recomputes the last complete month only as an illustration, labelled so.
After-sales decisions use the version in force when they are taken: those since E (none yet when E
is ahead; then this month's, as an illustration)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from kefu.aftersales import selectors as aftersales
from kefu.core import clock
from kefu.core.actors import Actor
from kefu.workforce import selectors as workforce


def first_month(effective: dt.date) -> dt.date:
    """The first month whose statements a version effective on ``effective`` decides."""
    if effective.day == 1:
        return effective
    return (effective.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def default_effective(today: dt.date) -> dt.date:
    """The form's default: the first day of next month (a version saved "today" changes no statement
    until next month anyway)."""
    return first_month(today + dt.timedelta(days=1))


MAX_MONTHS = 12  # a version back-dated further changes more months; the preview shows the last 12


def _months(first: dt.date, last: dt.date) -> list[dt.date]:
    out = []
    cursor = first
    while cursor <= last:
        out.append(cursor)
        cursor = (cursor + dt.timedelta(days=32)).replace(day=1)
    return out[-MAX_MONTHS:]


def _changed(row: dict[str, Any]) -> bool:
    return bool(
        row["difference"]
        or row["draft_absence_days"] != row["absence_days"]
        or row["draft_red_packets"] != row["red_packets"]
    )


def policy_preview(*, actor: Actor, draft: dict[str, Any], effective: dt.date | None = None) -> dict[str, Any]:
    """Every month whose statements saving would change — from the first month the version decides to
    this month (a back-dated version changes them all) — person by person: net pay, red packets and
    absence days. Ahead of its first month, one past month as an illustration."""
    today = clock.today()
    effective = effective or default_effective(today)
    applies_from = first_month(effective)
    illustration = applies_from > today
    last_complete = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    months = [last_complete] if illustration else _months(applies_from, today.replace(day=1))
    shown = []
    for month in months:
        staff = workforce.visible_staff(actor=actor, month=(month.year, month.month))
        people = workforce.statement_comparison(staff=staff, year=month.year, month=month.month, draft=draft)
        shown.append(
            {
                "month": month,
                "people": [r for r in people if _changed(r)],
                "people_total": len(people),
                "pay_difference": sum((r["difference"] for r in people), Decimal("0")),
                "red_packet_difference": sum((r["draft_red_packets"] - r["red_packets"] for r in people), Decimal("0")),
            }
        )
    since = today.replace(day=1) if effective > today else effective
    cases = aftersales.decision_comparison(actor=actor, since=clock.day_start(since), draft=draft)
    changed_cases = [r for r in cases if r["difference"] or r["draft_freight"] != r["freight"]]
    return {
        "months": shown,
        "applies_from": applies_from,
        "effective": effective,
        "illustration": illustration,
        "illustration_month": last_complete,
        "cases_since": since,
        "pay_difference": sum((m["pay_difference"] for m in shown), Decimal("0")),
        "cases": changed_cases,
        "cases_total": len(cases),
        "cost_difference": sum((r["difference"] for r in cases), Decimal("0")),
    }
