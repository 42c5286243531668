"""DingTalk attendance exports (FORMATS.md §1a, §1b) → typed day rows and punches. Pure Python.

每日统计 (daily statistics workbook): title row, generated-at row, two header rows (sub-headers under
groups such as 请假), data from row 5. 原始记录 (raw punches): one header row, one punch per row.
Both are detected by header. DingTalk's own verdicts are kept only as text; Kefu recomputes.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from kefu.policies.i18n import _

from .tabular import Cells, FileFormatError, RowError, clean, no_cells, raw_tables, row_cells, with_cells

LEAVE_WORDS = ("请假", "事假", "病假", "年假", "调休", "婚假", "产假", "丧假", "陪产假")
PERSONAL_LEAVE = ("事假", "请假")
TRIP_WORDS = ("出差", "外出")  # R-WF-21: approvals that make the day a worked one
MAKEUP_WORDS = ("补卡审批通过", "举证打卡审批通过")
HOURS_PER_DAY = 8
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(天|小时|h|d)?", re.I)
# an approval's span: "事假 10-13 08:30 到 10-16 17:30 4天" or "事假 10-13 13:00 到 10-13 17:30 0.5天"
_SPAN = re.compile(r"(\d{1,2})-(\d{1,2})\s+(\d{1,2}):(\d{2})\s*到\s*(\d{1,2})-(\d{1,2})\s+(\d{1,2}):(\d{2})")
_APPROVER = re.compile(r"(?:审批人|审批|管理员)[:：]?\s*([\u4e00-\u9fa5A-Za-z·]{2,20}?)(?:改为|审批通过|\s|$|[,，;；])")
_DATE = re.compile(r"^(\d{2,4})[-/](\d{1,2})[-/](\d{1,2})")
_TIME = re.compile(r"(次日|昨日)?\s*(\d{1,2}):(\d{2})")
_SHIFT = re.compile(r"^(?P<name>[^\s\d]+)\s*(?P<start>\d{1,2}:\d{2})?-?(?:次日)?(?P<end>\d{1,2}:\d{2})?")
_NAME_SUFFIX = re.compile(r"[（(]离职[)）]$")


@dataclass
class DayRow:
    """One person-day of 每日统计."""

    row: int
    name: str
    user_id: str
    employee_no: str
    date: dt.date
    shift: str | None  # shift name (白班); "" for a rest day; None when not scheduled
    punches: list[tuple[dt.datetime, str, str]] = field(default_factory=list)  # (time, on|off, result text)
    leave_kind: str | None = None  # a leave type seen in a result cell or the approval text
    leave_personal: bool = False
    approval: str = ""
    leave_days: Decimal = Decimal("1")  # 1, or 0.5 for DingTalk's 0.5天 / 4小时 (R-WF-22)
    leave_half: str = ""  # first | second, when the approval's times say which half
    trip: bool = False  # an approved 出差 / 外出 covers the day (R-WF-21)
    trip_span: tuple[dt.time, dt.time] | None = None  # … or the part of it the approval names
    approver: str = ""  # who approved a 补卡, as DingTalk names them (R-WF-24)
    shift_times: tuple[dt.time, dt.time] | None = None


@dataclass
class RawPunch:
    row: int
    name: str
    user_id: str
    employee_no: str
    date: dt.date
    at: dt.datetime
    kind: str  # on | off | unknown
    result: str
    approver: str = ""


@dataclass
class ParsedAttendance:
    fmt: str
    days: list[DayRow] = field(default_factory=list)
    punches: list[RawPunch] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # rows that carry no punch (缺卡), why
    period: tuple[dt.date, dt.date] | None = None
    # row number → the row's cells as the file had them (for rows the import refuses later)
    cells_of: Callable[[int], Cells] = no_cells


def person_name(text: str) -> str:
    """A name without DingTalk's （离职） suffix."""
    return _NAME_SUFFIX.sub("", text.strip()).strip()


def parse_day(text: str) -> dt.date:
    """``26-10-05 星期一`` / ``2026-10-05`` → date."""
    m = _DATE.match(text.strip())
    if not m:
        raise ValueError(_("Unreadable date: %(value)s") % {"value": text[:40]})
    year = int(m.group(1))
    year = year + 2000 if year < 100 else year
    return dt.date(year, int(m.group(2)), int(m.group(3)))


