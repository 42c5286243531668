"""Staffing (issue 22): R-WFM-1's sessions and forecast, R-WFM-3's roster proposal keeping every
handbook constraint on random teams, and the requirement and proposal end to end through the API."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kefu.desk import services as desk
from kefu.org.models import Staff
from kefu.policies import forecast as fc
from kefu.policies import rostering as R
from kefu.staffing import selectors, services
from kefu.staffing.models import ProposalStatus
from kefu.workforce.models import RosterEntry

from .conftest import PASSWORD, World
from .factories import StaffFactory

TZ = ZoneInfo("Asia/Shanghai")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text + "+08:00")


def test_sessions_split_at_thirty_minutes_of_silence() -> None:
    # buyer 10:00, reply 10:02, buyer 10:20 (18 min after the reply: same session), reply 10:25;
    # buyer 11:00 (35 min of silence: a new session), never answered.
    e = [
        fc.Event("c", at("2026-11-25T10:00"), "in", "text", None),
        fc.Event("c", at("2026-11-25T10:02"), "out", "text", "K1"),
        fc.Event("c", at("2026-11-25T10:20"), "in", "text", None),
        fc.Event("c", at("2026-11-25T10:25"), "out", "auto", "K1"),  # an auto-reply ends nothing
        fc.Event("c", at("2026-11-25T10:26"), "out", "text", "K1"),
        fc.Event("c", at("2026-11-25T11:01"), "in", "text", None),
    ]
    found = fc.sessions(e, 30 * 60)
    assert [(s.start.strftime("%H:%M"), s.seconds) for s in found] == [("10:00", 26 * 60.0), ("11:01", None)]
    h = fc.day_history(found, dt.date(2026, 11, 25), TZ)
    assert (h.sessions[10], h.sessions[11], h.handled[10], h.handled[11]) == (1, 1, 1, 0)


def test_forecast_weights_recent_weeks_and_campaigns() -> None:
    # Wednesday 2026-12-09; the same weekday one and two weeks back had 10 and 20 sessions at 10:00.
    # Weights 2:1 (most recent first) → (2·10 + 1·20) / 3 = 13.33. 12-12 (×2) would double it; a
    # past 11-11 (×4) with 40 counts as 10.
    history = {dt.date(2026, 12, 2): [0] * 10 + [10] + [0] * 13, dt.date(2026, 11, 25): [0] * 10 + [20] + [0] * 13}
    f = fc.forecast_day(history, dt.date(2026, 12, 9), ["2", "1"], {})
    assert f is not None and f[10].quantize(Decimal("0.01")) == Decimal("13.33")
    assert (
        fc.forecast_day({dt.date(2026, 11, 11): [40] * 24}, dt.date(2026, 11, 18), ["1"], {"11-11": "4"})
        == [Decimal(10)] * 24
    )
    assert fc.forecast_day({}, dt.date(2026, 12, 9), ["1"], {}) is None
    assert fc.mape([Decimal(12), Decimal(5)], [10, 0]) == Decimal("0.2000")  # hours with no arrivals left out


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 200), min_size=8, max_size=8), st.lists(st.integers(1, 9), min_size=8, max_size=8))
def test_forecast_lies_between_the_weeks_and_scales_with_them(counts: list[int], weights: list[int]) -> None:
    day = dt.date(2027, 3, 3)
    history = {day - dt.timedelta(days=7 * (k + 1)): [c] * 24 for k, c in enumerate(counts)}
    f = fc.forecast_day(history, day, [str(w) for w in weights], {})
    assert f is not None
    assert min(counts) <= f[0] <= max(counts)
    doubled = fc.forecast_day({d: [2 * v for v in c] for d, c in history.items()}, day, [str(w) for w in weights], {})
    assert doubled is not None and abs(doubled[0] - 2 * f[0]) < Decimal("1e-20")  # Decimal's 28 digits


# --- the roster proposal: every constraint on random teams ----------------------------------------

SHIFTS = (R.Shift("day", dt.time(8, 30), dt.time(17, 30)), R.Shift("night", dt.time(17), dt.time(1), night=True))
FEB = tuple(dt.date(2027, 2, 1) + dt.timedelta(days=i) for i in range(28))


@st.composite
def teams(draw: Any) -> R.Problem:
    people = []
    for i in range(draw(st.integers(1, 6))):
        hired = draw(st.sampled_from([None, dt.date(2027, 2, 10), dt.date(2027, 2, 20)]))
        left = draw(st.sampled_from([None, None, dt.date(2027, 2, 25)]))
        fixed = {}
        for d in draw(st.lists(st.sampled_from(FEB), max_size=3, unique=True)):
            fixed[d] = draw(st.sampled_from([R.REST, R.LEAVE]))
        people.append(
            R.Person(
                f"p{i}",
                employed_from=hired,
                employed_to=left,
                fixed=fixed,
                rest_days=draw(st.integers(0, 3)),
                worked_before=draw(st.integers(0, 6)),
            )
        )
    need = {(d, h): draw(st.integers(0, 3)) if 9 <= h <= 22 else 0 for d in FEB[:3] for h in range(24)}
    need.update({(d, h): 2 if 9 <= h <= 22 else 0 for d in FEB[3:] for h in range(24)})
    return R.Problem(FEB, SHIFTS, tuple(people), need, holidays=frozenset({dt.date(2027, 2, 8)}), time_limit=5)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(teams())
def test_every_handbook_constraint_holds_on_random_teams(problem: R.Problem) -> None:
    result = R.solve(problem)
    assert result.status in ("optimal", "feasible")
    codes = [s.code for s in SHIFTS]
    for p in problem.people:
        row = result.cells[p.key]
        for d in FEB:
            if not p.employed(d):
                assert row[d] is None  # outside the hire and leaving dates: no entry
            elif d in p.fixed:
                want = p.fixed[d]
                assert row[d] == want  # approved rest and leave stay
            else:
                assert row[d] in [*codes, R.REST]
        ordinary_rest = sum(1 for d, c in row.items() if c == R.REST and d not in problem.holidays)
        possible = sum(1 for d in FEB if p.employed(d) and p.fixed.get(d) != R.LEAVE and d not in problem.holidays)
        assert ordinary_rest >= min(p.rest_days, possible)  # the rest entitlement
        assert R.longest_run(row, codes, min(p.worked_before, problem.max_run)) <= problem.max_run
    # the explanation adds up: short hours are exactly where heads fall below the need
    heads = R.covered_heads(problem, result.cells)
    for s in result.short:
        assert heads.get((s.day, s.hour), 0) == s.covered < s.need


def test_one_person_one_week_by_hand() -> None:
    # One agent, Monday 2027-02-01 … Sunday 02-07, one rest day owed, one head needed 09:00–18:00
    # every day (hours 9 … 17: 9 cells). 白班 08:30–17:30 covers hours 8 … 17 (10 cells: 8 and 17 by
    # their half hour). Best: six day shifts and the one rest day — 9 uncovered agent-hours (the rest
    # day), 6 surplus (hour 8 of each worked day), no night (it would cover only 17 of the 9 needed).
    week = FEB[:7]
    need = {(d, h): 1 if 9 <= h <= 17 else 0 for d in week for h in range(24)}
    alone = R.Problem(week, SHIFTS, (R.Person("p", rest_days=1),), need, time_limit=10)
    result = R.solve(alone)
    row = result.cells["p"]
    assert sorted(row.values()).count("day") == 6 and list(row.values()).count(R.REST) == 1
    assert (result.uncovered_hours, result.surplus_hours) == (9, 6)
    # Having worked the six days before the month, the first day must be the rest (the run limit)
    tired = R.solve(R.Problem(week, SHIFTS, (R.Person("p", rest_days=1, worked_before=6),), need, time_limit=10))
    assert tired.cells["p"][week[0]] == R.REST


def test_coverage_comes_first_and_fairness_spreads_nights() -> None:
    # four people, one day shift and one night shift needed every day: nobody left short where
    # people are free, and the nights spread evenly (28 nights over 4 people: 7 each, ±1)
    people = tuple(R.Person(f"p{i}", rest_days=2) for i in range(4))
    need = {(d, h): 1 if 9 <= h <= 23 else 0 for d in FEB for h in range(24)}
    result = R.solve(R.Problem(FEB, SHIFTS, people, need, max_run=6, time_limit=10))
    assert result.uncovered_hours == 0
    assert max(result.nights.values()) - min(result.nights.values()) <= 1


# --- end to end ------------------------------------------------------------------------------------


def _client(user: Any) -> Client:
    c = Client()
    assert c.login(username=user.username, password=PASSWORD)
    return c


def _history(world: World) -> None:
    """Four Wednesdays before 2026-11-26 (frozen today) with 6 buyers at 10:00 each, every one
    answered after 10 minutes."""
    k1 = Staff.objects.get(user=world.agent_a).employee_no
    items = []
    for week in range(1, 5):
        day = dt.date(2026, 11, 25) - dt.timedelta(days=7 * (week - 1))
        for b in range(6):
            items.append(
                {
                    "external_id": f"h{week}-{b}-in",
                    "shop": "hdc",
                    "buyer": f"b{b}",
                    "direction": "in",
                    "kind": "text",
                    "sent_at": f"{day.isoformat()}T10:0{b}:00+08:00",
                    "text": "在吗",
                }
            )
            items.append(
                {
                    "external_id": f"h{week}-{b}-out",
                    "shop": "hdc",
                    "buyer": f"b{b}",
                    "direction": "out",
                    "kind": "text",
                    "sent_at": f"{day.isoformat()}T10:1{b}:00+08:00",
                    "text": "您好",
                    "agent": k1,
                }
            )
    channel = desk.channel_for_pusher(world.lead_a)
    assert channel is not None
    assert not desk.messages_ingest(actor=world.lead_a, channel=channel, items=items).failed


@pytest.mark.django_db(transaction=True)
def test_requirement_api_from_history(world: World) -> None:
    _history(world)
    body = (
        _client(world.lead_a)
        .get("/api/v1/staffing/requirement", {"team": world.team_a.pk, "date": "2026-12-02"})
        .json()
    )
    ten = body["hours"][10]
    # Wednesday 2026-12-02 from the Wednesdays 11-25, 11-18, 11-11 and 11-04 (weights 8, 7, 6, 5; the
    # other four weeks are before the desk's history and left out). 11-11 is a ×4 campaign day, so
    # its 6 count as 1.5: (8·6 + 7·6 + 6·1.5 + 5·6) / 26 = 129 / 26 = 4.96.
    assert ten["forecast"] == "4.96"
    assert body["handle_seconds"] == "600.0"  # ten minutes, the mean session
    # λ = 4.96/h, AHT 600 s → A = 0.83 Erlang; c = 3, 80 % in 180 s: 2 slots (SL 0.8299), 1 agent,
    # ⌈1 / 0.7⌉ = 2 heads; nobody rostered → short by 2
    assert (ten["slots"], ten["agents"], ten["heads"], ten["on_roster"], ten["shortfall"]) == (2, 1, 2, 0, 2)
    assert ten["service_level"] == "0.8299"
    # the backtest: the last whole week is 11-16…11-22; its Wednesday 11-18 at 10:00 had 6 and was
    # forecast from 11-11 (×4: 1.5) and 11-04 (6) with weights 8 and 7: (12 + 42) / 15 = 3.6 →
    # |3.6 − 6| / 6 = 0.4; every other hour had no arrivals and is left out
    assert body["backtest_mape"] == "0.4000"
    # on the days' totals the same: Wednesday's 3.6 against 6, the other days had none
    assert selectors.backtest(world.team_a.pk, dt.date(2026, 11, 16)).daily_mape == Decimal("0.4000")
    # the week ahead by hour of the week: Wednesday's 10:00 as above, rounded; a Thursday had none
    week = selectors.week_ahead(world.team_a.pk, dt.date(2026, 11, 30))
    assert week.days[2] == dt.date(2026, 12, 2) and week.cells[2][10] == 5 and week.cells[3][10] == 0
    page = _client(world.lead_a).get("/staffing/", {"team": world.team_a.pk, "date": "2026-12-02"}).content.decode()
    assert 'data-testid="week-ahead"' in page and 'data-testid="backtest"' in page
    assert body["hours"][3]["heads"] == 0
    # a chat-log import brings three more buyers of 11-25 10:00 late: the stored day is dropped and
    # read again — (8·9 + 7·6 + 6·1.5 + 5·6) / 26 = 153 / 26 = 5.88
    channel = desk.channel_for_pusher(world.lead_a)
    late = [
        {"external_id": f"late{b}", "shop": "hdc", "buyer": f"late{b}", "direction": "in", "kind": "text",
         "sent_at": f"2026-11-25T10:3{b}:00+08:00", "text": "在吗"}
        for b in range(3)
    ]  # fmt: skip
    assert channel is not None and not desk.messages_ingest(actor=world.lead_a, channel=channel, items=late).failed
    again = _client(world.lead_a).get("/api/v1/staffing/requirement", {"team": world.team_a.pk, "date": "2026-12-02"})
    assert again.json()["hours"][10]["forecast"] == "5.88"
    assert (
        _client(world.agent_a)
        .get("/api/v1/staffing/requirement", {"team": world.team_a.pk, "date": "2026-12-02"})
        .status_code
        == 403
    )
    assert (
        _client(world.lead_a)
        .get("/api/v1/staffing/requirement", {"team": world.team_b.pk, "date": "2026-12-02"})
        .status_code
        == 404
    )
    assert _client(world.lead_a).get(
        "/api/v1/staffing/requirement", {"team": world.team_a.pk, "date": "2026-02-30"}
    ).status_code in (400, 422)


@pytest.mark.django_db(transaction=True)
def test_propose_edit_and_publish_a_month(world: World) -> None:
    from kefu.core.errors import ApplicationError
    from kefu.workforce.models import LeaveRequest

    _history(world)
    for _i in range(3):
        StaffFactory(team=world.team_a, position="presales", hire_date=dt.date(2026, 1, 1))
    k1 = Staff.objects.get(user=world.agent_a)
    # approved for K1: a rest day on 12-10, personal leave on 12-15 and 12-16
    for kind, start, end in (("rest", 10, 10), ("personal", 15, 16)):
        LeaveRequest.objects.create(
            staff=k1, kind=kind, start_date=dt.date(2026, 12, start), end_date=dt.date(2026, 12, end), status="approved"
        )
    lead = _client(world.lead_a)
    r = lead.post(
        "/api/v1/staffing/rosters/propose",
        {"team": world.team_a.pk, "month": "2026-12"},
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["status"] == "draft" and body["solver_status"] in ("optimal", "feasible")
    for row in body["cells"].values():
        codes = list(row.values())
        assert sum(1 for c in codes if c == "") >= 2  # the monthly rest days
    mine = body["cells"][k1.employee_no]
    assert mine["2026-12-10"] == "" and mine["2026-12-15"] == mine["2026-12-16"] == "leave"
    for month in ("2026-11", "2028-01", "9999-12", "2027-13"):  # past, beyond a year, absurd, no month
        refused = lead.post(
            "/api/v1/staffing/rosters/propose",
            {"team": world.team_a.pk, "month": month},
            content_type="application/json",
        )
        assert refused.status_code == 400, month
    for month in ("9999-12", "99999999999999999999-01"):
        assert lead.post("/staffing/propose/", {"team": world.team_a.pk, "month": month}).status_code == 302
    proposal = selectors.proposals(actor=world.lead_a)[0]
    changes = selectors.diff(proposal)
    assert changes  # the roster is empty: every employed cell changes
    page = lead.get(f"/staffing/proposals/{proposal.pk}/")
    assert page.status_code == 200 and 'data-testid="proposal-grid"' in page.content.decode()
    key = str(k1.pk)
    # approved rest is fixed: turning it into a shift is refused
    with pytest.raises(ApplicationError):
        services.proposal_cells_set(actor=world.lead_a, proposal=proposal, cells={(key, "2026-12-10"): "day"})
    # all or none: a good swap with a change that takes a rest day away is refused whole
    row = proposal.cells[key]
    worked = next(d for d, c in sorted(row.items()) if c in ("day", "night"))
    rested = [d for d, c in sorted(row.items()) if c == "" and d != "2026-12-10"]
    other = "night" if row[worked] == "day" else "day"
    with pytest.raises(ApplicationError):
        services.proposal_cells_set(
            actor=world.lead_a, proposal=proposal, cells={(key, worked): other, **{(key, d): "day" for d in rested}}
        )
    proposal.refresh_from_db()
    assert proposal.cells[key][worked] != other
    # a swap of shifts through the page: saved; the same form again (an older copy) is refused
    lead.post(f"/staffing/proposals/{proposal.pk}/save/", {f"c-{key}-{worked}": other, "revision": "0"})
    proposal.refresh_from_db()
    assert proposal.cells[key][worked] == other and proposal.revision == 1
    stale = lead.post(f"/staffing/proposals/{proposal.pk}/save/", {f"c-{key}-{worked}": row[worked], "revision": "0"})
    assert stale.status_code == 302
    proposal.refresh_from_db()
    assert proposal.cells[key][worked] == other
    # rest approved after the proposal was made is fixed too, and published as rest
    late_day = next(d for d, c in sorted(proposal.cells[key].items()) if c in ("day", "night") and d != worked)
    LeaveRequest.objects.create(
        staff=k1, kind="rest", start_date=dt.date.fromisoformat(late_day), end_date=dt.date.fromisoformat(late_day),
        status="approved",
    )  # fmt: skip
    with pytest.raises(ApplicationError):
        services.proposal_cells_set(actor=world.lead_a, proposal=proposal, cells={(key, late_day): "night"})
    # a second draft of the month is discarded when the first is published
    second = services.proposal_make(actor=world.lead_a, team=world.team_a, month=dt.date(2026, 12, 1), time_limit=5)
    lead.post(f"/staffing/proposals/{proposal.pk}/publish/")
    proposal.refresh_from_db()
    second.refresh_from_db()
    assert proposal.state == ProposalStatus.PUBLISHED and second.state == ProposalStatus.DISCARDED
    assert RosterEntry.objects.get(staff_id=k1.pk, date=dt.date.fromisoformat(worked)).shift_code == other
    assert RosterEntry.objects.get(staff_id=k1.pk, date=dt.date(2026, 12, 10)).shift_code == ""
    assert RosterEntry.objects.get(staff_id=k1.pk, date=dt.date.fromisoformat(late_day)).shift_code == ""
    # a leave day is a scheduled day the leave excuses, never a rest day taken
    assert RosterEntry.objects.get(staff_id=k1.pk, date=dt.date(2026, 12, 15)).shift_code == "day"
    assert RosterEntry.objects.filter(source="proposal").count() == len(changes)  # the late rest: a change either way
    # published once: a second click is refused and changes nothing
    again = lead.post(f"/staffing/proposals/{proposal.pk}/publish/")
    assert again.status_code in (302, 409)
    assert RosterEntry.objects.filter(source="proposal").count() == len(changes)
    # another team's lead cannot see it; a team outside scope is a 404 on the pages too
    assert _client(world.agent_b).get(f"/staffing/proposals/{proposal.pk}/").status_code in (403, 404)
    assert lead.get("/staffing/", {"team": world.team_b.pk}).status_code == 404


def test_a_day_two_months_ahead_is_forecast_from_the_latest_weeks() -> None:
    # frozen today is Thursday 2026-11-26; Friday 2027-01-29 reads the Fridays before today:
    # 11-20, 11-13, … — never days without history yet
    got = fc.same_weekdays(dt.date(2027, 1, 29), 3, dt.date(2026, 11, 26))
    assert got == [dt.date(2026, 11, 20), dt.date(2026, 11, 13), dt.date(2026, 11, 6)]
    assert fc.same_weekdays(dt.date(2026, 11, 18), 2, dt.date(2026, 11, 26)) == [
        dt.date(2026, 11, 11),
        dt.date(2026, 11, 4),
    ]


@settings(max_examples=100, deadline=None)
@given(st.dates(dt.date(2026, 1, 1), dt.date(2028, 1, 1)), st.dates(dt.date(2026, 1, 1), dt.date(2028, 1, 1)))
def test_forecast_days_are_the_same_weekday_and_before_history_ends(day: dt.date, today: dt.date) -> None:
    got = fc.same_weekdays(day, 8, today)
    assert all(d.weekday() == day.weekday() and d < min(day, today) for d in got)
    assert got[0] >= min(day, today) - dt.timedelta(days=7)  # the latest such day
    assert all((a - b).days == 7 for a, b in itertools.pairwise(got))
