"""Real months (issue 17, SPEC §3.7, R-WF-18 … R-WF-24): people who join and leave, statutory
holidays, trips, half days, duplicate records and make-ups. Each month is worked by hand in the
comments from the seed handbook's preset; the statement must match line by line. Then hypothesis
properties over random months, and the same months end to end through the API (SQLite and
PostgreSQL both run this file)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kefu.policies import handbook
from kefu.policies.attendance import (
    LEAVE,
    MAKEUP,
    OFF,
    ON,
    REST,
    TRIP,
    Punch,
    Request,
    StaffMonthInput,
    evaluate_month,
)

POLICY = handbook.load_preset()
D = dt.date


def at(month: int, day: int, hh: int, mm: int) -> dt.datetime:
    return dt.datetime(2026, month, day, hh, mm)


def shifts(month: int, days: range | list[int], code: str = "day") -> dict[dt.date, str | None]:
    return {D(2026, month, d): code for d in days}


def on_time(month: int, days: range | list[int]) -> list[Punch]:
    out: list[Punch] = []
    for d in days:
        out += [Punch(at(month, d, 8, 25), ON, ref=f"on{d}"), Punch(at(month, d, 17, 35), OFF, ref=f"off{d}")]
    return out


def person(
    base: str, month: int, roster: dict[dt.date, str | None], punches: list[Punch], **kw: Any
) -> StaffMonthInput:
    return StaffMonthInput(
        employee_no="K9", name="测试", base_salary=Decimal(base), year=2026, month=month, roster=roster,
        punches=punches, **kw,
    )  # fmt: skip


def money_lines(statement: Any) -> list[tuple[str, str]]:
    return [(ln.code, f"{ln.amount:.2f}") for ln in statement.lines]


# --- month A: a hire on the 20th (R-WF-18) --------------------------------------------------------
def test_a_hire_on_the_20th_is_paid_for_the_days_employed() -> None:
    """November 2026 (30 days), base 4,500.00 → daily wage 150.00. Hired 11-20: employed 20…30 = 11
    days. Base pay 4,500 × 11 / 30 = 1,650.00. Rest entitlement 2 × 11 / 30 = 0.73 → 1 day; the roster
    rests on 11-30 → taken 1, unused 0. On time every day, but 全勤 needs the whole month: none.
    A roster entry on 11-18 (before the hire) is not the person's: no absence.
    Net 1,650.00 (the old code paid 4,500 + 150 unused rest + 200 全勤 = 4,850.00)."""
    roster = {**shifts(11, range(20, 30)), D(2026, 11, 30): "", D(2026, 11, 18): "day"}
    s = evaluate_month(POLICY, person("4500", 11, roster, on_time(11, range(20, 30)), hire_date=D(2026, 11, 20)))
    assert money_lines(s) == [("base_salary", "1650.00")]
    assert (s.employed_days, s.rest_days_entitled, s.rest_days_taken, s.rest_days_unused) == (11, 1, 1, 0)
    assert s.net == Decimal("1650.00") and not s.full_attendance and "part_month" in s.flags
    assert s.days[17].status == "not_employed" and not s.incidents
    assert "4500.00" in s.lines[0].basis and "2026-11-20 … 2026-11-30" in s.lines[0].basis


# --- month B: a leaver after the 15th -------------------------------------------------------------
def test_a_leaver_after_the_15th_is_paid_to_the_leaving_day() -> None:
    """November 2026, base 3,000.00 → daily wage 100.00. Leaving date 11-18: employed 1…18 = 18 days,
    base pay 3,000 × 18 / 30 = 1,800.00; entitlement 2 × 18 / 30 = 1.2 → 1, roster rest 11-08 →
    unused 0. Late 12 minutes on 11-03: tier 2, a 20.00 red packet (an obligation, not pay).
    The roster still has shifts on 11-19 and 11-20 without punches: after the leaving day, no absence.
    Net 1,800.00."""
    days = [d for d in range(1, 19) if d != 8]
    roster = {**shifts(11, days), D(2026, 11, 8): "", **shifts(11, [19, 20])}
    punches = [p for p in on_time(11, days) if p.ref != "on3"] + [Punch(at(11, 3, 8, 42), ON)]
    s = evaluate_month(POLICY, person("3000", 11, roster, punches, leave_date=D(2026, 11, 18)))
    assert money_lines(s) == [("base_salary", "1800.00")]
    assert [(i.date, i.kind, i.tier, i.red_packet) for i in s.incidents] == [
        (D(2026, 11, 3), "late", 2, Decimal("20.00"))
    ]
    assert s.red_packets_total == Decimal("20.00") and s.net == Decimal("1800.00")
    assert s.days[18].status == s.days[19].status == "not_employed"


# --- month C: statutory holidays (R-WF-20) -------------------------------------------------------
def test_national_day_worked_pays_on_top_and_a_holiday_rest_is_not_a_rest_day() -> None:
    """October 2026 (31 days), base 3,100.00 → daily wage 100.00. The roster works every day but
    rests on 10-02 (a statutory day: the holiday itself, no rest day used), 10-10 and 10-20 (the two
    rest days: taken 2, unused 0). 10-01 and 10-03 are statutory days worked: 2 × 100.00 on top each.
    On time every day → 全勤 200.00. Net 3,100 + 200 + 200 + 200 = 3,700.00
    (the old code: 3 roster rests used up the 2 rest days, no holiday pay → 3,300.00)."""
    worked = [d for d in range(1, 32) if d not in (2, 10, 20)]
    roster = {**shifts(10, worked), D(2026, 10, 2): "", D(2026, 10, 10): "", D(2026, 10, 20): ""}
    s = evaluate_month(POLICY, person("3100", 10, roster, on_time(10, worked)))
    assert money_lines(s) == [
        ("base_salary", "3100.00"),
        ("holiday_pay", "200.00"),
        ("holiday_pay", "200.00"),
        ("full_attendance_bonus", "200.00"),
    ]
    assert s.holidays_worked == [D(2026, 10, 1), D(2026, 10, 3)]
    assert s.days[1].status == "holiday" and (s.rest_days_taken, s.rest_days_unused) == (2, 0)
    assert "2026-10-01" in s.lines[1].basis and s.lines[1].rule == "R-WF-20"
    assert s.net == Decimal("3700.00")


# --- month D: a trip and half days (R-WF-21, R-WF-22) ---------------------------------------------
def test_a_trip_and_half_days_grade_the_worked_half_only() -> None:
    """November 2026, base 3,000.00 → 100.00 a day. Day shifts 11-02 … 11-06, rest 11-07 and 11-08.
    - 11-02 a DingTalk 出差 with no punch: a worked day, no absence (R-WF-21).
    - 11-03 leave on the first half (上午): on duty due at the midpoint 13:00, punched 13:05 → late
      5 minutes, tier 1 (10.00 red packet); off 17:31 on time. Leave 0.5.
    - 11-04 leave on the second half (下午): on 08:29 on time; off due at 13:00, punched 12:58 →
      early 2 minutes, tier 1 (10.00). Leave 0.5.
    - 11-05 DingTalk 0.5天 (no half named) and no punch at all: 0.5 leave + 0.5 absence.
    - 11-06 on time.
    Leave 1.5 days × 100.00 = −150.00; absence 0.5 day → 3 daily wages = −300.00. Rest taken 2.
    Net 3,000 − 150 − 300 = 2,550.00; red packets 20.00."""
    roster = {**shifts(11, range(2, 7)), D(2026, 11, 7): "", D(2026, 11, 8): ""}
    punches = [
        Punch(at(11, 3, 13, 5), ON),
        Punch(at(11, 3, 17, 31), OFF),
        Punch(at(11, 4, 8, 29), ON),
        Punch(at(11, 4, 12, 58), OFF),
        *on_time(11, [6]),
    ]
    requests = [
        Request(D(2026, 11, 2), TRIP, source="dingtalk"),
        Request(D(2026, 11, 3), LEAVE, Decimal("0.5"), half="first"),
        Request(D(2026, 11, 4), LEAVE, Decimal("0.5"), half="second"),
        Request(D(2026, 11, 5), LEAVE, Decimal("0.5"), source="dingtalk"),
    ]
    s = evaluate_month(POLICY, person("3000", 11, roster, punches, requests=requests))
    assert money_lines(s) == [
        ("base_salary", "3000.00"),
        ("leave_deduction", "-150.00"),
        ("absence_deduction", "-300.00"),
    ]
    assert [(i.date.day, i.kind, i.minutes, i.absence_days) for i in s.incidents] == [
        (3, "late", 5, Decimal("0")),
        (4, "early", 2, Decimal("0")),
        (5, "absent", 0, Decimal("0.5")),
    ]
    assert [d.status for d in s.days[1:6]] == ["trip", "half_leave", "half_leave", "half_leave", "worked"]
    # worked: the trip, the two half days with punches, 11-06 (11-05's half day had no punch at all)
    assert s.worked_days == 4 and s.red_packets_total == Decimal("20.00") and s.net == Decimal("2550.00")


def test_an_outing_for_part_of_the_shift_excuses_only_the_edge_it_covers() -> None:
    """September 2026, base 4,650.00 → 155.00 a day. Day shifts 09-01 … 09-04 (08:30–17:30).
    - 09-01 外出 14:00–16:00 (the middle of the shift), on duty 09:15, off 17:31: the outing covers
      neither edge, so the on-duty punch is graded — late 45 minutes, tier 4: ½ day absence (R-WF-4).
    - 09-02 外出 15:00–18:00 (covers the end), on duty 08:25, no off-duty punch: nothing missing.
    - 09-03 外出 08:00–11:00 (covers the start), no on-duty punch, off 17:35: nothing missing.
    - 09-04 出差 with no times: a whole trip day, no punch needed.
    Absence ½ day → 3 daily wages = −465.00. Net 4,650 − 465 = 4,185.00 (+ unused rest 2 × 155 =
    310.00 → 4,495.00)."""
    roster = {**shifts(9, range(1, 5))}
    punches = [
        Punch(at(9, 1, 9, 15), ON),
        Punch(at(9, 1, 17, 31), OFF),
        Punch(at(9, 2, 8, 25), ON),
        Punch(at(9, 3, 17, 35), OFF),
    ]
    requests = [
        Request(D(2026, 9, 1), TRIP, source="dingtalk", span=(dt.time(14), dt.time(16))),
        Request(D(2026, 9, 2), TRIP, source="dingtalk", span=(dt.time(15), dt.time(18))),
        Request(D(2026, 9, 3), TRIP, source="dingtalk", span=(dt.time(8), dt.time(11))),
        Request(D(2026, 9, 4), TRIP, source="dingtalk"),
    ]
    s = evaluate_month(POLICY, person("4650", 9, roster, punches, requests=requests))
    assert [(i.date.day, i.kind, i.minutes, i.absence_days) for i in s.incidents] == [
        (1, "late", 45, Decimal("0.5")),
    ]
    assert [d.status for d in s.days[:4]] == ["worked", "worked", "worked", "trip"]
    assert ("absence_deduction", "-465.00") in money_lines(s)


# --- month E: duplicates and make-ups (R-WF-23, R-WF-24, R-WF-6) ----------------------------------
def test_duplicates_count_once_and_a_make_up_fills_only_a_missing_punch() -> None:
    """November 2026, base 3,000.00 → 100.00 a day. Day shifts 11-02 … 11-13, roster rest 11-14.
    - 11-02 the same personal leave from DingTalk and from Kefu: one day of leave (−100.00).
    - 11-03 a rest request approved twice on a scheduled day: the second rest day, taken once.
    - 11-04 a real on-duty punch at 08:31 and a certified make-up at 08:30: the real punch is graded
      (late 1 minute, tier 1, 10.00) and the make-up ignored.
    - 11-05 … 11-08 no on-duty punch, a certified make-up each: nos. 1–3 free; no. 4 (11-08) at
      08:42 → late 12 minutes, tier 2 (20.00).
    - 11-09 make-up no. 5 carrying only the scheduled 08:30 (DingTalk's 补卡): pending until the
      supervisor enters the actual time — no money, flagged.
    Rest entitled 2, taken 2. Net 3,000 − 100 = 2,900.00; red packets 30.00."""
    roster = {**shifts(11, range(2, 14)), D(2026, 11, 14): ""}
    punches = on_time(11, [d for d in range(2, 14) if d not in (2, 3)])
    punches = [p for p in punches if p.ref not in {f"on{d}" for d in range(4, 10)}]
    punches += [Punch(at(11, 4, 8, 31), ON), Punch(at(11, 4, 8, 30), ON, MAKEUP, "mk0")]
    punches += [Punch(at(11, d, 8, 30), ON, MAKEUP, f"mk{d}") for d in (5, 6, 7)]
    punches += [Punch(at(11, 8, 8, 42), ON, MAKEUP, "mk8"), Punch(at(11, 9, 8, 30), ON, MAKEUP, "mk9", True)]
    requests = [
        Request(D(2026, 11, 2), LEAVE, source="dingtalk", ref="dd-1"),
        Request(D(2026, 11, 2), LEAVE, source="kefu", ref="request:7"),
        Request(D(2026, 11, 3), REST, ref="request:8"),
        Request(D(2026, 11, 3), REST, ref="request:9"),
    ]
    s = evaluate_month(POLICY, person("3000", 11, roster, punches, requests=requests))
    assert money_lines(s) == [("base_salary", "3000.00"), ("leave_deduction", "-100.00")]
    assert (s.leave_days, s.rest_days_taken, s.rest_days_unused) == (1, 2, 0)
    assert [(i.date.day, i.kind, i.minutes, i.red_packet) for i in s.incidents] == [
        (4, "late", 1, Decimal("10.00")),
        (8, "late", 12, Decimal("20.00")),
        (9, "makeup_pending", 0, Decimal("0")),
    ]
    assert s.days[3].ignored == ["mk0"] and (s.makeups, s.makeups_free) == (5, 3)
    assert "makeup_pending" in s.flags and s.net == Decimal("2900.00")
    # The supervisor then certifies 11-09's make-up with its actual time, 08:42: that one is graded
    # (late 12 minutes, tier 2, 20.00), the scheduled-only placeholder is ignored, nothing pending.
    punches.append(Punch(at(11, 9, 8, 42), ON, MAKEUP, "mk9-actual"))
    s = evaluate_month(POLICY, person("3000", 11, roster, punches, requests=requests))
    assert [(i.date.day, i.kind, i.minutes, i.red_packet) for i in s.incidents][-1] == (9, "late", 12, Decimal("20.00"))
    assert s.days[8].ignored == ["mk9"] and "makeup_pending" not in s.flags and s.makeups == 5


# --- month F: the floor (R-WF-19) ------------------------------------------------------------------
@pytest.mark.parametrize(("points", "net"), [(5, "10.00"), (0, "0.00"), (-5, "0.00")])
def test_deductions_stop_at_the_base_pay_and_net_pay_is_never_below_zero(points: int, net: str) -> None:
    """November 2026, base 3,000.00 → 100.00 a day. Day shifts 11-02 … 11-08, rest 11-14 and 11-15.
    No punch on 11-02, 11-03, 11-04 (3 days absent → the whole base withheld, −3,000.00, flagged for
    dismissal) and leave on 11-05, 11-06 (−200.00). Deductions 3,200.00 stop at the base 3,000.00:
    200.00 not deducted. Points are added after the floor: +5 → +10.00 (net 10.00); −5 → −10.00
    would make it −10.00: net pay is never below zero (0.00). (The old code: −300.00.)"""
    roster = {**shifts(11, range(2, 9)), D(2026, 11, 14): "", D(2026, 11, 15): ""}
    requests = [Request(D(2026, 11, 5), LEAVE), Request(D(2026, 11, 6), LEAVE)]
    s = evaluate_month(POLICY, person("3000", 11, roster, on_time(11, [7, 8]), requests=requests, points=points))
    expected = [
        ("base_salary", "3000.00"),
        ("leave_deduction", "-200.00"),
        ("absence_deduction", "-3000.00"),
        ("not_deducted", "200.00"),
    ]
    if points:
        expected.append(("points", f"{points * 2:.2f}"))
    if points < 0:
        expected.append(("net_floor", "10.00"))
    assert money_lines(s) == expected
    assert s.net == Decimal(net) and s.not_deducted == Decimal("200.00") and "dismissal" in s.flags


# --- where a holiday or a rest day meets a half day or a trip (the review's cases) -----------------


def test_half_a_holiday_worked_earns_half_the_premium_and_none_without_a_punch() -> None:
    """May 2026, base 3,100.00 → 100.00 a day; 05-01 and 05-02 are statutory days, both rostered.
    - Q1: 05-01 leave on the first half and no punch at all: 0.5 leave (−50.00) + 0.5 absence (3 daily
      wages, −300.00), and no holiday pay for it — nothing was worked; 05-02 worked: +200.00.
      Net 3,100 − 50 − 300 + 200 = 2,950.00 (the review found 3,150.00).
    - C3: the same leave, but in at 13:00 and out 17:35: half the holiday worked earns half the
      premium (our reading; SPEC is silent): +100.00. Net 3,100 − 50 + 100 + 200 = 3,350.00."""
    roster = {**shifts(5, [1, 2]), D(2026, 5, 10): "", D(2026, 5, 20): ""}  # the two rest days taken
    leave = [Request(D(2026, 5, 1), LEAVE, Decimal("0.5"), half="first")]
    no_punch = evaluate_month(POLICY, person("3100", 5, roster, on_time(5, [2]), requests=leave))
    assert money_lines(no_punch) == [
        ("base_salary", "3100.00"),
        ("leave_deduction", "-50.00"),
        ("absence_deduction", "-300.00"),
        ("holiday_pay", "200.00"),
    ]
    assert no_punch.net == Decimal("2950.00") and no_punch.holidays_worked == [D(2026, 5, 2)]
    assert no_punch.worked_days == 1
    afternoon = [Punch(at(5, 1, 13, 0), ON), Punch(at(5, 1, 17, 35), OFF)]
    half = evaluate_month(POLICY, person("3100", 5, roster, afternoon + on_time(5, [2]), requests=leave))
    assert money_lines(half) == [
        ("base_salary", "3100.00"),
        ("leave_deduction", "-50.00"),
        ("holiday_pay", "100.00"),
        ("holiday_pay", "200.00"),
    ]
    assert half.net == Decimal("3350.00")


def test_a_trip_on_a_day_the_roster_gives_off_is_a_worked_day() -> None:
    """R-WF-21: never rest. C5: November, base 3,000.00; roster rest 11-07 and 11-21, a 出差 on 11-07,
    on time on the shifts: rest taken 1 (11-21), unused 1 (+100.00), 全勤 +200.00 → 3,300.00 (the
    review found 3,200.00: the trip had vanished into a rest day). Q2: a trip on National Day 10-02,
    which the roster gives off, is a holiday worked: +200.00 beside 10-01 and 10-03."""
    days = [d for d in range(1, 31) if d not in (7, 21)]
    roster = {**shifts(11, days), D(2026, 11, 7): "", D(2026, 11, 21): ""}
    trip = [Request(D(2026, 11, 7), TRIP, source="dingtalk")]
    s = evaluate_month(POLICY, person("3000", 11, roster, on_time(11, days), requests=trip))
    assert money_lines(s) == [
        ("base_salary", "3000.00"),
        ("unused_rest_pay", "100.00"),
        ("full_attendance_bonus", "200.00"),
    ]
    assert s.days[6].status == "trip" and (s.rest_days_taken, s.rest_days_unused) == (1, 1)
    worked = [d for d in range(1, 32) if d not in (2, 10, 20)]
    october = {**shifts(10, worked), D(2026, 10, 2): "", D(2026, 10, 10): "", D(2026, 10, 20): ""}
    q2 = evaluate_month(
        POLICY, person("3100", 10, october, on_time(10, worked), requests=[Request(D(2026, 10, 2), TRIP)])
    )
    assert q2.holidays_worked == [D(2026, 10, 1), D(2026, 10, 2), D(2026, 10, 3)]
    assert q2.net == Decimal("3900.00")


def test_a_request_for_a_day_the_roster_gives_off_is_shown_as_not_needed_and_no_roster_pays_no_rest() -> None:
    """An approved leave on a roster rest day costs nothing and takes nothing — and the statement says
    it was not needed instead of dropping it. A month with no roster entitles no rest days to pay."""
    roster = {**shifts(11, range(2, 8)), D(2026, 11, 8): "", D(2026, 11, 15): ""}
    leave = [Request(D(2026, 11, 8), LEAVE, ref="request:41")]
    s = evaluate_month(POLICY, person("3000", 11, roster, on_time(11, range(2, 8)), requests=leave))
    assert s.leave_days == 0 and s.days[7].unneeded == ["request:41"]
    assert s.as_dict()["days"][7]["unneeded_requests"] == ["request:41"]
    idle = evaluate_month(POLICY, person("3000", 11, {}, []))
    assert (idle.rest_days_entitled, idle.rest_days_unused) == (0, 0) and "no_roster" in idle.flags


# --- properties ----------------------------------------------------------------------------------

NOVEMBER = [D(2026, 11, d) for d in range(1, 31)]
cells = st.sampled_from(["day", "night", "", None])
day_requests = st.lists(
    st.builds(
        Request,
        day=st.sampled_from(NOVEMBER),
        kind=st.sampled_from([REST, LEAVE, TRIP]),
        days=st.sampled_from([Decimal("1"), Decimal("0.5")]),
        personal=st.booleans(),
        half=st.sampled_from(["", "first", "second"]),
        source=st.sampled_from(["kefu", "dingtalk"]),
    ),
    max_size=12,
)
punch_lists = st.lists(
    st.builds(
        Punch,
        at=st.datetimes(min_value=dt.datetime(2026, 10, 31), max_value=dt.datetime(2026, 12, 1, 23, 59)),
        kind=st.sampled_from([ON, OFF, "unknown"]),
        source=st.sampled_from(["app", MAKEUP]),
        scheduled_only=st.booleans(),
    ),
    max_size=40,
)


@st.composite
def months(draw: Any) -> StaffMonthInput:
    roster = {d: draw(cells) for d in NOVEMBER if draw(st.booleans())}
    hire = draw(st.one_of(st.none(), st.sampled_from(NOVEMBER)))
    leave = draw(st.one_of(st.none(), st.sampled_from(NOVEMBER)))
    if hire and leave and leave < hire:
        hire, leave = leave, hire
    return person(
        draw(st.sampled_from(["0", "3000", "4500", "9999.99"])),
        11,
        roster,
        draw(punch_lists),
        requests=draw(day_requests),
        points=draw(st.integers(-500, 500)),
        hire_date=hire,
        leave_date=leave,
        leave_days_previous_month=draw(st.sampled_from([Decimal("0"), Decimal("4")])),
    )


QUICK = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@QUICK
@given(months())
def test_net_pay_is_never_below_zero_and_lines_add_up(data: StaffMonthInput) -> None:
    s = evaluate_month(POLICY, data)
    assert s.net >= 0
    assert s.net == sum(ln.amount for ln in s.lines)
    assert s.base_pay <= data.base_salary


@QUICK
@given(months())
def test_the_same_records_twice_change_nothing(data: StaffMonthInput) -> None:
    """Importing the same export twice, or the same leave from both sources, changes nothing."""
    from dataclasses import replace

    once = evaluate_month(POLICY, data)
    twice = evaluate_month(POLICY, replace(data, punches=[*data.punches, *data.punches], requests=[*data.requests] * 2))
    assert twice.as_dict() == once.as_dict()
    other = [replace(r, source="dingtalk" if r.source == "kefu" else "kefu") for r in data.requests]
    both = evaluate_month(POLICY, replace(data, requests=[*data.requests, *other]))
    assert both.leave_days <= once.leave_days + sum((r.days for r in data.requests), Decimal("0"))
    assert both.leave_days == evaluate_month(POLICY, replace(data, requests=[*other, *data.requests])).leave_days


@QUICK
@given(months())
def test_a_day_holds_one_status(data: StaffMonthInput) -> None:
    s = evaluate_month(POLICY, data)
    assert len({d.date for d in s.days}) == len(s.days) == 30
    # leave is counted at most once per day: never more than the days the roster schedules
    assert s.leave_days <= s.scheduled_days
    assert s.rest_days_taken <= s.rest_days_entitled


@QUICK
@given(months(), st.sampled_from(NOVEMBER), st.booleans())
def test_more_leave_never_raises_pay(data: StaffMonthInput, day: dt.date, half: bool) -> None:
    from dataclasses import replace

    before = evaluate_month(POLICY, data)
    extra = Request(day, LEAVE, Decimal("0.5") if half else Decimal("1"), personal=True, ref="extra")
    after = evaluate_month(POLICY, replace(data, requests=[*data.requests, extra]))
    # (leave replacing an absence lowers the deduction; leave never adds pay beyond that)
    assert after.net <= before.net or after.absence_days < before.absence_days


# --- end to end: the same readings through the import, the pages' services and the API ----------


def _statement_of(client: Any, month: str, employee_no: str) -> dict[str, Any]:
    answer = client.get(f"/api/v1/attendance/statement?month={month}")
    assert answer.status_code == 200, answer.content
    return next(s for s in answer.json()["staff"] if s["employee_no"] == employee_no)


def _punch_days(staff: Any, month: int, days: list[int]) -> None:
    from kefu.core import clock
    from kefu.workforce.models import Punch as PunchRow

    tz = clock.local_tz()
    for d in days:
        PunchRow.objects.create(staff=staff, at=dt.datetime(2026, month, d, 8, 25, tzinfo=tz), kind="on")
        PunchRow.objects.create(staff=staff, at=dt.datetime(2026, month, d, 17, 35, tzinfo=tz), kind="off")


@pytest.mark.django_db
def test_a_leaver_end_to_end_leaving_date_ends_the_roster_and_pays_the_days_employed(world: Any) -> None:
    """October 2026, base 3,100.00 → 100.00 a day. Day shifts 10-05 … 10-18 on time, and one on
    10-20. The supervisor records the leaving date 10-18 over the API: the 10-20 shift is removed,
    the person is inactive (10-18 is before today, 11-26) and still on October's statement:
    employed 18 of 31 days → base 3,100 × 18 / 31 = 1,800.00; entitlement 2 × 18 / 31 = 1.16 → 1,
    no rest taken → 1 unused rest day paid 100.00. Net 1,900.00. A team lead may not set it."""
    from django.test import Client

    from kefu.org.models import Staff
    from kefu.workforce.models import RosterEntry

    from .conftest import PASSWORD
    from .factories import StaffFactory

    leaver = StaffFactory(team=world.team_a, base_salary=Decimal("3100.00"), employee_no="L1")
    for d in [*range(5, 19), 20]:
        RosterEntry.objects.create(staff=leaver, date=D(2026, 10, d), shift_code="day")
    _punch_days(leaver, 10, list(range(5, 19)))
    lead, boss = Client(), Client()
    lead.login(username="lead_a", password=PASSWORD)
    boss.login(username="boss", password=PASSWORD)
    url = f"/api/v1/staff/{leaver.pk}/leave-date"
    assert lead.post(url, {"leave_date": "2026-10-18"}, content_type="application/json").status_code == 403
    assert boss.post(url, {}, content_type="application/json").status_code == 400
    answer = boss.post(url, {"leave_date": "2026-10-18"}, content_type="application/json")
    assert answer.status_code == 200 and answer.json()["leave_date"] == "2026-10-18"
    leaver = Staff.objects.get(pk=leaver.pk)
    assert not leaver.active and not RosterEntry.objects.filter(staff=leaver, date=D(2026, 10, 20)).exists()
    st = _statement_of(boss, "2026-10", "L1")
    assert (st["employed_days"], st["base_pay"], st["rest_days_entitled"], st["net"]) == (18, "1800.00", 1, "1900.00")
    assert [(ln["code"], ln["amount"]) for ln in st["lines"]] == [
        ("base_salary", "1800.00"),
        ("unused_rest_pay", "100.00"),
    ]
    assert "part_month" in st["flags"] and not st["full_attendance"]
    # a hire of a later month is on no October statement
    StaffFactory(team=world.team_a, employee_no="N1", hire_date=D(2026, 11, 2))
    codes = [s["employee_no"] for s in boss.get("/api/v1/attendance/statement?month=2026-10").json()["staff"]]
    assert "N1" not in codes and "L1" in codes


@pytest.mark.django_db
def test_r_wf_10_counts_the_statements_leave_days_not_calendar_days(world: Any) -> None:
    """Leave 10-08 … 10-11 with 10-10 a roster rest: October's statement counts 3 leave days (not
    more than 3), so November keeps its 2 rest days. (Counting the request's 4 calendar days forfeited
    them.) A fourth leave day on a worked day (10-15) forfeits them."""
    from kefu.workforce import selectors
    from kefu.workforce.models import LeaveRequest, RosterEntry

    from .factories import StaffFactory

    person_ = StaffFactory(team=world.team_a, base_salary=Decimal("3100.00"))
    for d in range(1, 32):
        RosterEntry.objects.create(staff=person_, date=D(2026, 10, d), shift_code="" if d in (10, 20) else "day")
    for d in range(2, 6):  # scheduled in November too (with no roster there is no rest to take or pay)
        RosterEntry.objects.create(staff=person_, date=D(2026, 11, d), shift_code="day")
    LeaveRequest.objects.create(
        staff=person_, kind="personal", start_date=D(2026, 10, 8), end_date=D(2026, 10, 11), status="approved"
    )
    (october,) = selectors.statements(staff=[person_], year=2026, month=10)
    (november,) = selectors.statements(staff=[person_], year=2026, month=11)
    assert october.leave_days == 3
    assert november.rest_days_entitled == 2 and "rest_forfeited" not in november.flags
    LeaveRequest.objects.create(
        staff=person_, kind="personal", start_date=D(2026, 10, 15), end_date=D(2026, 10, 15), status="approved"
    )
    (november,) = selectors.statements(staff=[person_], year=2026, month=11)
    assert november.rest_days_entitled == 0 and "rest_forfeited" in november.flags


@pytest.mark.django_db
def test_a_day_already_requested_is_refused_with_the_other_request_named(world: Any) -> None:
    from kefu.core.errors import ApplicationError
    from kefu.org.models import Staff
    from kefu.workforce.services import request_create

    me = Staff.objects.get(user=world.agent_a)
    request_create(actor=world.agent_a, staff=me, kind="rest", start_date=D(2026, 12, 10), end_date=D(2026, 12, 10))
    with pytest.raises(ApplicationError) as refused:
        request_create(
            actor=world.agent_a, staff=me, kind="personal", start_date=D(2026, 12, 9), end_date=D(2026, 12, 11)
        )
    assert refused.value.code == "request_overlap" and "2026-12-10" in str(refused.value.message)
    # two halves of one day stand when they name different halves; the same half twice does not
    request_create(
        actor=world.agent_a, staff=me, kind="personal", start_date=D(2026, 12, 14), end_date=D(2026, 12, 14),
        half_day=True, half="first",
    )  # fmt: skip
    request_create(
        actor=world.agent_a, staff=me, kind="sick", start_date=D(2026, 12, 14), end_date=D(2026, 12, 14),
        half_day=True, half="second",
    )  # fmt: skip
    with pytest.raises(ApplicationError):
        request_create(
            actor=world.agent_a, staff=me, kind="sick", start_date=D(2026, 12, 14), end_date=D(2026, 12, 14),
            half_day=True, half="first",
        )  # fmt: skip


@pytest.mark.django_db
def test_the_staff_file_takes_a_leaving_date(world: Any) -> None:
    from kefu.org.models import Staff
    from kefu.org.services import staff_import

    data = (
        "工号,姓名,岗位,团队,基本工资,入职日期,离职日期\n"
        "K701,刘离职,售前客服,扬州客服组,3000,2025-03-01,2026-11-10\n"
        "K702,陈将离,售前客服,扬州客服组,3000,2025-03-01,2026-12-20\n"
        "K703,错日期,售前客服,扬州客服组,3000,2026-05-01,2026-04-30\n"
    ).encode()
    summary = staff_import(actor=world.supervisor, data=data, file_name="staff.csv")
    assert summary.created == 2 and [f["row"] for f in summary.failed] == [4]
    gone, going = Staff.objects.get(employee_no="K701"), Staff.objects.get(employee_no="K702")
    assert (gone.leave_date, gone.active) == (D(2026, 11, 10), False)
    assert (going.leave_date, going.active) == (D(2026, 12, 20), True)


def test_a_leave_on_a_rest_day_already_given_never_raises_pay() -> None:
    """Found by hypothesis in CI: with the deductions already at the floor (absent 3 days: the whole
    base is withheld), a leave on a day that already held an approved rest displaced the rest — the
    rest came back as an unused rest day (+100.00) while the leave's −100.00 vanished under the
    floor: more leave, more pay. The rest stands (R-WF-23); the leave changes nothing."""
    from dataclasses import replace

    roster = shifts(11, range(2, 9))
    punches = on_time(11, [6, 7, 8])  # 11-02 … 11-04 no punch: absent 3 days
    rest = Request(D(2026, 11, 5), REST, ref="request:1")
    data = person("3000", 11, roster, punches, requests=[rest])
    before = evaluate_month(POLICY, data)
    after = evaluate_month(POLICY, replace(data, requests=[rest, Request(D(2026, 11, 5), LEAVE, ref="request:2")]))
    assert after.net <= before.net and after.rest_days_taken == before.rest_days_taken