def parse_punch_time(day: dt.date, text: str) -> dt.datetime | None:
    """``08:31`` on ``day``; ``次日 00:58`` the next day, ``昨日 23:40`` the day before; blank → None."""
    text = text.strip()
    if not text or text in {"--", "-"}:
        return None
    m = _TIME.search(text)
    if not m:
        raise ValueError(_("Unreadable punch time: %(value)s") % {"value": text[:40]})
    offset = {"次日": 1, "昨日": -1}.get(m.group(1) or "", 0)
    hour, minute = int(m.group(2)), int(m.group(3))
    if hour > 23 or minute > 59:
        raise ValueError(_("Unreadable punch time: %(value)s") % {"value": text[:40]})
    return dt.datetime.combine(day + dt.timedelta(days=offset), dt.time(hour, minute))


def parse_shift(text: str) -> str | None:
    """``白班 08:30-17:30`` → ``白班``; ``休息`` → ``""``; ``未排班``/``不在考勤组``/blank → None."""
    text = text.strip()
    if not text or text in {"未排班", "不在考勤组", "--"}:
        return None
    if text.startswith("休息"):
        return ""
    m = _SHIFT.match(text)
    return m.group("name") if m else text


def shift_times(text: str) -> tuple[dt.time, dt.time] | None:
    """``白班 08:30-17:30`` → (08:30, 17:30); None when the cell names no times."""
    m = _SHIFT.match(text.strip())
    if not m or not m.group("start") or not m.group("end"):
        return None
    return dt.time.fromisoformat(m.group("start").zfill(5)), dt.time.fromisoformat(m.group("end").zfill(5))


def leave_amount(text: str) -> Decimal:
    """A leave cell or an approval's duration: ``1天``, ``0.5天``, ``4小时``, ``1`` → days (0, 0.5 or 1
    for one date; four hours or less of an eight-hour day is half a day). Empty, ``--``, ``0``,
    ``0.00`` → 0: no leave."""
    text = text.strip()
    if not text or text in {"--", "-"}:
        return Decimal("0")
    m = _DURATION.search(text)
    if not m:
        return Decimal("0")
    value = Decimal(m.group(1))
    if (m.group(2) or "").lower() in {"小时", "h"}:
        value = value / HOURS_PER_DAY
    if value <= 0:
        return Decimal("0")
    return Decimal("0.5") if value <= Decimal("0.5") else Decimal("1")


def _half_of(approval: str, shift: tuple[dt.time, dt.time] | None) -> str:
    """Which half a half-day approval takes, from its times against the shift's midpoint."""
    m = _SPAN.search(approval)
    if not m or shift is None:
        return ""
    start, end = shift
    begin = dt.datetime.combine(dt.date(2000, 1, 1), start)
    finish = dt.datetime.combine(dt.date(2000, 1, 2 if end <= start else 1), end)
    mid = (begin + (finish - begin) / 2).time()
    leave_from = dt.time(int(m.group(3)), int(m.group(4)))
    leave_to = dt.time(int(m.group(7)), int(m.group(8)))
    if leave_from >= mid and start < mid:
        return "second"
    if leave_to <= mid:
        return "first"
    return ""


def approval_span(approval: str) -> tuple[dt.time, dt.time] | None:
    """The times an approval names ("外出 09-03 14:00 到 09-03 16:00 2小时" → 14:00, 16:00); None
    when it names none (a whole-day 出差 "1天")."""
    m = _SPAN.search(approval or "")
    if not m or (m.group(1), m.group(2)) != (m.group(5), m.group(6)):
        return None  # none named, or a trip over several days: whole days
    return dt.time(int(m.group(3)), int(m.group(4))), dt.time(int(m.group(7)), int(m.group(8)))


def approver_in(*texts: str) -> str:
    """The approver's name in a 补卡 approval or an admin change (``审批人：周主管``, ``管理员周主管改为正常``)."""
    for text in texts:
        m = _APPROVER.search(text or "")
        if m:
            return m.group(1)
    return ""


def _leave_in(texts: list[str]) -> tuple[str | None, bool]:
    for text in texts:
        for word in LEAVE_WORDS:
            if word in text:
                return word, word in PERSONAL_LEAVE
    return None, False


