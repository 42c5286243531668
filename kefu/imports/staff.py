"""Staff list files: ``工号,姓名,岗位,团队,基本工资,钉钉UserId,入职日期[,离职日期]`` (or the English aliases)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kefu.policies.i18n import _
from kefu.policies.money import PRICE_MAX

from .tabular import (
    Cells,
    FileFormatError,
    RowError,
    iter_records,
    no_cells,
    parse_datetime,
    parse_decimal,
    raw_tables,
    sheet_from,
    sheet_row_cells,
    with_cells,
)

COLUMNS: dict[str, tuple[str, ...]] = {
    "employee_no": ("工号", "employee_no"),
    "name": ("姓名", "name"),
    "position": ("岗位", "position"),
    "team": ("团队", "team"),
    "base_salary": ("基本工资", "base_salary"),
    "dingtalk_user_id": ("钉钉UserId", "UserId", "dingtalk_user_id"),
    "hire_date": ("入职日期", "hire_date"),
    "leave_date": ("离职日期", "leave_date"),  # R-WF-18: the last day employed (optional)
    "phone": ("工作电话", "电话", "手机", "phone"),
}

# base_salary is DecimalField(max_digits=10): at most 99,999,999.99
SALARY_LIMIT = PRICE_MAX


@dataclass
class StaffRecord:
    row: int
    employee_no: str
    values: dict[str, Any]


@dataclass
class ParsedStaff:
    records: list[StaffRecord] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    present: set[str] = field(default_factory=set)
    cells_of: Callable[[int], Cells] = no_cells


def parse_staff(data: bytes, positions: dict[str, str]) -> ParsedStaff:
    """``positions`` maps accepted position names (Chinese and codes) to position codes."""
    tables = raw_tables(data)
    _name, raw = tables[0]
    sheet = sheet_from(raw)
    index = sheet.index()
    out = ParsedStaff()
    out.present = {f for f, names in COLUMNS.items() if any(n in index for n in names)}
    missing = {"employee_no", "name", "position"} - out.present
    if missing:
        headers = [COLUMNS[f][0] for f in ("employee_no", "name", "position") if f in missing]  # 工号, 姓名, 岗位
        raise FileFormatError(_("Missing columns: %(columns)s") % {"columns": ", ".join(headers)})
    seen: dict[str, int] = {}
    for number, rec in iter_records(sheet, COLUMNS):
        try:
            no = rec["employee_no"]
            if not no:
                raise ValueError(_("The employee no. is blank."))
            if no in seen:
                raise ValueError(_("Duplicate employee no. (as row %(row)s).") % {"row": seen[no]})
            if not rec["name"]:
                raise ValueError(_("The name is blank."))
            position = positions.get(rec["position"]) or positions.get(rec["position"].lower())
            if position is None:
                raise ValueError(_("Unknown position: %(value)s") % {"value": rec["position"][:20]})
            values: dict[str, Any] = {"name": rec["name"][:64], "position": position}
            if "team" in rec:
                values["team"] = rec["team"][:100]
            if "base_salary" in rec:
                salary = parse_decimal(rec["base_salary"], what="基本工资", limit=SALARY_LIMIT)
                if salary < 0:
                    raise ValueError(_("The base salary cannot be negative."))
                values["base_salary"] = salary
            if "dingtalk_user_id" in rec:
                values["dingtalk_user_id"] = rec["dingtalk_user_id"][:64]
            if "phone" in rec:
                if len(rec["phone"]) > 32 or any(c not in "0123456789+-() " for c in rec["phone"]):
                    raise ValueError(_("The phone number is not valid."))
                values["phone"] = rec["phone"]
            if "hire_date" in rec:
                when = parse_datetime(rec["hire_date"], what="入职日期")
                values["hire_date"] = when.date() if when else None
            if "leave_date" in rec:
                when = parse_datetime(rec["leave_date"], what="离职日期")
                values["leave_date"] = when.date() if when else None
                hired = values.get("hire_date")
                if values["leave_date"] and hired and values["leave_date"] < hired:
                    raise ValueError(_("The leaving date is before the hire date."))
        except ValueError as exc:
            out.errors.append(RowError(number, str(exc)))
            continue
        seen[no] = number
        out.records.append(StaffRecord(number, no[:32], values))
    out.cells_of = sheet_row_cells(sheet)
    out.errors = with_cells(out.errors, out.cells_of)
    return out
