"""The reports registry (SPEC §9): each module registers its reports from its AppConfig; the web
pages, the exports and ``GET /api/v1/reports/{slug}`` read them from here.

A report is a function of the actor and the filters (date range, shop, team) that returns rows as
dicts keyed by its columns' keys; the actor's scope is applied by the report itself (it reads
through scoped selectors). Detail reports page with ``limit``/``offset``; their totals cover every
row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from . import clock

TEXT, INT, MONEY, PERCENT, DATE = "text", "int", "money", "percent", "date"
MAX_DAYS = 366
DETAIL_LIMIT = 1000
DETAIL_MAX = 10_000


@dataclass(frozen=True)
class Column:
    key: str
    label: Any
    kind: str = TEXT


@dataclass(frozen=True)
class Filters:
    first: dt.date
    last: dt.date
    shop: int | None = None
    team: int | None = None
    limit: int = DETAIL_LIMIT
    offset: int = 0


@dataclass
class Result:
    rows: list[dict[str, Any]]
    total: dict[str, Any] | None = None  # the totals row, over every row (detail reports page)
    count: int | None = None  # how many rows there are in all (detail reports)


@dataclass(frozen=True)
class Report:
    slug: str
    title: Any
    columns: tuple[Column, ...]
    run: Callable[[Any, Filters], Result]
    description: Any = ""
    chart: tuple[str, str] | None = None  # (label column, value column) for a bar chart
    rule: str = ""
    detail: bool = False  # a list of records (paged), not a summary
    order: int = 100
    extra: dict[str, Any] = field(default_factory=dict)


def day_span(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The local days from ``first`` to ``last`` as [start, end) moments."""
    return clock.day_start(first), clock.day_start(last + dt.timedelta(days=1))


def share(part: int, whole: int) -> Decimal | None:
    """``part`` as a percentage of ``whole`` with two places (None when there is no whole)."""
    if not whole:
        return None
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


_REPORTS: dict[str, Report] = {}


def register(report: Report) -> Report:
    _REPORTS.setdefault(report.slug, report)
    return _REPORTS[report.slug]


def get(slug: str) -> Report:
    return _REPORTS[slug]


def all_reports() -> list[Report]:
    return sorted(_REPORTS.values(), key=lambda r: (r.order, r.slug))


@dataclass(frozen=True)
class ReportPage:
    """A report a module serves on a page of its own (the agents' KPIs, the weekly after-sales report,
    the monthly attendance statement): listed on the one report index beside the registry's reports."""

    url_name: str
    title: Any
    description: Any
    capability: str | None = None
    rule: str = ""
    order: int = 100


_PAGES: dict[str, ReportPage] = {}


def register_page(page: ReportPage) -> ReportPage:
    _PAGES.setdefault(page.url_name, page)
    return _PAGES[page.url_name]


def report_pages() -> list[ReportPage]:
    return sorted(_PAGES.values(), key=lambda p: (p.order, p.url_name))
