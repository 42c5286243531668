"""Staffing's reads: the forecast with its backtest error (R-WFM-1), the hourly requirement against
the roster (R-WFM-2), past weeks' forecast against actual for the chart, and proposals."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext as _

from kefu.core import clock
from kefu.core.actors import Actor
from kefu.core.errors import ApplicationError
from kefu.core.policy_store import policy_in_force
from kefu.core.scoping import access_object
from kefu.org.models import Staff, Team
from kefu.policies import attendance
from kefu.policies import forecast as fc
from kefu.policies import rostering as solver
from kefu.policies import staffing as erlang
from kefu.workforce.models import LeaveRequest, RequestKind, RequestStatus, RosterEntry

from . import history
from .models import RosterProposal

WHOLE = Decimal("0.01")


def _weights_and_campaigns(day: dt.date) -> tuple[list[Decimal], dict[str, Any]]:
    s = policy_in_force(day).staffing
    return list(s.week_weights)[: int(s.history_weeks)], {c.day: c.multiplier for c in s.campaigns}


def first_day(team_id: int) -> dt.date | None:
    """The day the team's desk history begins (the first message in one of its shops, read shop by
    shop on the (shop, sent time) index); days before it are unknown, not quiet, and the forecast
    leaves them out."""
    from kefu.desk.models import Message
    from kefu.org.selectors import team_shop_ids

    firsts = [
        Message.objects.filter(shop_id=shop_id).order_by("sent_at").values_list("sent_at", flat=True).first()
        for shop_id in team_shop_ids(team_id)
    ]
    found = [f for f in firsts if f is not None]
    return clock.local_date(min(found)) if found else None


def _forecasts(
    team_id: int, days: list[dt.date], since: dt.date | None, *, with_actual: bool = False
) -> tuple[dict[dt.date, list[Decimal] | None], dict[dt.date, list[int]]]:
    """R-WFM-1 for each of ``days`` (None: no history) from one read of the history they need —
    with ``with_actual``, of the days themselves too; that read is returned beside them. Days before
    ``since`` (the history's first) are unknown and left out."""
    today = clock.today()
    reads = {}
    for d in days:
        weights, campaigns = _weights_and_campaigns(d)
        reads[d] = (fc.same_weekdays(d, len(weights), today), weights, campaigns)
    wanted = {p for past, _w, _c in reads.values() for p in past} | (set(days) if with_actual else set())
    known = history.ensure(team_id, [d for d in wanted if since is not None and d >= since])
    counts = {d: h.sessions for d, h in known.items()}
    out = {
        d: fc.forecast_day({p: counts[p] for p in past if p in counts}, d, weights, campaigns, before=today)
        for d, (past, weights, campaigns) in reads.items()
    }
    return out, counts


def forecast(team_id: int, day: dt.date, *, since: dt.date | None = None) -> list[Decimal] | None:
    """R-WFM-1: the expected sessions in each hour of ``day`` for the team (None: no history)."""
    begins = since if since is not None else first_day(team_id)
    if begins is None:
        return None
    return _forecasts(team_id, [day], begins)[0][day]


@dataclass
class WeekAhead:
    days: list[dt.date]
    cells: list[list[int]]  # per day, the forecast sessions of each hour, rounded
    top: int


def week_ahead(team_id: int, first: dt.date, *, since: dt.date | None = None) -> WeekAhead:
    """R-WFM-1 by hour of the week: the forecast of the seven days from ``first``, one history read."""
    days = [first + dt.timedelta(days=i) for i in range(7)]
    predicted, _counts = _forecasts(team_id, days, since if since is not None else first_day(team_id))
    cells = [
        [int(v.quantize(Decimal(1), rounding=ROUND_HALF_UP)) for v in (predicted[d] or [Decimal(0)] * fc.HOURS)]
        for d in days
    ]
    return WeekAhead(days, cells, max([max(row) for row in cells] + [1]))


def last_full_week(today: dt.date) -> dt.date:
    """The Monday of the last whole week before ``today``'s."""
    return today - dt.timedelta(days=today.weekday() + 7)


@dataclass
class WeekBacktest:
    monday: dt.date
    forecast: list[Decimal]  # 168 hours
    actual: list[int]
    mape: Decimal | None

    @property
    def daily_mape(self) -> Decimal | None:
        """The same error over each day's total: hourly counts of a few sessions are noisy, a day's
        total says how well the day's volume was foreseen."""
        days = range(0, len(self.actual), fc.HOURS)
        return fc.mape(
            [sum(self.forecast[i : i + fc.HOURS], Decimal(0)) for i in days],
            [sum(self.actual[i : i + fc.HOURS]) for i in days],
        )


def backtest(team_id: int, monday: dt.date, *, since: dt.date | None = None) -> WeekBacktest:
    """A whole week forecast from the weeks before it, beside what happened: its days and their
    history read in one query."""
    week = [monday + dt.timedelta(days=i) for i in range(7)]
    begins = since if since is not None else first_day(team_id)
    predicted, counts = _forecasts(team_id, week, begins, with_actual=True)
    f: list[Decimal] = []
    a: list[int] = []
    for day in week:
        f.extend(predicted[day] or [Decimal(0)] * fc.HOURS)
        a.extend(counts.get(day) or [0] * fc.HOURS)
    return WeekBacktest(monday, f, a, fc.mape(f, a))


def handle_seconds(team_id: int, day: dt.date) -> float:
    """R-WFM-2's handle time: the mean session duration over the history weeks (every day), or the
    policy's default without history."""
    s = policy_in_force(day).staffing
    end = min(day, clock.today())  # a day ahead is handled as the latest weeks were
    days = [end - dt.timedelta(days=n) for n in range(1, 7 * int(s.history_weeks) + 1)]
    mean = fc.mean_handle_seconds(history.ensure(team_id, days).values())
    return mean if mean else float(s.default_handle_seconds)


def heads_on_roster(team_id: int, day: dt.date) -> list[int]:
    """Team members on shift in each local hour of ``day`` (the previous day's night shift covers
    the small hours), less those on approved whole-day leave or rest."""
    from kefu.policies.rostering import Shift

    shifts = attendance.shift_types(policy_in_force(day).document)
    covers = {code: Shift(code, s.start, s.end).hours() for code, s in shifts.items()}
    heads = [0] * fc.HOURS
    entries = RosterEntry.objects.filter(
        staff__team_id=team_id, date__in=[day - dt.timedelta(days=1), day]
    ).values_list("staff_id", "date", "shift_code")
    off = set(
        LeaveRequest.objects.filter(
            staff__team_id=team_id,
            status=RequestStatus.APPROVED,
            start_date__lte=day,
            end_date__gte=day - dt.timedelta(days=1),
            half_day=False,
        )
        .exclude(kind=RequestKind.TRIP)
        .values_list("staff_id", "start_date", "end_date")
    )
    for staff_id, date, code in entries:
        if any(s == staff_id and a <= date <= b for s, a, b in off):
            continue
        for offset, hour in covers.get(code, []):
            if date + dt.timedelta(days=offset) == day:
                heads[hour] += 1
    return heads


@dataclass
class HourNeed:
    hour: int
    forecast: Decimal
    slots: int
    agents: int
    heads: int  # rostered heads required (after shrinkage)
    on_roster: int
    service_level: Decimal

    @property
    def shortfall(self) -> int:
        return max(0, self.heads - self.on_roster)

    def as_dict(self) -> dict[str, Any]:
        return {
            "hour": self.hour,
            "forecast": str(self.forecast.quantize(WHOLE, rounding=ROUND_HALF_UP)),
            "slots": self.slots,
            "agents": self.agents,
            "heads": self.heads,
            "on_roster": self.on_roster,
            "shortfall": self.shortfall,
            "service_level": str(self.service_level),
        }


@dataclass
class Requirement:
    day: dt.date
    handle_seconds: float
    hours: list[HourNeed]
    mape: Decimal | None
    has_history: bool
    week: WeekBacktest | None = None
    since: dt.date | None = None  # the history's first day


def _needs(day: dt.date, predicted: list[Decimal] | None, aht: float) -> list[erlang.Requirement]:
    """R-WFM-2 for each hour of ``day`` from its forecast, with the policy's targets."""
    s = policy_in_force(day).staffing
    return [
        erlang.required(
            arrivals_per_hour=float(predicted[hour] if predicted else 0),
            handle_seconds=aht,
            concurrency=int(s.concurrency),
            answer_within_seconds=float(s.answer_within_seconds),
            service_level=float(s.service_level_percent) / 100,
            shrinkage=float(s.shrinkage_percent) / 100,
        )
        for hour in range(fc.HOURS)
    ]


def requirement(team_id: int, day: dt.date) -> Requirement:
    """R-WFM-2 for each hour of ``day``: forecast sessions, Erlang C slots, agents and rostered heads,
    beside the heads on the roster; with the backtest error of the last whole week."""
    begins = first_day(team_id)
    predicted = forecast(team_id, day, since=begins) if begins else None
    aht = handle_seconds(team_id, day)
    on_roster = heads_on_roster(team_id, day)
    hours = [
        HourNeed(
            hour,
            predicted[hour] if predicted else Decimal(0),
            need.slots,
            need.agents,
            need.rostered,
            on_roster[hour],
            Decimal(erlang.four_places(need.service_level)),
        )
        for hour, need in enumerate(_needs(day, predicted, aht))
    ]
    week = backtest(team_id, last_full_week(clock.today()), since=begins) if predicted else None
    return Requirement(day, aht, hours, week.mape if week else None, predicted is not None, week, begins)


def month_need(team_id: int, first: dt.date, last: dt.date) -> dict[tuple[dt.date, int], int]:
    """Rostered heads required per (date, hour) over a month — the proposal's coverage target: the
    month's forecasts from one history read, the handle time once."""
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    predicted, _counts = _forecasts(team_id, days, first_day(team_id))
    aht = handle_seconds(team_id, first)
    return {(day, hour): need.rostered for day in days for hour, need in enumerate(_needs(day, predicted[day], aht))}


def proposal_get(*, actor: Actor, proposal_id: Any, action: str = "read") -> RosterProposal:
    return access_object(actor, RosterProposal.objects.select_related("team"), action, pk=proposal_id)


def proposals(*, actor: Actor, team: int | None = None, limit: int = 20) -> list[RosterProposal]:
    qs = RosterProposal.objects.restrict(actor).select_related("team")
    if team:
        qs = qs.filter(team_id=team)
    return list(qs[:limit])


def members(team_id: int, first: dt.date) -> list[Staff]:
    """The team's desk staff employed on a day of the month (R-WF-18, the workforce's reading)."""
    from kefu.org.models import Position
    from kefu.workforce.selectors import employed_in

    desk = Staff.objects.filter(
        team_id=team_id, position__in=[Position.TEAM_LEAD, Position.PRESALES, Position.AFTERSALES]
    )
    return list(employed_in(desk, first.year, first.month).order_by("employee_no"))


def month_of(text: Any) -> dt.date:
    """A month written as YYYY-MM (its first day); a clear 400 otherwise."""
    try:
        year, month = (int(p) for p in str(text).split("-"))
        return dt.date(year, month, 1)
    except (TypeError, ValueError, OverflowError):
        raise ApplicationError("validation_error", _("Write the month as 2027-01.")) from None


def month_days(first: dt.date) -> list[dt.date]:
    return list(attendance.month_dates(first.year, first.month))


def problem_for(team: Team, first: dt.date, *, time_limit: float | None = None) -> solver.Problem:
    """The solver's problem for a team and month: its desk staff, their approved rest and leave,
    employment dates, rest entitlement and the days worked just before; the hourly requirement."""
    policy = policy_in_force(first)
    days = month_days(first)
    last = days[-1]
    people = members(team.pk, first)
    shift_types = attendance.shift_types(policy.document)
    night = set(policy.staffing.night_shifts)
    shifts = tuple(solver.Shift(c, s.start, s.end, c in night) for c, s in shift_types.items())
    found = approved_days([p.pk for p in people], first, last)
    fixed: dict[int, dict[dt.date, str]] = {p.pk: dict(found.get(p.pk, {})) for p in people}
    # days worked in a row just before the month (the current roster)
    before: dict[int, int] = {}
    tail = {
        (s, d): code
        for s, d, code in RosterEntry.objects.filter(
            staff__in=people, date__gte=first - dt.timedelta(days=31), date__lt=first
        ).values_list("staff_id", "date", "shift_code")
    }
    for p in people:
        n = 0
        d = first - dt.timedelta(days=1)
        while tail.get((p.pk, d)):
            n += 1
            d -= dt.timedelta(days=1)
        before[p.pk] = n
    per_month = int(policy.leave.rest_days_per_month)
    persons = []
    for p in people:
        employed = sum(
            1 for d in days if (p.hire_date is None or d >= p.hire_date) and (p.leave_date is None or d <= p.leave_date)
        )
        requested_rest = sum(1 for v in fixed[p.pk].values() if v == solver.REST)
        persons.append(
            solver.Person(
                key=str(p.pk),
                employed_from=p.hire_date,
                employed_to=p.leave_date,
                fixed=fixed[p.pk],
                rest_days=max(attendance.rest_entitlement(per_month, employed, len(days)), requested_rest),
                worked_before=before[p.pk],
            )
        )
    return solver.Problem(
        days=tuple(days),
        shifts=shifts,
        people=tuple(persons),
        need=month_need(team.pk, first, last),
        holidays=attendance.statutory_holidays(policy.document),
        max_run=int(policy.staffing.max_days_in_row),
        time_limit=float(time_limit if time_limit is not None else policy.staffing.solver_seconds),
    )


def diff(proposal: RosterProposal) -> list[dict[str, Any]]:
    """Cells where the proposal differs from the current roster: (staff, date, now, proposed)."""
    ids = [int(k) for k in proposal.cells]
    days = month_days(proposal.month)
    first_shift = next(iter(attendance.shift_types(policy_in_force(proposal.month).document)), "")
    current = {
        (s, d): code
        for s, d, code in RosterEntry.objects.filter(
            staff_id__in=ids, date__gte=days[0], date__lte=days[-1]
        ).values_list("staff_id", "date", "shift_code")
    }
    out = []
    for key, row in proposal.cells.items():
        for iso, code in row.items():
            if code is None:
                continue
            d = dt.date.fromisoformat(iso)
            want = _roster_code(code, current.get((int(key), d)), first_shift)
            have = current.get((int(key), d))
            if want != have:
                out.append({"staff": int(key), "date": d, "now": have, "proposed": want})
    return sorted(out, key=lambda r: (r["date"], r["staff"]))


def _roster_code(code: str, current: str | None, first_shift: str = "") -> str:
    """What the roster holds for a proposal cell: a leave day is a scheduled day the leave excuses —
    the current shift, or the first shift type when there is none (a rest on a leave day would count
    as a rest day taken, R-WF-8)."""
    if code == solver.LEAVE:
        return current if current else first_shift
    return code


def employee_names(staff_ids: list[int]) -> dict[int, str]:
    return dict(Staff.objects.filter(pk__in=staff_ids).values_list("pk", "name"))


def employee_numbers(staff_ids: list[int]) -> dict[int, str]:
    return dict(Staff.objects.filter(pk__in=staff_ids).values_list("pk", "employee_no"))


def people_of(proposal: RosterProposal) -> dict[int, Staff]:
    """The proposal's people by id, in employee-number order."""
    return {s.pk: s for s in Staff.objects.filter(pk__in=[int(k) for k in proposal.cells]).order_by("employee_no")}


def approved_days(staff_ids: list[int], first: dt.date, last: dt.date) -> dict[int, dict[dt.date, str]]:
    """Approved whole-day rest and leave of these people between two dates: (staff → day → "" for
    rest or "leave"). Trips are worked days (R-WF-21) and half days leave the day scheduled."""
    out: dict[int, dict[dt.date, str]] = {}
    for r in LeaveRequest.objects.filter(
        staff_id__in=staff_ids, status=RequestStatus.APPROVED, start_date__lte=last, end_date__gte=first, half_day=False
    ).exclude(kind=RequestKind.TRIP):
        d = max(r.start_date, first)
        while d <= min(r.end_date, last):
            out.setdefault(r.staff_id, {})[d] = solver.REST if r.kind == RequestKind.REST else solver.LEAVE
            d += dt.timedelta(days=1)
    return out


def approved_since(proposal: RosterProposal) -> dict[str, dict[str, str]]:
    """Rest and leave approved now for the proposal's people and month (some perhaps after it was
    made), as staff id → ISO day → "" (rest) or "leave"."""
    days = month_days(proposal.month)
    found = approved_days([int(k) for k in proposal.cells], days[0], days[-1])
    return {str(k): {d.isoformat(): c for d, c in v.items()} for k, v in found.items()}
