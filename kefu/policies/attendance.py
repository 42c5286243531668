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

CENT = Decimal("0.01")
ZERO = Decimal("0")
HALF = Decimal("0.5")

ON, OFF, UNKNOWN = "on", "off", "unknown"
MAKEUP = "makeup"
REST, LEAVE = "rest", "leave"
PENDING = "pending"  # a scheduled day whose punch window has not closed yet


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


@dataclass(frozen=True)
class Request:
    """An approved day off: rest (R-WF-8) or leave (R-WF-9); ``days`` is 1 or 0.5 for that date."""

    day: dt.date
    kind: str  # rest | leave
    days: Decimal = Decimal("1")
    personal: bool = True  # personal leave counts against the yearly cap (R-WF-11)
    ref: str = ""


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
    status: str  # worked | rest | leave | absent | off | partial
    on_duty: dt.datetime | None = None
    off_duty: dt.datetime | None = None
    late_minutes: int = 0
    early_minutes: int = 0
    extension_minutes: int = 0
    incidents: list[Incident] = field(default_factory=list)
    makeups: list[str] = field(default_factory=list)  # "free" | "graded" per make-up used this day

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
        _("≥ %(days)s days") % {"days": chosen["min_days"]},
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


def evaluate_month(policy: dict[str, Any], data: StaffMonthInput) -> Statement:
    """The month's statement for one staff member (SPEC §3.6)."""
    att = policy["attendance"]
    leave_policy = policy["leave"]
    shifts = shift_types(policy)
    before = int(att.get("punch_window_before_minutes", 180))
    after = int(att.get("punch_window_after_minutes", 240))
    first = dt.date(data.year, data.month, 1)
    last = dt.date(data.year, data.month, calendar.monthrange(data.year, data.month)[1])
    # Sorting by a tuple key runs in C; the dataclass's generated ordering is several times slower.
    punches = sorted(set(data.punches), key=lambda p: (p.at, p.kind, p.source, p.ref))
    by_day: dict[dt.date, list[Punch]] = {}
    for p in punches:
        by_day.setdefault(p.at.date(), []).append(p)
    requests: dict[dt.date, list[Request]] = {}
    for req in sorted(data.requests, key=lambda r: (r.day, r.kind, r.days, r.ref)):
        requests.setdefault(req.day, []).append(req)

    entitled = int(leave_policy["rest_days_per_month"])
    if data.leave_days_previous_month > Decimal(leave_policy["leave_days_forfeit_next_month_rest"]):
        entitled = 0  # R-WF-10
    cap = Decimal(leave_policy["personal_leave_cap_days_per_year"])
    personal_used = data.personal_leave_days_before_month
    free_makeups = int(att["free_makeups_per_month"])
    makeups_seen = 0
    makeups_free = 0

    days: list[DayResult] = []
    # R-WF-8: the roster's rest days are rest days taken (up to the entitlement), counted first.
    roster_rest = sum(1 for d, c in data.roster.items() if c == "" and first <= d <= last)
    rest_taken = min(Decimal(roster_rest), Decimal(entitled))
    leave_days = ZERO
    day = first
    while day <= last:
        code = data.roster.get(day)
        if code == "":
            days.append(DayResult(day, None, REST))
            day += dt.timedelta(days=1)
            continue
        shift = shifts.get(code) if code else None
        if shift is None:
            days.append(DayResult(day, None, "off"))
            day += dt.timedelta(days=1)
            continue
        result = DayResult(day, shift.code, "worked")
        covered = ZERO
        for req in requests.get(day, []):
            if req.kind == REST and rest_taken + req.days <= entitled:
                rest_taken += req.days
                covered += req.days
                result.status = REST
            else:
                # R-WF-11: personal leave beyond the yearly cap is absence.
                if req.personal and personal_used + req.days > cap:
                    over = min(req.days, personal_used + req.days - cap)
                    within = req.days - over
                    personal_used += within
                    leave_days += within
                    result.incidents.append(
                        Incident(
                            day,
                            "absent",
                            0,
                            None,
                            ZERO,
                            0,
                            over,
                            "R-WF-11",
                            _("Personal leave over the yearly cap of %(cap)s days (%(ref)s)")
                            % {"cap": cap, "ref": req.ref or day},
                        )
                    )
                    covered += req.days
                    result.status = "absent" if within == 0 else LEAVE
                    continue
                if req.personal:
                    personal_used += req.days
                leave_days += req.days
                covered += req.days
                result.status = LEAVE
        if covered >= 1:
            days.append(result)
            day += dt.timedelta(days=1)
            continue

        start, end = shift.window(day)
        lo, hi = start - dt.timedelta(minutes=before), end + dt.timedelta(minutes=after)
        if data.as_of is not None and hi > data.as_of:
            result.status = PENDING  # its punch window is still open: nothing to judge yet
            days.append(result)
            day += dt.timedelta(days=1)
            continue
        mid = start + (end - start) / 2
        nearby = [
            p
            for offset in range((lo.date() - day).days, (hi.date() - day).days + 1)
            for p in by_day.get(day + dt.timedelta(days=offset), ())
        ]
        mine = [p for p in nearby if lo <= p.at <= hi]
        on_candidates = [p for p in mine if p.kind in (ON, UNKNOWN) and p.at < mid]
        off_candidates = [p for p in mine if p.kind in (OFF, UNKNOWN) and p.at >= mid]
        on = on_candidates[0] if on_candidates else None
        off = off_candidates[-1] if off_candidates else None
        result.on_duty = on.at if on else None
        result.off_duty = off.at if off else None
        half_day = covered == HALF  # a half-day request covers one half of the shift

        if on is None and off is None and not half_day:
            result.status = "absent"
            result.incidents.append(
                Incident(
                    day,
                    "absent",
                    0,
                    None,
                    ZERO,
                    0,
                    Decimal(att["no_show_absence_days"]),
                    "R-WF-7",
                    _("Scheduled %(shift)s, no punch and no approved leave or rest") % {"shift": shift.name},
                )
            )
            days.append(result)
            day += dt.timedelta(days=1)
            continue

        for punch, side in ((on, ON), (off, OFF)):
            if punch is None:
                if half_day:
                    continue
                result.status = "partial"
                result.incidents.append(
                    Incident(
                        day,
                        "missing",
                        0,
                        None,
                        ZERO,
                        0,
                        Decimal(att["missing_punch_absence_days"]),
                        "R-WF-6",
                        (
                            _("Missing on-duty punch, no certified make-up")
                            if side == ON
                            else _("Missing off-duty punch, no certified make-up")
                        ),
                    )
                )
                continue
            if side == ON:
                minutes = _minutes(_minute(punch.at) - start)
                result.late_minutes = max(0, minutes)
            else:
                minutes = _minutes(end - _minute(punch.at))
                result.early_minutes = max(0, minutes)
                result.extension_minutes = max(0, -minutes)  # R-WF-2: never a penalty
            if half_day:
                continue  # the other half is covered by the approved request
            if punch.source == MAKEUP:
                makeups_seen += 1
                if makeups_seen <= free_makeups:
                    makeups_free += 1
                    result.makeups.append("free")
                    continue  # R-WF-6: counts as on time
                result.makeups.append("graded")
                if side == OFF:
                    amount = Decimal(att["offduty_makeup_red_packet"])
                    args = {"what": "makeup", "n": makeups_seen, "free": free_makeups}
                    result.incidents.append(
                        Incident(
                            day,
                            "makeup",
                            0,
                            None,
                            amount,
                            int(att["offduty_makeup_packets"]),
                            ZERO,
                            "R-WF-6",
                            penalty_basis(args),
                            args,
                        )
                    )
                    continue
            tier = grade(policy, minutes)
            if tier is None:
                continue
            kind = "late" if side == ON else "early"
            args = {
                "what": "late" if side == ON else "early",
                "shift": shift.name,
                "time": f"{shift.start if side == ON else shift.end:%H:%M}",
                "punch": f"{punch.at:%m-%d %H:%M}",
                "makeup": makeups_seen if punch.source == MAKEUP else 0,
                "minutes": minutes,
            }
            result.incidents.append(
                Incident(
                    day,
                    kind,
                    minutes,
                    tier.tier,
                    tier.red_packet,
                    tier.packets,
                    tier.absence_days,
                    "R-WF-4",
                    penalty_basis(args),
                    args,
                )
            )
        days.append(result)
        day += dt.timedelta(days=1)

    incidents = [i for d in days for i in d.incidents]
    absence = sum((i.absence_days for i in incidents), ZERO)
    red_packets = sum((i.red_packet for i in incidents), ZERO)
    wage = daily_wage(data.base_salary, data.year, data.month)
    scheduled = [d for d in days if d.shift is not None]
    # Unused rest days are paid only to someone scheduled to work that month.
    unused = max(ZERO, Decimal(entitled) - rest_taken) if scheduled else ZERO
    lines: list[Line] = [Line("base_salary", data.base_salary, "SPEC-3.6", _("Base monthly salary"))]
    flags: list[str] = []
    if leave_days:
        per = Decimal(leave_policy["leave_deduction_daily_wages"])
        lines.append(
            Line(
                "leave_deduction",
                -(leave_days * per * wage),
                "R-WF-9",
                _("Leave %(days)s days × %(per)s × daily wage %(wage)s")
                % {"days": days_str(leave_days), "per": per, "wage": money(wage)},
            )
        )
    if absence:
        wages, criticism, dismissal, basis = absence_deduction(policy, absence)
        if wages < 0:
            amount = data.base_salary
            text = _("Absent %(days)s days (%(basis)s): the whole base salary of the month is withheld") % {
                "days": days_str(absence),
                "basis": basis,
            }
        else:
            amount = wages * wage
            text = _("Absent %(days)s days (%(basis)s): %(wages)s × daily wage %(wage)s") % {
                "days": days_str(absence),
                "basis": basis,
                "wages": wages,
                "wage": money(wage),
            }
        if amount:
            lines.append(Line("absence_deduction", -amount, "R-WF-12", text))
        if criticism:
            flags.append("criticism_notice")
        if dismissal:
            flags.append("dismissal")
    if unused:
        per = Decimal(leave_policy["unused_rest_day_pay_daily_wages"])
        lines.append(
            Line(
                "unused_rest_pay",
                unused * per * wage,
                "R-WF-8",
                _("Unused rest %(days)s days (entitled %(entitled)s, taken %(taken)s) × daily wage %(wage)s")
                % {"days": days_str(unused), "entitled": entitled, "taken": days_str(rest_taken), "wage": money(wage)},
            )
        )
    if entitled == 0 and int(leave_policy["rest_days_per_month"]) > 0:
        flags.append("rest_forfeited")
    late_or_early = any(i.kind in {"late", "early"} for i in incidents)
    full = bool(scheduled) and not late_or_early and absence == 0 and leave_days == 0
    if full:
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
    lines = [Line(ln.code, ln.amount.quantize(CENT, rounding=ROUND_HALF_UP), ln.rule, ln.basis) for ln in lines]
    net = sum((ln.amount for ln in lines), ZERO)
    return Statement(
        employee_no=data.employee_no,
        name=data.name,
        year=data.year,
        month=data.month,
        base_salary=data.base_salary,
        daily_wage=wage,
        days=days,
        incidents=incidents,
        scheduled_days=len(scheduled),
        worked_days=sum(1 for d in scheduled if d.status in {"worked", "partial"}),
        absence_days=absence,
        leave_days=leave_days,
        rest_days_entitled=entitled,
        rest_days_taken=rest_taken,
        rest_days_unused=unused,
        makeups=makeups_seen,
        makeups_free=makeups_free,
        red_packets_total=red_packets,
        full_attendance=full,
        points=data.points,
        lines=lines,
        net=net,
        flags=flags,
    )


def month_dates(year: int, month: int) -> Iterable[dt.date]:
    for day in range(1, calendar.monthrange(year, month)[1] + 1):
        yield dt.date(year, month, day)
