"""Reading a report's filters from a query string, running it, and turning its cells into text,
JSON and spreadsheet values — shared by the pages, the exports and the API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from kefu.core import clock
from kefu.core.actors import Actor
from kefu.core.errors import ApplicationError
from kefu.core.params import day_query, int_param
from kefu.core.reports import DATE, DETAIL_LIMIT, DETAIL_MAX, MAX_DAYS, MONEY, PERCENT, Filters, Report, Result


def filters_from(params: Any) -> Filters:
    """``from``/``to`` (default: this month so far), ``shop``, ``team``, ``limit``/``offset`` for detail
    reports. Malformed values are a 400; a range is at most a year."""
    today = clock.today()
    first = day_query(params.get("from")) or today.replace(day=1)
    last = day_query(params.get("to")) or today
    if last < first:
        raise ApplicationError("validation_error", _("The end date is before the start date."))
    if (last - first).days >= MAX_DAYS:
        raise ApplicationError("out_of_range", _("A report covers at most %(days)s days.") % {"days": MAX_DAYS})
    values = {}
    for name in ("shop", "team", "limit", "offset"):
        raw = params.get(name)
        number = int_param(raw)
        if raw not in (None, "") and (number is None or number < 0):
            raise ApplicationError(
                "validation_error", _("%(name)s must be a whole number, 0 or more.") % {"name": name}
            )
        values[name] = number
    limit = values["limit"] if values["limit"] is not None else DETAIL_LIMIT
    if not 1 <= limit <= DETAIL_MAX:
        raise ApplicationError("out_of_range", _("limit is from 1 to %(max)s.") % {"max": DETAIL_MAX})
    return Filters(
        first=first,
        last=last,
        shop=values["shop"] or None,
        team=values["team"] or None,
        limit=limit,
        offset=min(values["offset"] or 0, 10_000_000),
    )


def run(report: Report, actor: Actor, f: Filters) -> Result:
    return report.run(actor, f)


def json_value(kind: str, value: Any) -> Any:
    """Money as a string with 2 places, percentages with 2, dates ISO, the rest as is."""
    if value is None:
        return None
    if kind in (MONEY, PERCENT) and isinstance(value, Decimal | int):
        return f"{Decimal(value):.2f}"
    if kind == DATE and isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value if isinstance(value, int | float | bool) else str(value)


def text_value(kind: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if kind == MONEY:
        return f"¥{Decimal(value):,.2f}"
    if kind == PERCENT:
        return f"{Decimal(value):.2f}%"
    if kind == DATE and isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def sheet_value(kind: str, value: Any) -> Any:
    """Numbers stay numbers in a spreadsheet, formatted by kind (¥ amounts, percentages); dates ISO."""
    from kefu.core.exports import Money, Quantity, Rate

    if value is None:
        return ""
    if kind == MONEY and isinstance(value, Decimal | int):
        return Money(value)
    if kind == PERCENT and isinstance(value, Decimal | int | float):
        return Rate(Decimal(str(value)) / 100)  # stored as 85.00 (%), a spreadsheet keeps 0.85
    if isinstance(value, Decimal):
        return Quantity(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value if isinstance(value, int | float) else str(value)
