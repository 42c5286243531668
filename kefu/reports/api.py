"""``GET /api/v1/reports/{slug}?from=YYYY-MM-DD&to=YYYY-MM-DD[&shop][&team][&limit][&offset]``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema

from kefu.core import reports
from kefu.core.errors import ApplicationError

from .query import filters_from, json_value, run

router = Router(tags=["reports"])


class ColumnOut(Schema):
    key: str
    label: str
    type: str


class ReportOut(Schema):
    slug: str
    title: str
    columns: list[ColumnOut]
    rows: list[list[Any]]
    total: list[Any] | None
    count: int | None


@router.get("/reports/{slug}", response=ReportOut)
def report(request: HttpRequest, slug: str) -> object:
    """One report over a date range (at most a year) in the caller's scope. ``rows`` are lists in the
    order of ``columns``; money and percentages are decimal strings with 2 places, dates ISO. Detail
    reports page with ``limit`` (≤ 10,000) and ``offset``; ``count`` is how many rows there are."""
    try:
        definition = reports.get(slug)
    except KeyError:
        raise ApplicationError("not_found", _("No such report."), status=404) from None
    f = filters_from(request.GET)
    result = run(definition, request.user, f)
    cols = definition.columns
    return {
        "slug": definition.slug,
        "title": str(definition.title),
        "columns": [{"key": c.key, "label": str(c.label), "type": c.kind} for c in cols],
        "rows": [[json_value(c.kind, row.get(c.key)) for c in cols] for row in result.rows],
        "total": [json_value(c.kind, result.total.get(c.key)) for c in cols] if result.total else None,
        "count": result.count,
    }
