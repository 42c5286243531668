"""Attendance rules of the handbook (SPEC §3, R-WF-1 … R-WF-16), pure Python.

Input: the policy document (a dict, see ``presets/seed_handbook.toml``), one staff member's roster,
punches, certified make-ups and approved requests for a month. Output: every day's result and the
month's statement, each incident and money line citing its rule and the facts behind it.

Times are naive local (Asia/Shanghai) datetimes. Nothing here reads the clock or the database, so
the same input always gives the same output, whatever the order of the punches.

Readings taken (beyond SPEC's own):
- R-WF-8 (clarified 2026-11-23): the roster's rest days (Kefu's roster, DingTalk's 休息) *are* the rest
  days taken; an approved rest request on a scheduled working day moves that day to rest. Taken =
  roster rest days + approved rest on scheduled days, up to the entitlement; unused = entitlement −
  taken (never below 0), paid at one daily wage each. Roster rest beyond the entitlement is neither
  paid nor deducted; an approved rest *request* beyond it counts as leave. A day with no roster entry
  (未排班, 不在考勤组) is neither worked nor rest. Roster rest days are counted before requests, so
  the result does not depend on the order of the days.
- A punch belongs to the shift whose window (start − ``punch_window_before_minutes`` … end +
  ``punch_window_after_minutes``) contains it; the on-duty punch is the earliest before the shift's
  midpoint, the off-duty punch the latest after it.
- Make-ups are numbered in time order across the month; the first ``free_makeups_per_month`` count as
  on time whatever their kind.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from kefu.policies.i18n import _
from kefu.policies.i18n import days as days_phrase

CENT = Decimal("0.01")
ZERO = Decimal("0")
HALF = Decimal("0.5")

ON, OFF, UNKNOWN = "on", "off", "unknown"
MAKEUP = "makeup"
REST, LEAVE, TRIP = "rest", "leave", "trip"
PENDING = "pending"  # a scheduled day whose punch window has not closed yet
HOLIDAY = "holiday"  # a statutory holiday the roster gives as rest (R-WF-20)
NOT_EMPLOYED = "not_employed"  # before the hire date or after the leaving date (R-WF-18)
HALF_LEAVE = "half_leave"  # half a day of leave, the other half worked (R-WF-22)
FIRST_HALF, SECOND_HALF = "first", "second"


def worked_share(day: DayResult) -> Decimal:
    """How much of the day was worked: a whole day (worked, partly punched, a trip), half a day (half a
    day of leave with a punch in the other half), or nothing (half a day of leave and no punch)."""
    if day.status in {"worked", "partial", TRIP}:
        return Decimal("1")
    if day.status == HALF_LEAVE and (day.on_duty is not None or day.off_duty is not None):
        return HALF
    return ZERO


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShiftType:
    code: str
    name: str
    start: dt.time
    end: dt.time

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start

    def window(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """R-WF-1: the shift belongs to the day it starts on; a night shift ends the next day."""
        start = dt.datetime.combine(day, self.start)
        end = dt.datetime.combine(day + dt.timedelta(days=1) if self.crosses_midnight else day, self.end)
        return start, end


@dataclass(frozen=True, order=True)
class Punch:
    at: dt.datetime
    kind: str = UNKNOWN  # on | off | unknown
    source: str = "app"  # app | machine | makeup | api
    ref: str = ""  # where it came from (import row, punch id), for the statement's basis
    # a make-up carrying only the shift's scheduled time (DingTalk's 补卡), not when the person came
    scheduled_only: bool = False


@dataclass(frozen=True)
class Request:
    """An approved day off — rest (R-WF-8) or leave (R-WF-9) — or a business trip or outing (R-WF-21);
    ``days`` is 1 or 0.5 for that date, and a half day names its half (R-WF-22)."""

    day: dt.date
    kind: str  # rest | leave | trip
    days: Decimal = Decimal("1")
    personal: bool = True  # personal leave counts against the yearly cap (R-WF-11)
    ref: str = ""
    half: str = ""  # first | second (of the shift, split at its midpoint); "" = not said
    source: str = "kefu"  # kefu | dingtalk: the same leave from both counts once, DingTalk's stands
    # a trip or outing for part of the day (DingTalk's "外出 09-03 14:00 到 09-03 16:00"): from, to
    span: tuple[dt.time, dt.time] | None = None


@dataclass(frozen=True)
class StaffMonthInput:
    employee_no: str
    name: str
    base_salary: Decimal
    year: int
    month: int
    roster: dict[dt.date, str | None]  # date → shift code; "" = rest (休息); None or absent = not scheduled
    punches: Sequence[Punch] = ()
    requests: Sequence[Request] = ()
    leave_days_previous_month: Decimal = ZERO  # R-WF-10
    personal_leave_days_before_month: Decimal = ZERO  # this calendar year, R-WF-11
    points: int = 0  # net points of the month (R-WF-16)
    # R-WF-17: warnings and 记过 of the month as (date, item name, category), shown on the statement
    conduct: Sequence[tuple[dt.date, str, str]] = ()
    hire_date: dt.date | None = None  # R-WF-18: days before it are not the person's
    leave_date: dt.date | None = None  # R-WF-18: the last day employed
    # Local time the statement is drawn at: a shift whose punch window has not closed by then is
    # "pending" (no absence, no missing punch yet). None = the month is over, judge every day.
    as_of: dt.datetime | None = None


# ---------------------------------------------------------------------------------------------
# Outputs
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tier:
    tier: int
    red_packet: Decimal
    packets: int
    absence_days: Decimal


def penalty_basis(args: dict[str, Any]) -> str:
    """The sentence explaining a graded incident, in the reader's language, from its facts (stored
    with a red packet, so the packet reads in whatever language its reader uses)."""
    if args.get("what") == "makeup_pending":
        return _(
            "On-duty make-up no. %(n)s this month (beyond the %(free)s free ones) carries only the scheduled "
            "time: it is graded once the supervisor enters when the person came"
        ) % {"n": args.get("n", ""), "free": args.get("free", "")}
    if args.get("what") == "makeup":
        return _("Off-duty make-up no. %(n)s this month, beyond the %(free)s free ones") % {
            "n": args.get("n", ""),
            "free": args.get("free", ""),
        }
    made_up = _(", make-up no. %(n)s this month") % {"n": args["makeup"]} if args.get("makeup") else ""
    text = (
        _("%(shift)s on duty %(time)s, punched %(punch)s%(makeup)s → %(minutes)s minutes")
        if args.get("what") == "late"
        else _("%(shift)s off duty %(time)s, punched %(punch)s%(makeup)s → %(minutes)s minutes")
    )
    return text % {
        "shift": args.get("shift", ""),
        "time": args.get("time", ""),
        "punch": args.get("punch", ""),
        "makeup": made_up,
        "minutes": args.get("minutes", ""),
    }


@dataclass
class Incident:
    date: dt.date
    kind: str  # late | early | makeup | missing | absent
    minutes: int
    tier: int | None
    red_packet: Decimal
    packets: int
    absence_days: Decimal
    rule: str
    basis: str
    # what the basis sentence is made of (penalty_basis renders it again in the reader's language)
    basis_args: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "kind": self.kind,
            "minutes": self.minutes,
            "tier": self.tier,
            "red_packet": money(self.red_packet),
            "packets": self.packets,
            "absence_days": days_str(self.absence_days),
            "rule": self.rule,
            "basis": self.basis,
        }


@dataclass
class DayResult:
    date: dt.date
    shift: str | None
    status: str  # worked | partial | rest | holiday | leave | half_leave | trip | absent | off | pending | not_employed
    on_duty: dt.datetime | None = None
    off_duty: dt.datetime | None = None
    late_minutes: int = 0
    early_minutes: int = 0
    extension_minutes: int = 0
    incidents: list[Incident] = field(default_factory=list)
    makeups: list[str] = field(default_factory=list)  # "free" | "graded" | "pending" per make-up used
    ignored: list[str] = field(default_factory=list)  # make-ups refused: a real punch of that kind exists
    unneeded: list[str] = field(default_factory=list)  # approved rest/leave on a day the roster gives off
    holiday: bool = False  # a statutory holiday (R-WF-20)

    def as_dict(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "shift": self.shift,
            "status": self.status,
            "on_duty": self.on_duty.strftime("%Y-%m-%d %H:%M") if self.on_duty else None,
            "off_duty": self.off_duty.strftime("%Y-%m-%d %H:%M") if self.off_duty else None,
            "late_minutes": self.late_minutes,
            "early_minutes": self.early_minutes,
            "extension_minutes": self.extension_minutes,
            "incidents": [i.as_dict() for i in self.incidents],
            "holiday": self.holiday,
            "ignored_makeups": list(self.ignored),
            "unneeded_requests": list(self.unneeded),
        }


@dataclass
class Line:
    code: str
    amount: Decimal
    rule: str
    basis: str

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "amount": money(self.amount), "rule": self.rule, "basis": self.basis}


@dataclass
class Statement:
    employee_no: str
    name: str
    year: int
    month: int
    base_salary: Decimal
    daily_wage: Decimal
    days: list[DayResult]
    incidents: list[Incident]
    scheduled_days: int
    worked_days: int
    absence_days: Decimal
    leave_days: Decimal
    rest_days_entitled: int
    rest_days_taken: Decimal
    rest_days_unused: Decimal
    makeups: int
    makeups_free: int
    red_packets_total: Decimal
    full_attendance: bool
    points: int
    lines: list[Line]
    net: Decimal
    flags: list[str]
    employed_days: int = 0
    days_in_month: int = 0
    base_pay: Decimal = ZERO  # R-WF-18: the base salary for the days employed
    not_deducted: Decimal = ZERO  # R-WF-19: deductions beyond the base pay
    holidays_worked: list[dt.date] = field(default_factory=list)
    estimate: bool = False  # the month is still running (as_of)
    warnings: list[tuple[dt.date, str]] = field(default_factory=list)  # R-WF-17: on-the-spot warnings
    demerits: list[tuple[dt.date, str]] = field(default_factory=list)  # R-WF-15: 记过

    def as_dict(self) -> dict[str, Any]:
        return {
            "employee_no": self.employee_no,
            "name": self.name,
            "base_salary": money(self.base_salary),
            "daily_wage": money(self.daily_wage),
            "scheduled_days": self.scheduled_days,
            "worked_days": self.worked_days,
            "incidents": [i.as_dict() for i in self.incidents],
            "absence_days": days_str(self.absence_days),
            "leave_days": days_str(self.leave_days),
            "rest_days_entitled": self.rest_days_entitled,
            "rest_days_taken": days_str(self.rest_days_taken),
            "rest_days_unused": days_str(self.rest_days_unused),
            "makeups": self.makeups,
            "makeups_free": self.makeups_free,
            "red_packets_total": money(self.red_packets_total),
            "full_attendance": self.full_attendance,
            "points": self.points,
            "lines": [ln.as_dict() for ln in self.lines],
            "net": money(self.net),
            "flags": list(self.flags),
            "days": [d.as_dict() for d in self.days],
            "employed_days": self.employed_days,
            "days_in_month": self.days_in_month,
            "base_pay": money(self.base_pay),
            "not_deducted": money(self.not_deducted),
            "holidays_worked": [d.isoformat() for d in self.holidays_worked],
            "estimate": self.estimate,
            "warnings": [{"date": d.isoformat(), "item": name} for d, name in self.warnings],
            "demerits": [{"date": d.isoformat(), "item": name} for d, name in self.demerits],
        }


def money(value: Decimal) -> str:
    return f"{value.quantize(CENT, rounding=ROUND_HALF_UP):.2f}"


def days_str(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


# ---------------------------------------------------------------------------------------------
# Policy access
# ---------------------------------------------------------------------------------------------


def _time(text: str) -> dt.time:
    hours, minutes = text.split(":")
    return dt.time(int(hours), int(minutes))


def shift_types(policy: dict[str, Any]) -> dict[str, ShiftType]:
    return {
        s["code"]: ShiftType(s["code"], s["name"], _time(s["start"]), _time(s["end"]))
        for s in policy["attendance"]["shift_types"]
    }


def grade(policy: dict[str, Any], minutes: int) -> Tier | None:
    """R-WF-4: the tier of a late/early incident of ``minutes`` (None when on time)."""
    if minutes <= 0:
        return None
    for t in policy["attendance"]["late_tiers"]:
        if minutes >= t["min_minutes"] and (t["max_minutes"] == 0 or minutes <= t["max_minutes"]):
            return Tier(t["tier"], Decimal(t["red_packet"]), int(t["packets"]), Decimal(t["absence_days"]))
    raise ValueError(f"no tier for {minutes} minutes")  # validation guarantees contiguous tiers


def absence_deduction(policy: dict[str, Any], absence_days: Decimal) -> tuple[Decimal, bool, bool, str]:
    """R-WF-12: (daily wages to deduct or -1 for the whole month, criticism, dismissal, basis)."""
    chosen = None
    for tier in policy["attendance"]["absence_tiers"]:
        if absence_days >= Decimal(tier["min_days"]):
            chosen = tier
    if chosen is None:
        return ZERO, False, False, ""
    wages = Decimal("-1") if chosen["whole_month"] else Decimal(chosen["daily_wages"])
    return (
        wages,
        bool(chosen["criticism_notice"]),
        bool(chosen["dismissal"]),
        _("≥ %(span)s") % {"span": days_phrase(chosen["min_days"])},
    )


def daily_wage(base_salary: Decimal, year: int, month: int) -> Decimal:
    """R-WF-8: daily wage = base monthly salary / number of days in that month, kept exact: each
    statement line rounds once, to the cent, after multiplying (3 daily wages of ¥4,600 in a 30-day
    month are ¥460.00, not 3 × ¥153.33 = ¥459.99). Shown to people rounded to the cent."""
    return base_salary / calendar.monthrange(year, month)[1]


def next_publication(policy: dict[str, Any], day: dt.date) -> dt.date:
    """R-WF-5/14: the first weekly publication day strictly after ``day`` (a red packet is due then)."""
    weekday = int(policy["attendance"]["publication_weekday"])
    ahead = (weekday - day.weekday()) % 7 or 7
    return day + dt.timedelta(days=ahead)


def _minute(value: dt.datetime) -> dt.datetime:
    """R-WF-3: compare at whole-minute precision (seconds dropped)."""
    return value.replace(second=0, microsecond=0)


def _minutes(delta: dt.timedelta) -> int:
    return int(delta.total_seconds() // 60)


# ---------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------


@dataclass
class _Month:
    """What one month's evaluation carries from day to day."""

    policy: dict[str, Any]
    data: StaffMonthInput
    shifts: dict[str, ShiftType]
    first: dt.date
    last: dt.date
    employed_from: dt.date
    employed_to: dt.date
    holidays: frozenset[dt.date]
    entitled: int
    cap: Decimal
    personal_used: Decimal
    free_makeups: int
    by_day: dict[dt.date, list[Punch]]
    requests: dict[dt.date, list[Request]]
    rest_taken: Decimal = ZERO
    leave_days: Decimal = ZERO
    makeups_seen: int = 0
    makeups_free: int = 0

    @property
    def employed_days(self) -> int:
        return max(0, (self.employed_to - self.employed_from).days + 1)

    @property
    def days_in_month(self) -> int:
        return (self.last - self.first).days + 1


