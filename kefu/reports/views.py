"""Report pages: filters, a bar chart where one helps (server-drawn SVG), the table, XLSX and CSV."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from kefu.core import reports
from kefu.core.errors import ApplicationError
from kefu.core.exports import safe_cell
from kefu.org import selectors as org
from kefu.web.http import xlsx_download

from .query import filters_from, run, sheet_value, text_value

CHART_BARS = 20


@login_required
def index(request: HttpRequest) -> HttpResponse:
    from kefu.org.permissions import has_capability

    pages = [p for p in reports.report_pages() if p.capability is None or has_capability(request.user, p.capability)]
    return render(request, "reports/index.html", {"reports": reports.all_reports(), "pages": pages})


def _chart(definition: reports.Report, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not definition.chart:
        return []
    label_key, value_key = definition.chart
    values = [(str(r.get(label_key) or "—"), Decimal(r.get(value_key) or 0)) for r in rows[:CHART_BARS]]
    top = max((v for _l, v in values), default=Decimal(0)) or Decimal(1)
    return [
        {"label": label, "value": value, "width": float(value / top * 100), "y": i * 26}
        for i, (label, value) in enumerate(values)
    ]


@login_required
def report(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        definition = reports.get(slug)
    except KeyError:
        raise Http404("no such report") from None
    error = ""
    try:
        f = filters_from(request.GET)
    except ApplicationError as exc:
        error = str(exc.message)
        f = filters_from({})
    result = run(definition, request.user, f)
    cols = definition.columns
    fmt = request.GET.get("format")
    if fmt in ("xlsx", "csv") and not error:
        headers = [str(c.label) for c in cols]
        rows = [[sheet_value(c.kind, r.get(c.key)) for c in cols] for r in result.rows]
        if result.total:
            rows.append([sheet_value(c.kind, result.total.get(c.key)) for c in cols])
        name = f"{slug}-{f.first:%Y%m%d}-{f.last:%Y%m%d}"
        if fmt == "xlsx":
            return xlsx_download(f"{name}.xlsx", str(definition.title), headers, rows)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(headers)
        for row in rows:
            writer.writerow([safe_cell(v) for v in row])
        response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    table = [[text_value(c.kind, r.get(c.key)) for c in cols] for r in result.rows]
    total = None
    if result.total:
        total = [text_value(c.kind, result.total.get(c.key)) if c.key in result.total else "" for c in cols]
    return render(
        request,
        "reports/report.html",
        {
            "r": definition,
            "cols": cols,
            "table": table,
            "total": total,
            "count": result.count,
            "chart": (chart := _chart(definition, result.rows)),
            "chart_height": len(chart) * 26 + 4,
            "f": f,
            "error": error,
            "query": request.GET.urlencode(),
            "shops": org.shop_list(actor=request.user),
            "teams": org.team_list(actor=request.user),
            "next_offset": f.offset + f.limit if result.count and f.offset + f.limit < result.count else None,
        },
        status=400 if error else 200,
    )
