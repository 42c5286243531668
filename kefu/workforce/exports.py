"""Monthly statement exports: CSV (UTF-8 with BOM for Excel) and XLSX, one row per staff member plus
one sheet of incidents."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from typing import Any

from kefu.core import wording
from kefu.core.exports import append, safe_row, safe_workbook

_NUMERIC = re.compile(r"^-?\d+(\.\d+)?$")

SUMMARY_COLUMNS = [
    ("employee_no", "工号"),
    ("name", "姓名"),
    ("daily_wage", "日工资"),
    ("scheduled_days", "排班天数"),
    ("worked_days", "出勤天数"),
    ("absence_days", "旷工天数"),
    ("leave_days", "请假天数"),
    ("rest_days_entitled", "应休天数"),
    ("rest_days_taken", "已休天数"),
    ("rest_days_unused", "未休天数"),
    ("makeups", "补卡次数"),
    ("makeups_free", "免责补卡"),
    ("red_packets_total", "红包合计"),
    ("full_attendance", "全勤"),
    ("points", "积分"),
]
LINE_CODES = [
    ("base_salary", "基本工资"),
    ("leave_deduction", "请假扣款"),
    ("absence_deduction", "旷工扣款"),
    ("unused_rest_pay", "未休补贴"),
    ("full_attendance_bonus", "全勤奖"),
    ("points", "积分奖罚"),
]
INCIDENT_COLUMNS = [
    ("date", "日期"),
    ("kind", "类型"),
    ("minutes", "分钟"),
    ("tier", "档位"),
    ("red_packet", "红包"),
    ("absence_days", "旷工天数"),
    ("rule", "规则"),
    ("basis", "依据"),
]


def summary_rows(document: dict[str, Any]) -> list[list[Any]]:
    header = [label for _, label in SUMMARY_COLUMNS] + [label for _, label in LINE_CODES] + ["实发", "标记"]
    rows: list[list[Any]] = [header]
    for st in document["staff"]:
        amounts = {ln["code"]: ln["amount"] for ln in st["lines"]}
        row = [("是" if st[k] else "否") if k == "full_attendance" else st[k] for k, _ in SUMMARY_COLUMNS]
        row += [amounts.get(code, "0.00") for code, _ in LINE_CODES]
        row += [st["net"], ",".join(str(wording.label(f)) for f in st["flags"])]
        rows.append(row)
    return rows


def incident_rows(document: dict[str, Any]) -> list[list[Any]]:
    rows: list[list[Any]] = [["工号", "姓名"] + [label for _, label in INCIDENT_COLUMNS]]
    for st in document["staff"]:
        for inc in st["incidents"]:
            values = [str(wording.label(inc[k])) if k == "kind" else inc[k] for k, _ in INCIDENT_COLUMNS]
            rows.append([st["employee_no"], st["name"], *values])
    return rows


def to_csv(document: dict[str, Any]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(
        [f"月度考勤结算 {document['month']}", f"制度 {document['policy']['name']} v{document['policy']['version']}"]
    )
    writer.writerows(safe_row(r) for r in summary_rows(document))
    writer.writerow([])
    writer.writerows(safe_row(r) for r in incident_rows(document))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(document: dict[str, Any]) -> bytes:
    import openpyxl
    from openpyxl.styles import Font

    wb = openpyxl.Workbook()
    ws = wb.create_sheet("月度结算", 0)
    wb.remove(wb.worksheets[1])
    append(
        ws, [f"月度考勤结算 {document['month']}", f"制度 {document['policy']['name']} v{document['policy']['version']}"]
    )
    for row in summary_rows(document):
        append(ws, _numbers(row))
    for cell in ws[2]:
        cell.font = Font(bold=True)
    detail = wb.create_sheet("考勤明细")
    for row in incident_rows(document):
        append(detail, _numbers(row))
    for cell in detail[1]:
        cell.font = Font(bold=True)
    out = io.BytesIO()
    safe_workbook(wb).save(out)
    return out.getvalue()


def _numbers(row: list[Any]) -> list[Any]:
    """Amounts, day counts and minutes leave as numbers a spreadsheet can sum, not as text; the
    first two columns (employee no. and name) stay text whatever they look like ("0012")."""
    return row[:2] + [_number(v) for v in row[2:]]


def _number(value: Any) -> Any:
    if isinstance(value, str) and _NUMERIC.match(value):
        return Decimal(value)
    return value
