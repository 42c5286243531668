"""Attendance rules R-WF-1 … R-WF-16: the seed's worked examples and properties (hypothesis)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.policies import handbook
from kefu.policies.attendance import (
    MAKEUP,
    OFF,
    ON,
    Punch,
    Request,
    StaffMonthInput,
    daily_wage,
    evaluate_month,
    grade,
    month_dates,
    next_publication,
)

POLICY = handbook.load_preset()
Y, M = 2026, 10  # October 2026: 31 days
BASE = Decimal("3100.00")  # daily wage 100.00
WAGE = Decimal("100.00")
D = dt.date


def t(day: int, hh: int, mm: int, ss: int = 0, month: int = M) -> dt.datetime:
    return dt.datetime(Y, month, day, hh, mm, ss)


def day_roster(*days: int, code: str = "day") -> dict[dt.date, str | None]:
    return {D(Y, M, d): code for d in days}


def full_day_punches(*days: int) -> list[Punch]:
    out = []
    for d in days:
        out += [Punch(t(d, 8, 25), ON), Punch(t(d, 17, 35), OFF)]
    return out


def month(roster: dict[dt.date, str | None], punches: list[Punch], **kw: object) -> StaffMonthInput:
    return StaffMonthInput(
        employee_no="K1", name="张敏", base_salary=BASE, year=Y, month=M, roster=roster, punches=punches, **kw
    )  # type: ignore[arg-type]


def lines(statement: object) -> dict[str, Decimal]:
    return {ln.code: ln.amount for ln in statement.lines}  # type: ignore[attr-defined]


# --- R-WF-1 / R-WF-3 / R-WF-4 -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "tier", "packet", "absence"),
    [
        (0, None, None, None),
        (1, 1, "10.00", "0"),
        (10, 1, "10.00", "0"),
        (11, 2, "20.00", "0"),
        (20, 2, "20.00", "0"),
        (21, 3, "50.00", "0"),
        (30, 3, "50.00", "0"),
        (31, 4, "0.00", "0.5"),
        (240, 4, "0.00", "0.5"),
    ],
)
def test_late_tiers_r_wf_4(minutes: int, tier: int | None, packet: str | None, absence: str | None) -> None:
    graded = grade(POLICY, minutes)
    if tier is None:
        assert graded is None
    else:
        assert graded is not None
        assert (graded.tier, graded.red_packet, graded.absence_days) == (tier, Decimal(packet), Decimal(absence))
        assert graded.packets == (5 if tier < 4 else 0)


def test_whole_minute_precision_r_wf_3() -> None:
    s = evaluate_month(POLICY, month(day_roster(5), [Punch(t(5, 8, 30, 59), ON), Punch(t(5, 17, 30), OFF)]))
    assert s.incidents == []
    s = evaluate_month(POLICY, month(day_roster(5), [Punch(t(5, 8, 31, 0), ON), Punch(t(5, 17, 30), OFF)]))
    assert [(i.kind, i.minutes, i.red_packet) for i in s.incidents] == [("late", 1, Decimal("10"))]


def test_early_leave_is_graded_like_late() -> None:
    s = evaluate_month(POLICY, month(day_roster(6), [Punch(t(6, 8, 30), ON), Punch(t(6, 17, 8), OFF)]))
    assert [(i.kind, i.minutes, i.tier, i.rule) for i in s.incidents] == [("early", 22, 3, "R-WF-4")]
    assert s.red_packets_total == Decimal("50")


def test_night_shift_crosses_midnight_and_belongs_to_its_start_day_r_wf_1() -> None:
    roster = day_roster(7, code="night")
    s = evaluate_month(POLICY, month(roster, [Punch(t(7, 16, 58), ON), Punch(t(8, 0, 50), OFF)]))
    (inc,) = s.incidents
    assert (inc.date, inc.kind, inc.minutes) == (D(Y, M, 7), "early", 10)
    ok = evaluate_month(POLICY, month(roster, [Punch(t(7, 17, 0)), Punch(t(8, 1, 3))]))
    assert ok.incidents == [] and ok.days[6].extension_minutes == 3


def test_late_clock_out_is_an_extension_never_a_penalty_r_wf_2() -> None:
    s = evaluate_month(POLICY, month(day_roster(9), [Punch(t(9, 8, 30), ON), Punch(t(9, 19, 45), OFF)]))
    assert s.incidents == [] and s.days[8].extension_minutes == 135


def test_thirty_one_minutes_late_is_half_a_day_of_absence() -> None:
    s = evaluate_month(POLICY, month(day_roster(12), [Punch(t(12, 9, 1), ON), Punch(t(12, 17, 30), OFF)]))
    (inc,) = s.incidents
    assert (inc.tier, inc.red_packet, inc.absence_days) == (4, Decimal("0"), Decimal("0.5"))
    assert s.absence_days == Decimal("0.5")
    assert lines(s)["absence_deduction"] == -3 * WAGE  # R-WF-12: 0.5 day → 3 daily wages


def test_deductions_multiply_the_exact_daily_wage_and_round_once() -> None:
    # ¥4,600 in October (31 days): 3 × 4600/31 = 445.161… → ¥445.16; a wage rounded first
    # (148.39) would give ¥445.17
    punches = [Punch(t(12, 9, 1), ON), Punch(t(12, 17, 30), OFF)]
    s = evaluate_month(POLICY, replace(month(day_roster(12), punches), base_salary=Decimal("4600")))
    assert lines(s)["absence_deduction"] == Decimal("-445.16")
    assert s.as_dict()["daily_wage"] == "148.39"


# --- R-WF-6 make-ups -----------------------------------------------------------------------------


def test_first_three_makeups_are_free_and_the_fourth_is_graded_by_its_time_r_wf_6() -> None:
    roster = day_roster(1, 2, 5, 6)
    punches = []
    for d in (1, 2, 5):
        punches += [Punch(t(d, 8, 50), ON, MAKEUP), Punch(t(d, 17, 30), OFF)]
    # Seed example: made up 12 minutes after the start of the shift → the 11–20 tier.
    punches += [Punch(t(6, 8, 42), ON, MAKEUP), Punch(t(6, 17, 30), OFF)]
    s = evaluate_month(POLICY, month(roster, punches))
    assert (s.makeups, s.makeups_free) == (4, 3)
    (inc,) = s.incidents
    assert (inc.date, inc.kind, inc.minutes, inc.tier, inc.red_packet) == (D(Y, M, 6), "late", 12, 2, Decimal("20"))
    assert "补卡本月第4次" in inc.basis


def test_fourth_offduty_makeup_costs_a_10_yuan_red_packet() -> None:
    roster = day_roster(1, 2, 5, 6)
    punches = []
    for d in (1, 2, 5, 6):
        punches += [Punch(t(d, 8, 30), ON), Punch(t(d, 17, 30), OFF, MAKEUP)]
    s = evaluate_month(POLICY, month(roster, punches))
    (inc,) = s.incidents
    assert (inc.kind, inc.red_packet, inc.packets, inc.rule) == ("makeup", Decimal("10.00"), 5, "R-WF-6")


def test_missing_punch_without_makeup_is_half_a_day_of_absence() -> None:
    s = evaluate_month(POLICY, month(day_roster(13), [Punch(t(13, 8, 20), ON)]))
    (inc,) = s.incidents
    assert (inc.kind, inc.absence_days, inc.rule) == ("missing", Decimal("0.5"), "R-WF-6")


# --- R-WF-7 / R-WF-12 absence --------------------------------------------------------------------


def test_scheduled_day_with_no_punch_is_a_full_day_of_absence_costing_5_daily_wages() -> None:
    s = evaluate_month(POLICY, month(day_roster(14), []))
    (inc,) = s.incidents
    assert (inc.kind, inc.absence_days, inc.rule) == ("absent", Decimal("1"), "R-WF-7")
    assert lines(s)["absence_deduction"] == -5 * WAGE  # seed: 1 day of absence → 5 daily wages


@pytest.mark.parametrize(
    ("no_show_days", "late31_days", "wages", "flags"),
    [
        (0, 1, 3, []),  # 0.5
        (1, 1, 5, []),  # 1.5 → lower tier
        (2, 0, 10, ["criticism_notice"]),
        (2, 1, 10, ["criticism_notice"]),  # 2.5
        (3, 0, None, ["dismissal"]),  # whole month
    ],
)
def test_absence_tiers_r_wf_12(no_show_days: int, late31_days: int, wages: int | None, flags: list[str]) -> None:
    roster = day_roster(*range(1, 11))
    punches = full_day_punches(*range(no_show_days + late31_days + 1, 11))
    for d in range(no_show_days + 1, no_show_days + late31_days + 1):
        punches += [Punch(t(d, 9, 5), ON), Punch(t(d, 17, 30), OFF)]
    s = evaluate_month(POLICY, month(roster, punches))
    expected = BASE if wages is None else wages * WAGE
    assert lines(s)["absence_deduction"] == -expected
    assert s.flags == flags and not s.full_attendance


# --- R-WF-8 … R-WF-11 rest and leave ---------------------------------------------------------


def _november_worked_except(*rest: int) -> dict[dt.date, str | None]:
    """A 30-day month (November) worked every day but the given roster rest days."""
    return {D(Y, 11, d): ("" if d in rest else "day") for d in range(1, 31)}


def _nov(roster: dict[dt.date, str | None], **kw: object) -> StaffMonthInput:
    """Punched in and out on time on every scheduled day."""
    punches = [
        Punch(dt.datetime(d.year, d.month, d.day, hh, mm), kind)
        for d, code in roster.items()
        if code
        for hh, mm, kind in ((8, 25, ON), (17, 35, OFF))
    ]
    return StaffMonthInput(
        employee_no="K1",
        name="张敏",
        base_salary=Decimal("3000.00"),
        year=Y,
        month=11,
        roster=roster,
        punches=punches,
        **kw,  # type: ignore[arg-type]
    )


def test_roster_rest_days_are_the_rest_days_taken_seed_example_r_wf_8() -> None:
    """SPEC §3.3 worked example: rest on the 6th and 20th → 2 taken, 0 unused; rest only on the 9th →
    1 unused (+1 daily wage, 3000/30 = 100)."""
    both = evaluate_month(POLICY, _nov(_november_worked_except(6, 20)))
    assert (both.rest_days_taken, both.rest_days_unused) == (2, 0) and "unused_rest_pay" not in lines(both)
    one = evaluate_month(POLICY, _nov(_november_worked_except(9)))
    assert (one.rest_days_taken, one.rest_days_unused) == (1, 1)
    assert lines(one)["unused_rest_pay"] == Decimal("100.00")
    three = evaluate_month(POLICY, _nov(_november_worked_except(3, 9, 20)))
    assert (three.rest_days_taken, three.rest_days_unused) == (2, 0)  # beyond: neither paid nor deducted
    assert "leave_deduction" not in lines(three) and "absence_deduction" not in lines(three)
    unscheduled = {d: c for d, c in _november_worked_except().items() if d.day != 9}  # 未排班 on the 9th
    assert evaluate_month(POLICY, _nov(unscheduled)).rest_days_taken == 0  # not scheduled is not rest


def test_a_rest_request_beyond_the_roster_rest_counts_as_leave_r_wf_8() -> None:
    roster = _november_worked_except(6, 20)
    s = evaluate_month(POLICY, _nov(roster, requests=[Request(D(Y, 11, 12), "rest")]))
    assert s.rest_days_taken == 2 and s.leave_days == 1


@given(st.sets(st.integers(min_value=1, max_value=30), max_size=8))
def test_unused_rest_is_entitlement_minus_roster_rest_never_negative(rest: set[int]) -> None:
    s = evaluate_month(POLICY, _nov(_november_worked_except(*rest)))
    assert s.rest_days_unused == max(0, 2 - len(rest))
    assert s.rest_days_taken == min(2, len(rest))
    assert lines(s).get("unused_rest_pay", Decimal("0")) == Decimal("100.00") * max(0, 2 - len(rest))


def test_unused_rest_days_are_paid_at_one_daily_wage_each_r_wf_8() -> None:
    roster = day_roster(*range(1, 6))
    s = evaluate_month(POLICY, month(roster, full_day_punches(1, 2, 3, 4), requests=[Request(D(Y, M, 5), "rest")]))
    assert (s.rest_days_entitled, s.rest_days_taken, s.rest_days_unused) == (2, 1, 1)
    assert lines(s)["unused_rest_pay"] == WAGE
    assert s.full_attendance  # rest days do not break full attendance (R-WF-13)


def test_leave_deducts_one_daily_wage_per_day_and_breaks_full_attendance_r_wf_9() -> None:
    roster = day_roster(1, 2, 5)
    s = evaluate_month(POLICY, month(roster, full_day_punches(1, 2), requests=[Request(D(Y, M, 5), "leave")]))
    assert s.leave_days == 1 and s.absence_days == 0
    assert lines(s)["leave_deduction"] == -WAGE and "full_attendance_bonus" not in lines(s)


def test_more_than_3_leave_days_last_month_forfeits_rest_days_r_wf_10() -> None:
    s = evaluate_month(POLICY, month(day_roster(1), full_day_punches(1), leave_days_previous_month=Decimal("4")))
    assert s.rest_days_entitled == 0 and "unused_rest_pay" not in lines(s) and "rest_forfeited" in s.flags
    s = evaluate_month(POLICY, month(day_roster(1), full_day_punches(1), leave_days_previous_month=Decimal("3")))
    assert s.rest_days_entitled == 2


def test_personal_leave_beyond_30_days_a_year_is_absence_r_wf_11() -> None:
    roster = day_roster(1, 2, 5)
    reqs = [Request(D(Y, M, d), "leave") for d in (1, 2, 5)]
    s = evaluate_month(POLICY, month(roster, [], requests=reqs, personal_leave_days_before_month=Decimal("29")))
    assert s.leave_days == 1 and s.absence_days == 2
    assert [i.rule for i in s.incidents] == ["R-WF-11", "R-WF-11"]


def test_full_attendance_bonus_and_points_r_wf_13_r_wf_16() -> None:
    s = evaluate_month(POLICY, month(day_roster(5, 6), full_day_punches(5, 6), points=-3))
    assert s.full_attendance and lines(s)["full_attendance_bonus"] == Decimal("200.00")
    assert lines(s)["points"] == Decimal("-6.00")
    assert s.net == sum(ln.amount for ln in s.lines)
    assert s.net == BASE + Decimal("200") + 2 * WAGE - 6  # 2 unused rest days paid
    # on 10-01 and 10-02 (National Day, R-WF-20) the same two days also pay 2 daily wages each on top
    h = evaluate_month(POLICY, month(day_roster(1, 2), full_day_punches(1, 2), points=-3))
    assert [ln.amount for ln in h.lines if ln.code == "holiday_pay"] == [2 * WAGE, 2 * WAGE]
    assert h.net == s.net + 4 * WAGE and h.holidays_worked == [D(2026, 10, 1), D(2026, 10, 2)]


def test_red_packets_are_due_at_the_next_monday_publication_r_wf_5() -> None:
    assert next_publication(POLICY, D(2026, 10, 7)) == D(2026, 10, 12)  # Wed → Mon
    assert next_publication(POLICY, D(2026, 10, 12)) == D(2026, 10, 19)  # Mon → next Mon


def test_daily_wage_depends_on_the_month_length() -> None:
    assert daily_wage(Decimal("2800"), 2026, 2) == Decimal("100.00")
    assert daily_wage(Decimal("3000"), 2026, 11) == Decimal("100.00")
    # kept exact and rounded once per line: half a day absent = 3 daily wages of ¥4,600 in November
    # is ¥460.00 (a wage rounded first would give 3 × 153.33 = ¥459.99)
    assert (daily_wage(Decimal("4600"), 2026, 11) * 3).quantize(Decimal("0.01")) == Decimal("460.00")
    assert f"{daily_wage(Decimal('4600'), 2026, 11).quantize(Decimal('0.01'))}" == "153.33"


# --- properties -----------------------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=400))
def test_one_more_minute_late_never_lowers_the_tier(minutes: int) -> None:
    a, b = grade(POLICY, minutes), grade(POLICY, minutes + 1)
    assert (a.tier if a else 0) <= (b.tier if b else 0)


punch_st = st.builds(
    Punch,
    at=st.datetimes(min_value=dt.datetime(2026, 9, 30, 20), max_value=dt.datetime(2026, 11, 1, 6)).map(
        lambda v: v.replace(microsecond=0)
    ),
    kind=st.sampled_from(["on", "off", "unknown"]),
    source=st.sampled_from(["app", "app", "makeup"]),
)
roster_st = st.dictionaries(
    st.sampled_from(list(month_dates(Y, M))), st.sampled_from(["day", "night", None]), max_size=31
)


@given(roster_st, st.lists(punch_st, max_size=40), st.randoms())
def test_statement_is_the_same_however_the_punches_are_ordered(roster, punches, rnd) -> None:  # type: ignore[no-untyped-def]
    shuffled = list(punches)
    rnd.shuffle(shuffled)
    a = evaluate_month(POLICY, month(roster, punches)).as_dict()
    b = evaluate_month(POLICY, month(roster, shuffled)).as_dict()
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


@given(roster_st, st.lists(punch_st, min_size=1, max_size=40), st.data())
def test_removing_a_punch_never_lowers_absence(roster, punches, data) -> None:  # type: ignore[no-untyped-def]
    # Only app punches: removing a make-up can shift which later make-ups are free.
    punches = [p for p in punches if p.source != MAKEUP]
    if not punches:
        return
    index = data.draw(st.integers(min_value=0, max_value=len(punches) - 1))
    full = evaluate_month(POLICY, month(roster, punches))
    fewer = evaluate_month(POLICY, month(roster, punches[:index] + punches[index + 1 :]))
    assert fewer.absence_days >= full.absence_days


@given(roster_st, st.lists(punch_st, max_size=30))
def test_rerunning_is_byte_identical_and_net_is_the_sum_of_lines(roster, punches) -> None:  # type: ignore[no-untyped-def]
    first = json.dumps(evaluate_month(POLICY, month(roster, punches)).as_dict(), ensure_ascii=False)
    second = json.dumps(evaluate_month(POLICY, month(roster, punches)).as_dict(), ensure_ascii=False)
    assert first == second
    s = evaluate_month(POLICY, month(roster, punches))
    assert s.net == sum(ln.amount for ln in s.lines)
    assert s.absence_days == sum(i.absence_days for i in s.incidents)
    assert s.full_attendance == ("full_attendance_bonus" in lines(s))


# --- a month still running ----------------------------------------------------------------------


def test_a_running_month_judges_only_shifts_whose_window_closed() -> None:
    """Drawn on 10-15 at 10:00: days 1–14 are judged, today's day shift (window open until 21:30) and
    every later shift are pending — no absence, no missing punch, no deduction for them yet."""
    roster = day_roster(*range(1, 32))
    punches = full_day_punches(*range(1, 14))  # day 14 is a no-show
    st_ = evaluate_month(POLICY, month(roster, punches, as_of=dt.datetime(Y, M, 15, 10, 0)))
    assert st_.scheduled_days == 31 and st_.worked_days == 13
    assert [i.date for i in st_.incidents] == [D(Y, M, 14)]  # the no-show only
    assert st_.absence_days == Decimal("1")
    assert {d.status for d in st_.days if d.date >= D(Y, M, 15)} == {"pending"}
    # the same month once over: every unpunched day is an absence
    over = evaluate_month(POLICY, month(roster, punches))
    assert over.absence_days == Decimal("18")


@given(st.integers(min_value=1, max_value=31), st.integers(min_value=0, max_value=23))
def test_no_day_after_the_drawing_time_is_ever_an_incident(day: int, hour: int) -> None:
    as_of = dt.datetime(Y, M, day, hour, 0)
    st_ = evaluate_month(POLICY, month(day_roster(*range(1, 32)), [], as_of=as_of))
    # a day shift (08:30–17:30) is judged once its punch window closes, 240 minutes after its end
    assert all(dt.datetime.combine(i.date, dt.time(21, 30)) <= as_of for i in st_.incidents)
    judged = sum(1 for d in range(1, 32) if dt.datetime(Y, M, d, 21, 30) <= as_of)
    assert st_.absence_days == Decimal(judged)