def rest_entitlement(per_month: int, employed_days: int, days_in_month: int) -> int:
    """R-WF-8 prorated by R-WF-18: a part month earns its share of the rest days, rounded half-up to
    a whole day (before R-WF-10's forfeit)."""
    if employed_days >= days_in_month:
        return per_month
    return _round_days(Decimal(per_month * employed_days) / days_in_month)


def _round_days(value: Decimal) -> int:
    return int(value.quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def statutory_holidays(policy: dict[str, Any]) -> frozenset[dt.date]:
    """R-WF-20: the statutory days of the policy (ISO dates; absent from versions before 2026-12)."""
    return frozenset(dt.date.fromisoformat(d) for d in policy["attendance"].get("statutory_holidays", ()))


def _month(policy: dict[str, Any], data: StaffMonthInput) -> _Month:
    leave_policy = policy["leave"]
    first = dt.date(data.year, data.month, 1)
    last = dt.date(data.year, data.month, calendar.monthrange(data.year, data.month)[1])
    employed_from = max(first, data.hire_date) if data.hire_date else first
    employed_to = min(last, data.leave_date) if data.leave_date else last
    # Sorting by a tuple key runs in C; the dataclass's generated ordering is several times slower.
    punches = sorted(set(data.punches), key=lambda p: (p.at, p.kind, p.source, p.ref))
    by_day: dict[dt.date, list[Punch]] = {}
    for p in punches:
        by_day.setdefault(p.at.date(), []).append(p)
    requests: dict[dt.date, list[Request]] = {}
    for req in sorted(data.requests, key=lambda r: (r.day, r.kind, r.days, r.ref, r.source, r.half, r.personal)):
        requests.setdefault(req.day, []).append(req)
    month = _Month(
        policy=policy,
        data=data,
        shifts=shift_types(policy),
        first=first,
        last=last,
        employed_from=employed_from,
        employed_to=employed_to,
        holidays=statutory_holidays(policy),
        entitled=0,
        cap=Decimal(leave_policy["personal_leave_cap_days_per_year"]),
        personal_used=data.personal_leave_days_before_month,
        free_makeups=int(policy["attendance"]["free_makeups_per_month"]),
        by_day=by_day,
        requests=requests,
    )
    month.entitled = rest_entitlement(
        int(leave_policy["rest_days_per_month"]), month.employed_days, month.days_in_month
    )
    if data.leave_days_previous_month > Decimal(leave_policy["leave_days_forfeit_next_month_rest"]):
        month.entitled = 0  # R-WF-10
    # R-WF-8: the roster's rest days are rest days taken (up to the entitlement), counted first; a
    # roster rest on a statutory holiday is the holiday itself (R-WF-20)
    trips = {r.day for r in data.requests if r.kind == TRIP}  # a trip on a roster rest day is work (R-WF-21)
    roster_rest = sum(
        1
        for d, c in data.roster.items()
        if c == "" and employed_from <= d <= employed_to and d not in month.holidays and d not in trips
    )
    month.rest_taken = min(Decimal(roster_rest), Decimal(month.entitled))
    return month


def one_status(requests: Sequence[Request]) -> list[Request]:
    """R-WF-23: one day, one status. A trip is work and stands alone; otherwise one whole-day rest or
    leave, or one request per named half. Of two for the same day, DingTalk's record stands (the
    same leave arriving from DingTalk and from Kefu counts once; a rest approved twice is taken once)."""
    trips = [r for r in requests if r.kind == TRIP]
    if trips:
        return trips[:1]
    # a total order (whatever order the records came in): whole days, DingTalk's, then by kind
    ordered = sorted(
        # a rest already given stands over a leave on the same day (a rest displaced by leave would
        # be paid back as unused rest: more leave would raise pay — hypothesis found it)
        requests,
        key=lambda r: (r.days < 1, r.source != "dingtalk", r.kind != REST, r.kind, r.half, not r.personal, r.ref),
    )
    if not ordered or ordered[0].days >= 1:
        return ordered[:1]
    kept = ordered[:1]
    for req in ordered[1:]:
        if len(kept) == 1 and req.half and kept[0].half and req.half != kept[0].half:
            kept.append(req)
    return kept


def _absence(day: dt.date, days: Decimal, rule: str, basis: str, kind: str = "absent") -> Incident:
    return Incident(day, kind, 0, None, ZERO, 0, days, rule, basis)


def _cover(month: _Month, result: DayResult, requests: list[Request]) -> Decimal:
    """Apply the day's approved rest and leave; the part of the day they cover (0, 0.5 or 1)."""
    covered = ZERO
    for req in requests:
        if req.kind == REST and (result.holiday or month.rest_taken + req.days <= month.entitled):
            if not result.holiday:  # a rest on a statutory holiday is the holiday (R-WF-20)
                month.rest_taken += req.days
            covered += req.days
            result.status = HOLIDAY if result.holiday else REST
            continue
        within = req.days
        if req.personal and month.personal_used + req.days > month.cap:  # R-WF-11
            over = min(req.days, month.personal_used + req.days - month.cap)
            within = req.days - over
            result.incidents.append(
                _absence(
                    result.date,
                    over,
                    "R-WF-11",
                    _("Personal leave over the yearly cap of %(cap)s days (%(ref)s)")
                    % {"cap": month.cap, "ref": req.ref or result.date},
                )
            )
        if req.personal:
            month.personal_used += within
        month.leave_days += within
        covered += req.days
        result.status = LEAVE if within else "absent"
    return covered


def _worked_half(requests: list[Request], punches: list[Punch], start: dt.datetime, end: dt.datetime) -> str:
    """R-WF-22: which half a half-day of leave leaves to work. Named, or (DingTalk's 0.5天 names no
    half) the half the punches show: a first punch in the shift's first quarter means the morning
    was worked; a first punch later (around the midpoint) means the afternoon was."""
    named = next((r.half for r in requests if r.half), "")
    if named:
        return SECOND_HALF if named == FIRST_HALF else FIRST_HALF
    quarter = start + (end - start) / 4
    first = min((p.at for p in punches), default=None)
    return FIRST_HALF if first is None or first <= quarter else SECOND_HALF


def _pick(candidates: list[Punch], result: DayResult, *, last: bool) -> Punch | None:
    """R-WF-24: a make-up fills only a missing punch — where a real punch of that kind exists, the
    real one is graded and the make-ups are recorded as ignored."""
    real = [p for p in candidates if p.source != MAKEUP]
    if real:
        result.ignored += [p.ref or f"{p.at:%H:%M}" for p in candidates if p.source == MAKEUP]
        return real[-1] if last else real[0]
    if not candidates:
        return None
    # R-WF-24: DingTalk's make-up at the scheduled time waits for its actual time; once a supervisor
    # certifies the make-up with the actual time, that one is graded and the placeholder ignored.
    actual = [p for p in candidates if not p.scheduled_only]
    if actual and len(actual) < len(candidates):
        result.ignored += [p.ref or f"{p.at:%H:%M}" for p in candidates if p.scheduled_only]
        candidates = actual
    return candidates[-1] if last else candidates[0]


def _grade_side(month: _Month, result: DayResult, shift: ShiftType, punch: Punch, side: str, due: dt.datetime) -> None:
    """Grade one punch against the time it was due (R-WF-4), make-ups first (R-WF-6, R-WF-24)."""
    att = month.policy["attendance"]
    if side == ON:
        minutes = _minutes(_minute(punch.at) - due)
        result.late_minutes = max(0, minutes)
    else:
        minutes = _minutes(due - _minute(punch.at))
        result.early_minutes = max(0, minutes)
        result.extension_minutes = max(0, -minutes)  # R-WF-2: never a penalty
    if punch.source == MAKEUP:
        month.makeups_seen += 1
        if month.makeups_seen <= month.free_makeups:
            month.makeups_free += 1
            result.makeups.append("free")
            return  # R-WF-6: counts as on time
        if side == OFF:
            result.makeups.append("graded")
            amount = Decimal(att["offduty_makeup_red_packet"])
            args = {"what": "makeup", "n": month.makeups_seen, "free": month.free_makeups}
            result.incidents.append(
                Incident(
                    result.date, "makeup", 0, None, amount, int(att["offduty_makeup_packets"]), ZERO, "R-WF-6",
                    penalty_basis(args), args,
                )
            )  # fmt: skip
            return
        if punch.scheduled_only:  # R-WF-24: graded by the actual time, which nobody has entered yet
            result.makeups.append("pending")
            args = {"what": "makeup_pending", "n": month.makeups_seen, "free": month.free_makeups}
            result.incidents.append(
                Incident(result.date, "makeup_pending", 0, None, ZERO, 0, ZERO, "R-WF-24", penalty_basis(args), args)
            )
            return
        result.makeups.append("graded")
    tier = grade(month.policy, minutes)
    if tier is None:
        return
    args = {
        "what": "late" if side == ON else "early",
        "shift": shift.name,
        "time": f"{due:%H:%M}",
        "punch": f"{punch.at:%m-%d %H:%M}",
        "makeup": month.makeups_seen if punch.source == MAKEUP else 0,
        "minutes": minutes,
    }
    result.incidents.append(
        Incident(
            result.date, "late" if side == ON else "early", minutes, tier.tier, tier.red_packet, tier.packets,
            tier.absence_days, "R-WF-4", penalty_basis(args), args,
        )
    )  # fmt: skip


def _covers(span: tuple[dt.time, dt.time], window: tuple[dt.datetime, dt.datetime], day: dt.date) -> bool:
    """Does an outing's span (on the shift's day) cover the whole shift?"""
    start, end = dt.datetime.combine(day, span[0]), dt.datetime.combine(day, span[1])
    if end <= start:
        end += dt.timedelta(days=1)  # an outing into the night
    return start <= window[0] and end >= window[1]


def _evaluate_day(month: _Month, day: dt.date) -> DayResult:
    att = month.policy["attendance"]
    data = month.data
    if not month.employed_from <= day <= month.employed_to:
        return DayResult(day, None, NOT_EMPLOYED)  # R-WF-18: not worked, rest, leave nor absence
    holiday = day in month.holidays
    code = data.roster.get(day)
    requests = one_status(month.requests.get(day, []))
    outing: tuple[dt.datetime, dt.datetime] | None = None
    if requests and requests[0].kind == TRIP:
        shift_of_day = month.shifts.get(code) if code else None
        span = requests[0].span
        if span is None or shift_of_day is None or _covers(span, shift_of_day.window(day), day):
            # R-WF-21: a worked day — never absence, leave or rest, even on a day the roster gives off
            # (then it takes no rest day: ``_month`` leaves it out); its punches are not graded
            return DayResult(day, code or None, TRIP, holiday=holiday)
        # an outing for part of the shift: the day is worked and graded, except the edge it covers
        outing = (dt.datetime.combine(day, span[0]), dt.datetime.combine(day, span[1]))
        requests = []
    if code == "":
        # the roster gives the day off: an approved rest or leave for it is not needed (nothing is
        # deducted or taken), and the statement says so rather than dropping it
        return DayResult(
            day, None, HOLIDAY if holiday else REST, holiday=holiday, unneeded=[r.ref or r.kind for r in requests]
        )
    shift = month.shifts.get(code) if code else None
    if shift is None:
        return DayResult(day, None, "off", holiday=holiday)
    result = DayResult(day, shift.code, "worked", holiday=holiday)
    covered = _cover(month, result, requests)
    if covered >= 1:
        return result

    start, end = shift.window(day)
    lo = start - dt.timedelta(minutes=int(att.get("punch_window_before_minutes", 180)))
    hi = end + dt.timedelta(minutes=int(att.get("punch_window_after_minutes", 240)))
    if data.as_of is not None and hi > data.as_of:
        result.status = PENDING  # its punch window is still open: nothing to judge yet
        return result
    mid = start + (end - start) / 2
    nearby = [
        p
        for offset in range((lo.date() - day).days, (hi.date() - day).days + 1)
        for p in month.by_day.get(day + dt.timedelta(days=offset), ())
    ]
    mine = [p for p in nearby if lo <= p.at <= hi]
    due_on, due_off = start, end
    if covered == HALF:  # R-WF-22: the worked half is graded, its edge at the shift's midpoint
        result.status = HALF_LEAVE
        if _worked_half(requests, mine, start, end) == FIRST_HALF:
            due_off = mid
        else:
            due_on = mid
    split = due_on + (due_off - due_on) / 2
    on = _pick([p for p in mine if p.kind in (ON, UNKNOWN) and p.at < split], result, last=False)
    off = _pick([p for p in mine if p.kind in (OFF, UNKNOWN) and p.at >= split], result, last=True)
    result.on_duty = on.at if on else None
    result.off_duty = off.at if off else None

    # R-WF-21: an outing covering an edge of the shift excuses that edge's punch
    excused = (
        {side for side, due in ((ON, due_on), (OFF, due_off)) if (outing[0] <= due if side == ON else outing[1] >= due)}
        if outing is not None
        else set()
    )
    if on is None and off is None and not excused:
        if covered == HALF:
            result.incidents.append(
                _absence(day, HALF, "R-WF-22", _("Half a day of leave and no punch for the other half"))
            )
            return result
        result.status = "absent"
        result.incidents.append(
            _absence(
                day,
                Decimal(att["no_show_absence_days"]),
                "R-WF-7",
                _("Scheduled %(shift)s, no punch and no approved leave or rest") % {"shift": shift.name},
            )
        )
        return result
    for punch, side, due in ((on, ON, due_on), (off, OFF, due_off)):
        if side in excused:
            continue
        if punch is None:
            if result.status != HALF_LEAVE:
                result.status = "partial"
            result.incidents.append(
                _absence(
                    day,
                    Decimal(att["missing_punch_absence_days"]),
                    "R-WF-6",
                    _("Missing on-duty punch, no certified make-up")
                    if side == ON
                    else _("Missing off-duty punch, no certified make-up"),
                    kind="missing",
                )
            )
            continue
        _grade_side(month, result, shift, punch, side, due)
    return result


def _money_lines(month: _Month, days: list[DayResult], incidents: list[Incident]) -> tuple[list[Line], list[str]]:
    """The statement's money (SPEC §3.6, R-WF-18/19/20): the base for the days employed, deductions
    that stop at it, then what is earned on top; the net is never below zero."""
    policy, data = month.policy, month.data
    att, leave_policy = policy["attendance"], policy["leave"]
    wage = daily_wage(data.base_salary, data.year, data.month)
    partial = month.employed_days < month.days_in_month
    if partial:
        base_pay = (data.base_salary * month.employed_days / month.days_in_month).quantize(CENT, ROUND_HALF_UP)
        base = Line(
            "base_salary",
            base_pay,
            "R-WF-18",
            _("Base salary %(salary)s × %(days)s of %(month)s days employed (%(start)s … %(end)s)")
            % {
                "salary": money(data.base_salary),
                "days": month.employed_days,
                "month": month.days_in_month,
                "start": month.employed_from.isoformat(),
                "end": month.employed_to.isoformat(),
            },
        )
    else:
        base_pay = data.base_salary
        base = Line("base_salary", base_pay, "SPEC-3.6", _("Base monthly salary"))
    deductions: list[Line] = []
    if month.leave_days:
        per = Decimal(leave_policy["leave_deduction_daily_wages"])
        deductions.append(
            Line(
                "leave_deduction",
                -(month.leave_days * per * wage),
                "R-WF-9",
                _("Leave %(span)s × %(per)s × daily wage %(wage)s")
                % {"span": days_phrase(month.leave_days), "per": per, "wage": money(wage)},
            )
        )
    absence = sum((i.absence_days for i in incidents), ZERO)
    flags: list[str] = []
    if absence:
        wages, criticism, dismissal, basis = absence_deduction(policy, absence)
        if wages < 0:
            amount = base_pay
            if base_pay != data.base_salary:
                text = _("Absent %(span)s (%(basis)s): the base pay for the days employed (%(pay)s) is withheld") % {
                    "span": days_phrase(absence),
                    "basis": basis,
                    "pay": money(base_pay),
                }
            else:
                text = _("Absent %(span)s (%(basis)s): the whole base salary of the month is withheld") % {
                    "span": days_phrase(absence),
                    "basis": basis,
                }
        else:
            amount = wages * wage
            text = _("Absent %(span)s (%(basis)s): %(wages)s × daily wage %(wage)s") % {
                "span": days_phrase(absence),
                "basis": basis,
                "wages": wages,
                "wage": money(wage),
            }
        if amount:
            deductions.append(Line("absence_deduction", -amount, "R-WF-12", text))
        if criticism:
            flags.append("criticism_notice")
        if dismissal:
            flags.append("dismissal")
    deductions = [_rounded(ln) for ln in deductions]
    lines = [_rounded(base), *deductions]
    deducted = -sum((ln.amount for ln in deductions), ZERO)
    not_deducted = max(ZERO, deducted - base_pay)
    if not_deducted:
        lines.append(
            Line(
                "not_deducted",
                not_deducted,
                "R-WF-19",
                _("Deductions stop at the base pay of %(base)s: %(amount)s is not deducted")
                % {"base": money(base_pay), "amount": money(not_deducted)},
            )
        )
    scheduled = [d for d in days if d.shift is not None]
    # Unused rest days are paid only to someone scheduled to work that month.
    unused = max(ZERO, Decimal(month.entitled) - month.rest_taken) if scheduled else ZERO
    if unused:
        per = Decimal(leave_policy["unused_rest_day_pay_daily_wages"])
        lines.append(
            Line(
                "unused_rest_pay",
                unused * per * wage,
                "R-WF-8",
                _("Unused rest %(span)s (entitled %(entitled)s, taken %(taken)s) × daily wage %(wage)s")
                % {
                    "span": days_phrase(unused),
                    "entitled": month.entitled,
                    "taken": days_str(month.rest_taken),
                    "wage": money(wage),
                },
            )
        )
    holiday_pay = Decimal(att.get("holiday_pay_daily_wages", "2"))
    for d in days:
        share = worked_share(d) if d.holiday else ZERO
        if share and holiday_pay:
            # reading (SPEC silent): half a holiday worked (half a day of leave) earns half the premium
            lines.append(
                Line(
                    "holiday_pay",
                    holiday_pay * share * wage,
                    "R-WF-20",
                    (
                        _("Statutory holiday %(date)s worked: %(per)s × daily wage %(wage)s on top")
                        if share == 1
                        else _("Statutory holiday %(date)s, half worked: %(per)s × ½ daily wage %(wage)s on top")
                    )
                    % {"date": d.date.isoformat(), "per": holiday_pay, "wage": money(wage)},
                )
            )
    if _full_attendance(month, scheduled, incidents):
        lines.append(
            Line(
                "full_attendance_bonus",
                Decimal(att["full_attendance_bonus"]),
                "R-WF-13",
                _("No late arrival, early leave, leave or absence"),
            )
        )
    if data.points:
        rate = Decimal(policy["points"]["yuan_per_point"])
        lines.append(
            Line(
                "points",
                data.points * rate,
                "R-WF-16",
                _("Points %(points)s × %(rate)s yuan") % {"points": f"{data.points:+d}", "rate": rate},
            )
        )
    lines = [_rounded(ln) for ln in lines]
    net = sum((ln.amount for ln in lines), ZERO)
    if net < 0:  # negative points take the pay below the base, never below zero (R-WF-19)
        lines.append(Line("net_floor", -net, "R-WF-19", _("Net pay is never below zero")))
        net = ZERO
    return lines, flags


def _rounded(line: Line) -> Line:
    return Line(line.code, line.amount.quantize(CENT, rounding=ROUND_HALF_UP), line.rule, line.basis)


def _full_attendance(month: _Month, scheduled: list[DayResult], incidents: list[Incident]) -> bool:
    """R-WF-13 "全月": a whole month employed and scheduled, no late, early leave, leave or absence."""
    return (
        bool(scheduled)
        and month.employed_days == month.days_in_month
        and not any(i.kind in {"late", "early", "makeup_pending"} for i in incidents)
        and not any(i.absence_days for i in incidents)
        and month.leave_days == 0
    )


def evaluate_month(policy: dict[str, Any], data: StaffMonthInput) -> Statement:
    """The month's statement for one staff member (SPEC §3.6, §3.7)."""
    month = _month(policy, data)
    days = [_evaluate_day(month, day) for day in month_dates(data.year, data.month)]
    incidents = [i for d in days for i in d.incidents]
    lines, flags = _money_lines(month, days, incidents)
    scheduled = [d for d in days if d.shift is not None]
    if data.leave_days_previous_month > Decimal(policy["leave"]["leave_days_forfeit_next_month_rest"]):
        flags.append("rest_forfeited")  # R-WF-10
    if month.employed_days < month.days_in_month:
        flags.append("part_month")
    if not scheduled:
        flags.append("no_roster")
    if any(i.kind == "makeup_pending" for i in incidents):
        flags.append("makeup_pending")
    if data.as_of is not None:
        flags.append("estimate")
    demerits = [(d, name) for d, name, category in sorted(data.conduct) if category == "demerit"]
    if demerits:
        flags.append("demerit")
    unused = max(ZERO, Decimal(month.entitled) - month.rest_taken) if scheduled else ZERO
    return Statement(
        employee_no=data.employee_no,
        name=data.name,
        year=data.year,
        month=data.month,
        base_salary=data.base_salary,
        daily_wage=daily_wage(data.base_salary, data.year, data.month),
        days=days,
        incidents=incidents,
        scheduled_days=len(scheduled),
        worked_days=sum(1 for d in days if worked_share(d)),
        absence_days=sum((i.absence_days for i in incidents), ZERO),
        leave_days=month.leave_days,
        # no shift this month: no rest day is owed or paid, so entitled = taken (the figures add up)
        rest_days_entitled=month.entitled if scheduled else int(month.rest_taken),
        rest_days_taken=month.rest_taken,
        rest_days_unused=unused,
        makeups=month.makeups_seen,
        makeups_free=month.makeups_free,
        red_packets_total=sum((i.red_packet for i in incidents), ZERO),
        full_attendance=any(ln.code == "full_attendance_bonus" for ln in lines),
        points=data.points,
        lines=lines,
        net=sum((ln.amount for ln in lines), ZERO),
        flags=flags,
        employed_days=month.employed_days,
        days_in_month=month.days_in_month,
        base_pay=next(ln.amount for ln in lines if ln.code == "base_salary"),
        not_deducted=sum((ln.amount for ln in lines if ln.code == "not_deducted"), ZERO),
        holidays_worked=[d.date for d in days if d.holiday and worked_share(d)],
        estimate=data.as_of is not None,
        warnings=[(d, name) for d, name, category in sorted(data.conduct) if category == "warning"],
        demerits=demerits,
    )


def month_dates(year: int, month: int) -> Iterable[dt.date]:
    for day in range(1, calendar.monthrange(year, month)[1] + 1):
        yield dt.date(year, month, day)
