"""The handbook's single-value settings as form fields, grouped by section (the tables stay in TOML)."""

from __future__ import annotations

import copy
import re
from typing import Any

from django.utils.translation import gettext_lazy as _

SECTIONS = [
    (
        "attendance",
        _("Attendance"),
        [
            ("free_makeups_per_month", _("Free make-ups per month"), "R-WF-6"),
            ("offduty_makeup_red_packet", _("Off-duty make-up red packet (CNY)"), "R-WF-6"),
            ("offduty_makeup_packets", _("Off-duty make-up packets"), "R-WF-6"),
            ("missing_punch_absence_days", _("Missing punch (absence days)"), "R-WF-6"),
            ("no_show_absence_days", _("No-show (absence days)"), "R-WF-7"),
            ("red_packet_overdue_multiplier", _("Overdue red packet multiplier"), "R-WF-5"),
            ("full_attendance_bonus", _("Full attendance bonus (CNY)"), "R-WF-13"),
            ("statutory_holidays", _("Statutory holidays (dates, one per line or separated by commas)"), "R-WF-20"),
            ("holiday_pay_daily_wages", _("A statutory holiday worked pays on top (daily wages)"), "R-WF-20"),
            ("publication_weekday", _("Publication weekday (0 = Monday)"), "R-WF-14"),
            ("publication_time", _("Publication time (HH:MM)"), "R-WF-14"),
            ("punch_window_before_minutes", _("Punch window before the shift (minutes)"), "SPEC-3.2"),
            ("punch_window_after_minutes", _("Punch window after the shift (minutes)"), "SPEC-3.2"),
        ],
    ),
    (
        "leave",
        _("Rest and leave"),
        [
            ("rest_days_per_month", _("Rest days per month"), "R-WF-8"),
            ("rest_notice_days", _("Rest request notice (days)"), "R-WF-8"),
            ("unused_rest_day_pay_daily_wages", _("Unused rest day pay (daily wages)"), "R-WF-8"),
            ("leave_notice_days", _("Leave request notice (days)"), "R-WF-9"),
            ("leave_deduction_daily_wages", _("Leave deduction per day (daily wages)"), "R-WF-9"),
            ("leave_days_forfeit_next_month_rest", _("Leave days that forfeit next month's rest"), "R-WF-10"),
            ("personal_leave_cap_days_per_year", _("Personal leave cap per year (days)"), "R-WF-11"),
        ],
    ),
    ("points", _("Points"), [("yuan_per_point", _("CNY per point"), "R-WF-16")]),
    (
        "aftersales",
        _("After-sales"),
        [
            ("freight_default", _("Default freight (CNY)"), "R-AS-1"),
            ("no_reason_return_days", _("No-reason return window (days)"), "R-AS-14"),
            ("quality_return_days", _("Quality return window (days)"), "R-AS-14"),
            ("exchange_days", _("Exchange window (days)"), "R-AS-14"),
            ("discount_offer_percent", _("Keep-at-discount offer (percent of the value)"), "R-AS-3"),
            ("defect_refund_percent", _("Small partial refund (percent of the value)"), "R-AS-4"),
            ("coupon_amount", _("Coupon (CNY)"), "R-AS-4"),
            ("sla_first_response_hours", _("First response SLA (hours)"), "SPEC-5"),
            ("sla_resolution_hours", _("Resolution SLA (hours)"), "SPEC-5"),
            ("escalate_before_deadline_hours", _("Escalate before a deadline (hours)"), "SPEC-5"),
            ("ship_within_hours", _("Ship within (hours after payment)"), "R-AS-11"),
        ],
    ),
    (
        "service",
        _("Service and warranty"),
        [
            ("warranty_unit_months", _("Unit warranty (months)"), "R-SVC-1"),
            ("warranty_accessory_months", _("Accessory warranty (months)"), "R-SVC-1"),
            ("warranty_agreement_max_months", _("Agreement warranty at most (months)"), "R-SVC-1"),
            ("repairs_before_replacement", _("Repairs before replacement"), "R-SVC-3"),
            ("repair_max_days", _("Repair within (days)"), "R-SVC-4"),
            ("on_site_hours", _("On site within (hours)"), "R-SVC-6"),
        ],
    ),
    (
        "desk",
        _("Service desk"),
        [
            ("idle_flag_minutes", _("Flag an idle agent after (minutes)"), "R-DESK-2"),
            ("conversion_window_days", _("Inquiry → payment window (days)"), "R-DESK-3"),
            ("response_cap_minutes", _("A round's response time counts at most (minutes)"), "R-DESK-3"),
            ("fast_reply_seconds", _("Fast reply within (seconds)"), "R-DESK-3"),
            ("urge_after_minutes", _("Urge payment after (minutes unpaid)"), "R-DESK-6"),
            ("urge_consultation_hours", _("Consultation counts within (hours before the order)"), "R-DESK-6"),
            ("urge_due_minutes", _("Urge within (minutes)"), "R-DESK-6"),
            ("urge_max_days", _("Do not urge orders older than (days)"), "R-DESK-6"),
        ],
    ),
]