def detect(rows: list[list[Any]]) -> tuple[str, int] | None:
    """(format, header row) of a table, by its header."""
    for index, row in enumerate(rows[:6]):
        cells = {clean(c) for c in row}
        if {"姓名", "日期", "班次"} <= cells or ({"姓名", "日期"} <= cells and "上班1打卡时间" in cells):
            return "dingtalk_daily", index + 1
        if {"姓名", "考勤日期", "打卡时间"} <= cells:
            return "dingtalk_raw", index + 1
    return None


def parse_attendance(data: bytes) -> ParsedAttendance:
    tables = raw_tables(data)
    # Prefer the 每日统计 sheet, then 原始记录, then anything recognisable.
    ranked = sorted(tables, key=lambda t: {"每日统计": 0, "原始记录": 1}.get(t[0], 2))
    for _name, raw in ranked:
        found = detect(raw)
        if found is None:
            continue
        fmt, header_row = found
        if fmt == "dingtalk_daily":
            return _parse_daily(raw, header_row)
        return _parse_raw(raw, header_row)
    raise FileFormatError(_("Unrecognised DingTalk export (it needs the 每日统计 or 原始记录 header)."))


def _header(raw: list[list[Any]], header_row: int) -> tuple[list[str], int]:
    """Merge the two header rows of 每日统计 (the sub-header wins where present)."""
    top = [clean(c) for c in raw[header_row - 1]]
    if len(raw) > header_row:
        second = [clean(c) for c in raw[header_row]]
        # The second row is a header row when it has no date in the 日期 column.
        date_col = top.index("日期") if "日期" in top else -1
        is_header = date_col >= 0 and (date_col >= len(second) or not _DATE.match(second[date_col] or ""))
        if is_header:
            width = max(len(top), len(second))
            merged = []
            for i in range(width):
                sub = second[i] if i < len(second) else ""
                merged.append(sub or (top[i] if i < len(top) else ""))
            return merged, header_row + 1
    return top, header_row


def _period(raw: list[list[Any]]) -> tuple[dt.date, dt.date] | None:
    for row in raw[:2]:
        for cell in row:
            text = clean(cell)
            m = re.search(r"(\d{4}-\d{2}-\d{2})\s*至\s*(\d{4}-\d{2}-\d{2})", text)
            if m:
                return dt.date.fromisoformat(m.group(1)), dt.date.fromisoformat(m.group(2))
    return None


def _parse_daily(raw: list[list[Any]], header_row: int) -> ParsedAttendance:
    header, last_header_row = _header(raw, header_row)
    idx = {name: i for i, name in reversed(list(enumerate(header))) if name}
    out = ParsedAttendance(fmt="dingtalk_daily", period=_period(raw))
    punch_cols: list[tuple[int, int | None, str]] = []
    for name, i in sorted(idx.items(), key=lambda kv: kv[1]):
        m = re.match(r"^(上班|下班)(\d+)打卡时间$", name)
        if m:
            result_col = idx.get(f"{m.group(1)}{m.group(2)}打卡结果")
            punch_cols.append((i, result_col, "on" if m.group(1) == "上班" else "off"))
    leave_cols = [i for name, i in idx.items() if any(w in name for w in LEAVE_WORDS) and "时长" not in name]

    def cell(row: list[Any], name: str) -> str:
        i = idx.get(name)
        return clean(row[i]) if i is not None and i < len(row) else ""

    for offset, row in enumerate(raw[last_header_row:], start=last_header_row + 1):
        if not row or all(clean(c) == "" for c in row):
            continue
        try:
            name = person_name(cell(row, "姓名"))
            if not name:
                raise ValueError(_("The name is blank."))
            day = parse_day(cell(row, "日期"))
            results: list[str] = []
            punches = []
            for time_col, result_col, kind in punch_cols:
                result = clean(row[result_col]) if result_col is not None and result_col < len(row) else ""
                results.append(result)
                at = parse_punch_time(day, clean(row[time_col]) if time_col < len(row) else "")
                if at is not None:
                    punches.append((at, kind, result))
            approval = cell(row, "关联的审批单")
            shift_text = cell(row, "班次")
            times = shift_times(shift_text)
            leave_values = [(header[i], clean(row[i])) for i in leave_cols if i < len(row)]
            amounts = [leave_amount(v) for _h, v in leave_values]
            leave_kind, personal = _leave_in([*results, approval])
            if leave_kind is None and any(amounts):
                # the column under which the amount stands names the kind (事假, 病假 …)
                column = next(h for (h, _v), a in zip(leave_values, amounts, strict=True) if a)
                leave_kind, personal = _leave_in([column])
                leave_kind, personal = (leave_kind, personal) if leave_kind else ("请假", True)
            days = max(amounts, default=Decimal("0")) or (
                leave_amount(approval.rsplit(" ", 1)[-1]) if leave_kind and approval else Decimal("0")
            )
            trip = any(w in text for text in [*results, approval] for w in TRIP_WORDS) and leave_kind is None
            out.days.append(
                DayRow(
                    row=offset,
                    name=name,
                    user_id=cell(row, "UserId"),
                    employee_no=cell(row, "工号"),
                    date=day,
                    shift=parse_shift(shift_text),
                    punches=punches,
                    leave_kind=leave_kind,
                    leave_personal=personal,
                    approval=approval,
                    leave_days=days if days and days < 1 else Decimal("1"),
                    leave_half=_half_of(approval, times) if days and days < 1 else "",
                    trip=trip,
                    trip_span=approval_span(approval) if trip else None,
                    approver=approver_in(approval, *results),
                    shift_times=times,
                )
            )
        except ValueError as exc:
            out.errors.append(RowError(offset, str(exc)))
    out.cells_of = row_cells(header, lambda n: raw[n - 1] if 0 < n <= len(raw) else None)
    out.errors = with_cells(out.errors, out.cells_of)
    return out


