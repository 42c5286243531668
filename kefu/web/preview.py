"""What a draft handbook policy would change, before it is saved (nothing is stored): last month's
statements and this month's after-sales decisions recomputed under the draft, person by person
and case by case, with the difference in money. Reads through each module's selectors."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from kefu.aftersales import selectors as aftersales
from kefu.core import clock
from kefu.workforce import selectors as workforce


def policy_preview(*, actor: Any, draft: dict[str, Any]) -> dict[str, Any]:
    today = clock.today()
    last_month_end = today.replace(day=1) - dt.timedelta(days=1)
    staff = workforce.visible_staff(actor=actor)
    people = workforce.statement_comparison(
        staff=staff, year=last_month_end.year, month=last_month_end.month, draft=draft
    )
    cases = aftersales.decision_comparison(actor=actor, since=clock.day_start(today.replace(day=1)), draft=draft)
    changed_people = [r for r in people if r["difference"] or r["draft_absence_days"] != r["absence_days"]]
    changed_cases = [r for r in cases if r["difference"] or r["draft_freight"] != r["freight"]]
    return {
        "month": last_month_end,
        "people": changed_people,
        "people_total": len(people),
        "pay_difference": sum((r["difference"] for r in people), Decimal("0")),
        "cases": changed_cases,
        "cases_total": len(cases),
        "cost_difference": sum((r["difference"] for r in cases), Decimal("0")),
    }