def _errors_by_path(problems: list[str] | None) -> dict[str, str]:
    """Validation problems ("path: message") as {path: first message}, to show beside each field."""
    errors: dict[str, str] = {}
    for problem in problems or []:
        path, _sep, message = str(problem).partition(": ")
        errors.setdefault(path, message)
    return errors


def field_rows(doc: dict[str, Any], problems: list[str] | None = None) -> list[dict[str, Any]]:
    """Sections with their fields, current values and each field's own problem, for the form."""
    errors = _errors_by_path(problems)
    out = []
    for section, title, fields in SECTIONS:
        values = doc.get(section, {})
        out.append(
            {
                "title": title,
                "fields": [
                    {
                        "name": f"{section}.{key}",
                        "label": label,
                        "rule": rule,
                        "value": _field_text(values.get(key, "")),
                        "error": errors.get(f"{section}.{key}", ""),
                        "multiline": isinstance(values.get(key), list),
                    }
                    for key, label, rule in fields
                    if key in values
                ],
            }
        )
    return out


def _field_text(value: Any) -> Any:
    return "\n".join(str(v) for v in value) if isinstance(value, list) else value


def apply_fields(doc: dict[str, Any], data: Any) -> dict[str, Any]:
    """A copy of ``doc`` with the posted single values applied, typed like the current values.

    A whole number that does not parse is kept as text so validation names the field.
    """
    new = copy.deepcopy(doc)
    for section, _title, fields in SECTIONS:
        for key, _label, _rule in fields:
            name = f"{section}.{key}"
            if name not in data or key not in new.get(section, {}):
                continue
            raw = str(data[name]).strip()
            current = new[section][key]
            if isinstance(current, list):  # a list of dates (or words): lines, commas or 、
                new[section][key] = [part for part in re.split(r"[\s,,、]+", raw) if part]
            elif isinstance(current, bool):
                new[section][key] = raw in {"1", "true", "on", "yes"}
            elif isinstance(current, int):
                try:
                    new[section][key] = int(raw)
                except ValueError:
                    new[section][key] = raw
            else:
                new[section][key] = raw
    return new


# --- the handbook's tables as editable rows ---------------------------------------------------

# (section, key, title, rule ids, columns: (name, label, type)); types: text, time, int, money,
# decimal (a number written as text), bool, list (comma or 、 separated).
TABLES = [
    (
        "attendance",
        "shift_types",
        _("Shift types"),
        "R-WF-1",
        [
            ("code", _("Code"), "text"),
            ("name", _("Name"), "text"),
            ("start", _("Start"), "time"),
            ("end", _("End"), "time"),
        ],
    ),
    (
        "attendance",
        "late_tiers",
        _("Late / early-leave tiers"),
        "R-WF-4",
        [
            ("min_minutes", _("From (minutes)"), "int"),
            ("max_minutes", _("To (minutes, 0 = open)"), "int"),
            ("red_packet", _("Red packet (CNY)"), "money"),
            ("packets", _("Packets"), "int"),
            ("absence_days", _("Absence days"), "decimal"),
        ],
    ),
    (
        "attendance",
        "absence_tiers",
        _("Absence deduction"),
        "R-WF-12",
        [
            ("min_days", _("From (days)"), "decimal"),
            ("daily_wages", _("Daily wages deducted"), "decimal"),
            ("whole_month", _("Whole month's salary"), "bool"),
            ("criticism_notice", _("Notice of criticism"), "bool"),
            ("dismissal", _("Dismissal"), "bool"),
        ],
    ),
    (
        "aftersales",
        "freight",
        _("Freight by province"),
        "R-AS-1",
        [("amount", _("Freight (CNY)"), "money"), ("provinces", _("Provinces"), "list")],
    ),
    (
        "points",
        "items",
        _("Point items"),
        "R-WF-15",
        [("code", _("Code"), "text"), ("name", _("Name"), "text"), ("points", _("Points"), "int")],
    ),
    (
        "desk",
        "platforms",
        _("Platform KPI windows"),
        "R-DESK-3",
        [
            ("platform", _("Platform"), "text"),
            ("window", _("Window (from、to)"), "list"),
            ("no_reply_after_minutes", _("No reply after (minutes, 0 = never)"), "int"),
        ],
    ),
    (
        "desk",
        "no_sale_reasons",
        _("Reasons for no sale"),
        "R-DESK-6",
        [("code", _("Code"), "text"), ("label", _("Label"), "text")],
    ),
]
BLANK_ROWS = 2  # empty rows under each table to add to it; clearing a row's cells removes it


