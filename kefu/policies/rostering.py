"""R-WFM-3, the roster proposal: a shift type or rest for every person and day of a month that
covers the hourly requirement as closely as possible while keeping the handbook. Solved with
OR-Tools CP-SAT (ADR 0027). No Django imports.

Hard constraints (never broken):

* a fixed day stays as it is: approved rest is rest, approved leave is a leave day (scheduled, not
  worked: it covers nothing and breaks a run of working days), days outside the hire and leaving
  dates have no entry at all (R-WF-18);
* rest days on ordinary days (a rest on a statutory holiday is the holiday itself, R-WF-20) are at
  least the person's entitlement (R-WF-8 prorated by R-WF-18, or the approved rest requests when
  they are more);
* at most ``max_run`` working days in a row (policy, preset 6), counting the days worked just before
  the month.

Then, in this order (weights far enough apart that an earlier term always wins): uncovered
agent-hours; rest days beyond the entitlement (the handbook gives exactly the entitlement — extra
ones are only taken when the run limit leaves no choice); surplus agent-hours; the spread of night
shifts and of weekend working days between the people employed all month.

Reading: an hour is covered by a shift that covers at least half of it (白班 08:30–17:30 covers the
hours 08 … 17; 晚班 17:00–01:00 covers 17 … 23 and hour 00 of the next day).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

REST = ""  # a rest day
LEAVE = "leave"  # an approved leave day: scheduled, not worked

W_UNDER = 1_000_000
W_EXTRA_REST = 10_000
W_SURPLUS = 100
W_FAIR = 1


@dataclass(frozen=True)
class Shift:
    code: str
    start: dt.time
    end: dt.time  # at or before start: the next day
    night: bool = False

    def hours(self) -> list[tuple[int, int]]:
        """(day offset, hour) cells this shift covers for at least half an hour."""
        begin = self.start.hour * 60 + self.start.minute
        finish = self.end.hour * 60 + self.end.minute
        if finish <= begin:
            finish += 24 * 60
        cells = []
        for hour in range(0, 48):
            low, high = max(begin, hour * 60), min(finish, hour * 60 + 60)
            if high - low >= 30:
                cells.append((hour // 24, hour % 24))
        return cells


@dataclass(frozen=True)
class Person:
    key: str
    employed_from: dt.date | None = None
    employed_to: dt.date | None = None
    fixed: Mapping[dt.date, str] = field(default_factory=dict)  # REST, LEAVE or a shift code
    rest_days: int = 2  # the entitlement for the month (already prorated)
    worked_before: int = 0  # working days in a row just before the month
    shifts: tuple[str, ...] | None = None  # the shift types this person may work (None: all)

    def employed(self, day: dt.date) -> bool:
        return (self.employed_from is None or day >= self.employed_from) and (
            self.employed_to is None or day <= self.employed_to
        )


@dataclass(frozen=True)
class Problem:
    days: tuple[dt.date, ...]
    shifts: tuple[Shift, ...]
    people: tuple[Person, ...]
    need: Mapping[tuple[dt.date, int], int]  # heads required per (date, hour)
    holidays: frozenset[dt.date] = frozenset()
    max_run: int = 6
    time_limit: float = 20.0
    workers: int = 2
    seed: int = 0


@dataclass
class Short:
    day: dt.date
    hour: int
    need: int
    covered: int
    why: str  # "unavailable" (everyone who could work is on shift, off by rule or on leave) | "rules"


@dataclass
class Proposal:
    status: str  # optimal | feasible | infeasible
    cells: dict[str, dict[dt.date, str | None]]  # person → day → shift code, REST, LEAVE or None
    short: list[Short]
    surplus_hours: int
    extra_rest: dict[str, int]  # person → rest days beyond the entitlement
    nights: dict[str, int]
    weekends: dict[str, int]
    seconds: float
    objective: int | None = None

    @property
    def uncovered_hours(self) -> int:
        return sum(s.need - s.covered for s in self.short)


def solve(problem: Problem) -> Proposal:
    from ortools.sat.python import cp_model

    model: Any = cp_model.CpModel()  # its expressions mix ints and variables: typed loosely here
    shifts = {s.code: s for s in problem.shifts}
    days = list(problem.days)
    first = days[0] if days else None
    x: dict[tuple[str, dt.date, str], Any] = {}
    work: dict[tuple[str, dt.date], Any] = {}
    rest: dict[tuple[str, dt.date], Any] = {}
    fixed_out: dict[tuple[str, dt.date], str | None] = {}
    cover: dict[tuple[dt.date, int], list[Any]] = {}
    extras: dict[str, Any] = {}
    for p in problem.people:
        allowed = [c for c in shifts if p.shifts is None or c in p.shifts]
        for d in days:
            if not p.employed(d):
                fixed_out[p.key, d] = None
                work[p.key, d] = 0
                continue
            pinned = p.fixed.get(d)
            if pinned == LEAVE:
                fixed_out[p.key, d] = LEAVE
                work[p.key, d] = 0
                continue
            choices = []
            for code in [pinned] if pinned in shifts else allowed:
                var = model.NewBoolVar(f"x_{p.key}_{d}_{code}")
                x[p.key, d, code] = var
                choices.append(var)
                for offset, hour in shifts[code].hours():
                    cover.setdefault((d + dt.timedelta(days=offset), hour), []).append(var)
            r = model.NewBoolVar(f"r_{p.key}_{d}")
            if pinned is not None and pinned != REST:
                model.Add(r == 0)
            if pinned == REST:
                model.Add(r == 1)
            rest[p.key, d] = r
            model.AddExactlyOne([*choices, r])
            work[p.key, d] = sum(choices) if choices else 0
        # rest on ordinary days: at least the entitlement; beyond it is penalised
        ordinary = [rest[p.key, d] for d in days if (p.key, d) in rest and d not in problem.holidays]
        if ordinary:
            target = min(p.rest_days, len(ordinary))
            model.Add(sum(ordinary) >= target)
            extra = model.NewIntVar(0, len(ordinary), f"extra_{p.key}")
            model.Add(extra == sum(ordinary) - target)
            extras[p.key] = extra
        # at most max_run working days in a row, the days before the month included
        run = problem.max_run
        before = min(p.worked_before, run)
        series: list[Any] = [1] * before + [work[p.key, d] for d in days]
        for i in range(0, len(series) - run):
            window = series[i : i + run + 1]
            if all(isinstance(v, int) for v in window):
                continue
            model.Add(sum(window) <= run)
    # coverage
    under_terms = []
    surplus_terms = []
    cells = set(problem.need) | set(cover)
    in_month = set(days)
    for key in sorted(cells):
        if key[0] not in in_month:
            continue
        need = int(problem.need.get(key, 0))
        covering = cover.get(key, [])
        if not covering:
            continue
        under = model.NewIntVar(0, max(need, 0), f"u_{key[0]}_{key[1]}")
        surplus = model.NewIntVar(0, len(covering), f"s_{key[0]}_{key[1]}")
        model.Add(sum(covering) + under - surplus == need)
        under_terms.append(under)
        surplus_terms.append(surplus)
    # fairness between the people employed all month: nights and weekend working days
    full = [p for p in problem.people if all(p.employed(d) for d in days)]
    night_codes = [c for c, s in shifts.items() if s.night]
    fair_terms = []
    if len(full) > 1 and days:
        nights = [sum(x[p.key, d, c] for d in days for c in night_codes if (p.key, d, c) in x) for p in full]
        weekends = [sum(work[p.key, d] for d in days if d.weekday() >= 5) for p in full]
        for name, counts in (("n", nights), ("w", weekends)):
            hi = model.NewIntVar(0, len(days), f"{name}_hi")
            lo = model.NewIntVar(0, len(days), f"{name}_lo")
            for c in counts:
                model.Add(hi >= c)
                model.Add(lo <= c)
            fair_terms.append(hi - lo)
    model.Minimize(
        W_UNDER * sum(under_terms)
        + W_EXTRA_REST * sum(extras.values())
        + W_SURPLUS * sum(surplus_terms)
        + W_FAIR * sum(fair_terms)
    )
    solver: Any = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = problem.time_limit
    solver.parameters.num_workers = problem.workers
    solver.parameters.random_seed = problem.seed
    status = solver.Solve(model)
    seconds = solver.WallTime()
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return Proposal("infeasible", {}, [], 0, {}, {}, {}, seconds)
    out: dict[str, dict[dt.date, str | None]] = {}
    for p in problem.people:
        row: dict[dt.date, str | None] = {}
        for d in days:
            if (p.key, d) in fixed_out:
                row[d] = fixed_out[p.key, d]
                continue
            row[d] = next((c for c in shifts if (p.key, d, c) in x and solver.Value(x[p.key, d, c])), REST)
        out[p.key] = row
    return _explain(
        problem,
        out,
        "optimal" if status == cp_model.OPTIMAL else "feasible",
        seconds,
        int(solver.ObjectiveValue()),
        first,
    )


def covered_heads(
    problem: Problem, cells: Mapping[str, Mapping[dt.date, str | None]]
) -> dict[tuple[dt.date, int], int]:
    """Heads on shift per (date, hour) for a roster (the proposal's or the current one)."""
    shifts = {s.code: s for s in problem.shifts}
    heads: dict[tuple[dt.date, int], int] = {}
    for row in cells.values():
        for d, code in row.items():
            shift = shifts.get(code or "")
            if shift is None:
                continue
            for offset, hour in shift.hours():
                key = (d + dt.timedelta(days=offset), hour)
                heads[key] = heads.get(key, 0) + 1
    return heads


def _explain(
    problem: Problem,
    cells: dict[str, dict[dt.date, str | None]],
    status: str,
    seconds: float,
    objective: int,
    first: dt.date | None,
) -> Proposal:
    shifts = {s.code: s for s in problem.shifts}
    heads = covered_heads(problem, cells)
    in_month = set(problem.days)
    short = []
    surplus = 0
    for key in sorted(set(problem.need) | set(heads)):
        if key[0] not in in_month:
            continue
        need, have = int(problem.need.get(key, 0)), heads.get(key, 0)
        if have > need:
            surplus += have - need
        elif have < need:
            day, hour = key
            # could anyone resting or on leave that day have covered the hour? if not, people ran out
            idle = [
                p.key
                for p in problem.people
                if p.employed(day) and cells[p.key].get(day) == REST and day not in problem.holidays
            ]
            why = "rules" if idle else "unavailable"
            short.append(Short(day, hour, need, have, why))
    extra = {}
    nights = {}
    weekends = {}
    for p in problem.people:
        row = cells[p.key]
        ordinary_rest = sum(1 for d, c in row.items() if c == REST and d not in problem.holidays)
        extra[p.key] = max(0, ordinary_rest - p.rest_days)
        nights[p.key] = sum(1 for c in row.values() if c in shifts and shifts[c].night)
        weekends[p.key] = sum(1 for d, c in row.items() if c in shifts and d.weekday() >= 5)
    return Proposal(status, cells, short, surplus, extra, nights, weekends, seconds, objective)


def longest_run(row: Mapping[dt.date, str | None], shift_codes: Sequence[str], before: int = 0) -> int:
    """The longest run of working days in a person's month (``before``: worked just before it)."""
    best = run = before
    for d in sorted(row):
        if row[d] in shift_codes:
            run += 1
            best = max(best, run)
        else:
            run = 0
    return best
