"""Monthly statement exports: CSV (UTF-8 with BOM for Excel) and XLSX, one row per staff member plus
one sheet of incidents."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

from kefu.core import wording
from kefu.core.exports import Money, Quantity, safe_row, write_table

SUMMARY_COLUMNS = [
    ("employee_no", "工号"),
    ("name", "姓名"),
    ("daily_wage", "日工资"),
    ("employed_days", "在职天数"),
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
    ("red_packets_due", "红包应发个数"),
    ("red_packets_sent", "红包已发个数"),
    ("red_packets_doubled", "红包翻倍个数"),
    ("holidays_worked", "法定节假日出勤天数"),
    ("warnings", "现场警告次数"),
    ("demerits", "记过次数"),
    ("full_attendance", "全勤"),
    ("points", "积分"),
]
LINE_CODES = [
    ("base_salary", "基本工资"),
    ("leave_deduction", "请假扣款"),
    ("absence_deduction", "旷工扣款"),
    ("unused_rest_pay", "未休补贴"),
    ("holiday_pay", "法定节假日加班费"),
    ("not_deducted", "扣款保底"),
    ("full_attendance_bonus", "全勤奖"),
    ("points", "积分奖罚"),
    ("net_floor", "实发保底"),
]
MONEY_KEYS = {"daily_wage", "red_packets_total", "red_packet", "base_pay"}
QUANTITY_KEYS = {"absence_days", "leave_days", "rest_days_taken", "rest_days_unused"}
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
        amounts: dict[str, Decimal] = {}
        for ln in st["lines"]:  # a month may hold several lines of one kind (a holiday each)
            amounts[ln["code"]] = amounts.get(ln["code"], Decimal("0")) + Decimal(ln["amount"])
        row = [
            ("是" if st[k] else "否") if k == "full_attendance" else _typed(k, _counted(st, k))
            for k, _ in SUMMARY_COLUMNS
        ]
        row += [Money(amounts.get(code, Decimal("0.00"))) for code, _ in LINE_CODES]
        row += [Money(st["net"]), ",".join(str(wording.label(f)) for f in st["flags"])]
        rows.append(row)
    return rows


def _counted(st: dict[str, Any], key: str) -> Any:
    """The figures the statement carries as lists or a dict: how many (SPEC §3.6, R-WF-17, R-WF-20)."""
    packets = st.get("red_packets") or {}
    if key.startswith("red_packets_") and key != "red_packets_total":
        return packets.get(key.removeprefix("red_packets_"), 0)
    if key in {"holidays_worked", "warnings", "demerits"}:
        return len(st.get(key) or [])
    return st.get(key)


def _typed(key: str, value: Any) -> Any:
    """An amount as ``Money``, a day count as ``Quantity`` (numbers in a spreadsheet); the rest as is."""
    if key in MONEY_KEYS and isinstance(value, str):
        return Money(value)
    if key in QUANTITY_KEYS and isinstance(value, str):
        return Quantity(value)
    return value


def incident_rows(document: dict[str, Any]) -> list[list[Any]]:
    rows: list[list[Any]] = [["工号", "姓名"] + [label for _, label in INCIDENT_COLUMNS]]
    for st in document["staff"]:
        for inc in st["incidents"]:
            values = [
                str(wording.label(inc[k]))
                if k == "kind"
                else dt.date.fromisoformat(inc[k])
                if k == "date"
                else _typed(k, inc[k])
                for k, _ in INCIDENT_COLUMNS
            ]
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
    """Two sheets as people want them in Excel (``write_table``): amounts as ¥ numbers, day counts
    as numbers (they sum), frozen and filtered headers, fitted columns; employee numbers stay text
    ("0012")."""
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    caption = f"月度考勤结算 {document['month']} · 制度 {document['policy']['name']} v{document['policy']['version']}"
    summary = summary_rows(document)
    write_table(wb.create_sheet("月度结算"), summary[0], summary[1:], caption=caption)
    detail = incident_rows(document)
    write_table(wb.create_sheet("考勤明细"), detail[0], detail[1:])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