def _after_midnight(at: dt.datetime, kind: str, scheduled: str, text: str) -> dt.datetime:
    """An off-duty time without a date that falls before the shift's start belongs to the next
    calendar day (a night shift 17:00–01:00 of 10-05 clocked out at ``00:58`` on 10-06). The
    scheduled time (``下班 01:00``, ``下班 次日01:00``) says when the shift ends: a bare off-duty time
    in the small hours, for a shift ending in the small hours, is the next day's."""
    if kind != "off" or "次日" in text or "昨日" in text:
        return at
    m = _TIME.search(scheduled)
    if m is None:
        return at
    ends_after_midnight = (m.group(1) or "") == "次日" or int(m.group(2)) < 12
    if ends_after_midnight and at.hour < 12:
        return at + dt.timedelta(days=1)
    return at


def _parse_raw(raw: list[list[Any]], header_row: int) -> ParsedAttendance:
    header = [clean(c) for c in raw[header_row - 1]]
    idx = {name: i for i, name in reversed(list(enumerate(header))) if name}
    out = ParsedAttendance(fmt="dingtalk_raw")

    def cell(row: list[Any], name: str) -> str:
        i = idx.get(name)
        return clean(row[i]) if i is not None and i < len(row) else ""

    for offset, row in enumerate(raw[header_row:], start=header_row + 1):
        if not row or all(clean(c) == "" for c in row):
            continue
        try:
            name = person_name(cell(row, "姓名"))
            if not name:
                raise ValueError(_("The name is blank."))
            day = parse_day(cell(row, "考勤日期"))
            real = cell(row, "打卡时间")
            scheduled = cell(row, "考勤时间")
            kind = "on" if "上班" in scheduled else "off" if "下班" in scheduled else "unknown"
            result = cell(row, "打卡结果")
            if not real and ("缺卡" in result or "未打卡" in result):
                out.skipped.append((offset, result))  # no punch to record: the day's result says so
                continue
            if _DATE.match(real):
                at = dt.datetime.fromisoformat(real.replace("/", "-")[:16] if len(real) >= 16 else real)
            else:
                parsed = parse_punch_time(day, real)
                if parsed is None:
                    raise ValueError(_("The punch time is blank."))
                at = _after_midnight(parsed, kind, scheduled, real)
            out.punches.append(
                RawPunch(
                    offset, name, cell(row, "UserId"), cell(row, "工号"), day, at, kind, result,
                    approver_in(cell(row, "管理员修改备注"), result),
                )
            )  # fmt: skip
        except ValueError as exc:
            out.errors.append(RowError(offset, str(exc)))
    out.cells_of = row_cells(header, lambda n: raw[n - 1] if 0 < n <= len(raw) else None)
    out.errors = with_cells(out.errors, out.cells_of)
    return out