def _cell_text(value: Any, kind: str) -> str:
    if kind == "list":
        return "、".join(str(v) for v in value or [])
    if kind == "bool":
        return "1" if value else ""
    return "" if value is None else str(value)


def table_rows(doc: dict[str, Any], problems: list[str] | None = None) -> list[dict[str, Any]]:
    """Each handbook table with its rows (plus blank rows to add), each cell with its own error."""
    errors = _errors_by_path(problems)
    out = []
    for section, key, title, rule, columns in TABLES:
        rows = list(doc.get(section, {}).get(key, []) or [])
        body = []
        for i in range(len(rows) + BLANK_ROWS):
            row = rows[i] if i < len(rows) and isinstance(rows[i], dict) else {}
            where = f"{section}.{key}[{i + 1}]"
            cells = [
                {
                    "name": f"{where}.{col}",
                    "kind": kind,
                    "label": label,
                    "value": _cell_text(row.get(col), kind),
                    "error": errors.get(f"{where}.{col}", ""),
                }
                for col, label, kind in columns
            ]
            body.append({"cells": cells, "error": errors.get(where, ""), "blank": i >= len(rows)})
        out.append(
            {
                "title": title,
                "rule": rule,
                "name": f"{section}.{key}",
                "columns": [label for _c, label, _k in columns],
                "rows": body,
                "error": errors.get(f"{section}.{key}", ""),
            }
        )
    return out


def _typed(raw: str, kind: str) -> Any:
    raw = raw.strip()
    if kind == "int":
        try:
            return int(raw)
        except ValueError:
            return raw  # validation names the cell
    if kind == "list":
        return [p.strip() for p in raw.replace("\u3001", ",").replace("\uff0c", ",").split(",") if p.strip()]
    if kind == "bool":
        return raw in {"1", "on", "true", "yes"}
    return raw


def apply_tables(doc: dict[str, Any], data: Any) -> dict[str, Any]:
    """A copy of ``doc`` with the posted table rows: a row whose cells are all empty is dropped (how
    a row is removed), the others typed like the column; late tiers are numbered in order."""
    new = copy.deepcopy(doc)
    for section, key, _title, _rule, columns in TABLES:
        prefix = f"{section}.{key}["
        if not any(str(name).startswith(prefix) for name in data):
            continue  # the form did not carry this table: keep it as it is
        count = len(new.get(section, {}).get(key, []) or []) + BLANK_ROWS
        rows = []
        for i in range(1, min(count, 200) + 1):
            raw = {col: str(data.get(f"{section}.{key}[{i}].{col}", "")) for col, _l, _k in columns}
            if not any(v.strip() for col, v in raw.items() if dict((c, k) for c, _l, k in columns)[col] != "bool"):
                continue
            rows.append({col: _typed(raw[col], kind) for col, _label, kind in columns})
        if key == "late_tiers":
            rows = [{"tier": n, **row} for n, row in enumerate(rows, start=1)]
        if key == "items":  # keep each point item's category where the code is unchanged
            old = {i.get("code"): i for i in (doc.get(section, {}).get(key) or []) if isinstance(i, dict)}
            rows = [
                {
                    **(
                        {"category": old[r["code"]]["category"]}
                        if r.get("code") in old and "category" in old[r["code"]]
                        else {}
                    ),
                    **r,
                }
                for r in rows
            ]
        new.setdefault(section, {})[key] = rows
    return new


def readable_problem(problem: str) -> str:
    """A validation problem as people read it: "attendance.free_makeups_per_month: must be …" →
    "每月免责补卡次数: must be …" (table rows: "班次类型 第 2 行 · 开始"); unknown paths stay."""
    path, sep, message = str(problem).partition(": ")
    if not sep:
        return str(problem)
    labels = {f"{section}.{key}": label for section, _title, fields in SECTIONS for key, label, _rule in fields}
    if path in labels:
        return f"{labels[path]}: {message}"
    for section, name, title, _rule, columns in TABLES:
        prefix = f"{section}.{name}["
        if path.startswith(prefix) and "]" in path:
            number, _close, rest = path[len(prefix) :].partition("]")
            column = dict((key, label) for key, label, _kind in columns).get(rest.lstrip("."), "")
            where = _("%(table)s, row %(n)s") % {"table": title, "n": number}
            return f"{where}{' · ' + str(column) if column else ''}: {message}"
    return str(problem)
