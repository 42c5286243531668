"""Reads for the workforce, scoped to the actor: statements, roster grid, inbox, points."""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Q, Sum

from kefu.core import clock
from kefu.core.actors import Actor
from kefu.core.policy_store import Policy, policy_in_force
from kefu.core.scoping import access_object
from kefu.org.models import Staff
from kefu.policies import attendance as rules

from .models import LeaveRequest, PointEntry, Punch, RedPacket, RequestKind, RequestStatus, RosterEntry


def month_bounds(year: int, month: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def _approved_days(requests: list[LeaveRequest], low: dt.date, high: dt.date) -> list[tuple[LeaveRequest, dt.date]]:
    out = []
    for req in requests:
        day = max(req.start_date, low)
        while day <= min(req.end_date, high):
            out.append((req, day))
            day += dt.timedelta(days=1)
    return out


def _leave_total(requests: list[LeaveRequest], low: dt.date, high: dt.date, *, personal_only: bool) -> Decimal:
    total = Decimal("0")
    for req, _day in _approved_days(requests, low, high):
        if req.kind == RequestKind.REST:
            continue
        if personal_only and req.kind != RequestKind.PERSONAL:
            continue
        total += Decimal("0.5") if req.half_day else Decimal("1")
    return total


def _punch_rows(ids: list[int], low: dt.date, high: dt.date) -> list[tuple[int, dt.datetime, str, str, int, bool]]:
    """Punches of many staff in a date range as (staff id, naive local time, kind, source, id).

    A month for 1,000 staff is 60,000 rows and the per-value datetime converters of the ORM (and of
    psycopg's Python timestamptz loader, which Django installs) cost about a third of the statement
    time. PostgreSQL hands over epoch seconds instead; SQLite's naive UTC values are parsed here.
    """
    table = connection.ops.quote_name(Punch._meta.db_table)
    bounds = [connection.ops.adapt_datetimefield_value(clock.day_start(day)) for day in (low, high)]
    postgres = connection.vendor == "postgresql"
    at_sql = "EXTRACT(EPOCH FROM at)::float8" if postgres else "at"
    tz = clock.local_tz()
    rows: list[tuple[int, dt.datetime, str, str, int, bool]] = []
    with connection.cursor() as cursor:
        for start in range(0, len(ids), 900):
            chunk = ids[start : start + 900]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"SELECT staff_id, {at_sql}, kind, source, id, scheduled_only FROM {table} "  # noqa: S608 (quoted identifier)
                f"WHERE staff_id IN ({marks}) AND at >= %s AND at < %s",
                [*chunk, *bounds],
            )
            for staff_id, at, kind, source, pk, scheduled_only in cursor.fetchall():
                if postgres:
                    local = dt.datetime.fromtimestamp(at, tz)
                else:  # SQLite keeps naive UTC (text, or parsed by its column converter)
                    value = dt.datetime.fromisoformat(at) if isinstance(at, str) else at
                    local = value.replace(tzinfo=dt.UTC).astimezone(tz)
                rows.append((staff_id, local.replace(tzinfo=None), kind, source, pk, bool(scheduled_only)))
    return rows


def _rule_request(req: LeaveRequest, day: dt.date) -> rules.Request:
    kind = {RequestKind.REST: rules.REST, RequestKind.TRIP: rules.TRIP}.get(req.kind, rules.LEAVE)  # type: ignore[call-overload]
    return rules.Request(
        day,
        kind,
        Decimal("0.5") if req.half_day else Decimal("1"),
        req.kind == RequestKind.PERSONAL,
        f"request:{req.pk}",
        half=req.half,
        source=req.source,
        span=(req.from_time, req.to_time) if req.from_time is not None and req.to_time is not None else None,
    )


def _statement_leave_days(
    requests: list[LeaveRequest], roster: dict[dt.date, str | None], low: dt.date, high: dt.date
) -> Decimal:
    """R-WF-10 (clarified): the leave days a month's statement counts — approved leave on the days
    the roster schedules a shift, one status a day — not the calendar days between a request's dates."""
    by_day: dict[dt.date, list[rules.Request]] = defaultdict(list)
    for req, day in _approved_days(requests, low, high):
        if roster.get(day):
            by_day[day].append(_rule_request(req, day))
    return sum(
        (r.days for reqs in by_day.values() for r in rules.one_status(reqs) if r.kind == rules.LEAVE), Decimal("0")
    )


CONDUCT = frozenset({"warning", "demerit"})


def _conduct(
    ids: list[int], first: dt.date, last: dt.date, policy: dict[str, Any]
) -> dict[int, list[tuple[dt.date, str, str]]]:
    """R-WF-17: each person's on-the-spot warnings and 记过 of the month (not reversed), by the
    category the points catalogue gives their item."""
    categories = {i["code"]: i.get("category", "") for i in policy["points"]["items"]}
    codes = [code for code, category in categories.items() if category in CONDUCT]
    out: dict[int, list[tuple[dt.date, str, str]]] = defaultdict(list)
    if not codes:
        return out
    rows = (
        PointEntry.objects.filter(
            staff_id__in=ids,
            item_code__in=codes,
            at__gte=clock.day_start(first),
            at__lt=clock.day_start(last + dt.timedelta(days=1)),
            reverses__isnull=True,
            reversal__isnull=True,
        )
        .values_list("staff_id", "at", "item_name", "item_code")
        .order_by("at")
    )
    for staff_id, at, name, code in rows:
        out[staff_id].append((at.astimezone(clock.local_tz()).date(), name, categories[code]))
    return out


def statements(*, staff: list[Staff], year: int, month: int, policy: Policy | None = None) -> list[rules.Statement]:
    """Statements for many staff in a handful of queries (one per table, whatever the head count)."""
    first, last = month_bounds(year, month)
    policy = policy or policy_in_force(first)  # the version in force when the month began
    ids = [s.pk for s in staff]
    prev_first = (first - dt.timedelta(days=1)).replace(day=1)
    roster: dict[int, dict[dt.date, str | None]] = defaultdict(dict)
    prev_roster: dict[int, dict[dt.date, str | None]] = defaultdict(dict)
    for staff_id, day, code in RosterEntry.objects.filter(
        staff_id__in=ids, date__gte=prev_first, date__lte=last
    ).values_list("staff_id", "date", "shift_code"):
        # "" = rest (R-WF-8), absent = not scheduled
        (roster if day >= first else prev_roster)[staff_id][day] = code
    punches: dict[int, list[rules.Punch]] = defaultdict(list)
    for staff_id, at, kind, source, pk, scheduled_only in _punch_rows(
        ids, first - dt.timedelta(days=1), last + dt.timedelta(days=2)
    ):
        punches[staff_id].append(rules.Punch(at, kind, source, f"punch:{pk}", scheduled_only))
    year_start = dt.date(year, 1, 1)
    requests: dict[int, list[LeaveRequest]] = defaultdict(list)
    for req in LeaveRequest.objects.filter(
        staff_id__in=ids, status=RequestStatus.APPROVED, end_date__gte=min(year_start, prev_first), start_date__lte=last
    ):
        requests[req.staff_id].append(req)
    points = dict(
        PointEntry.objects.filter(
            staff_id__in=ids, at__gte=clock.day_start(first), at__lt=clock.day_start(last + dt.timedelta(days=1))
        )
        .values("staff_id")
        .annotate(total=Sum("points"))
        .values_list("staff_id", "total")
    )
    conduct = _conduct(ids, first, last, policy.document)
    now = clock.now().astimezone(clock.local_tz()).replace(tzinfo=None)
    # a month still running is judged up to now: later shifts are pending, never absences
    as_of = now if last + dt.timedelta(days=1) >= now.date() else None
    out = []
    for member in staff:
        reqs = requests.get(member.pk, [])
        data = rules.StaffMonthInput(
            employee_no=member.employee_no,
            name=member.name,
            base_salary=member.base_salary,
            year=year,
            month=month,
            roster=roster.get(member.pk, {}),
            punches=punches.get(member.pk, []),
            requests=[_rule_request(req, day) for req, day in _approved_days(reqs, first, last)],
            leave_days_previous_month=_statement_leave_days(
                reqs, prev_roster.get(member.pk, {}), prev_first, first - dt.timedelta(days=1)
            ),
            personal_leave_days_before_month=_leave_total(
                reqs, year_start, first - dt.timedelta(days=1), personal_only=True
            )
            if month > 1
            else Decimal("0"),
            points=int(points.get(member.pk) or 0),
            conduct=conduct.get(member.pk, ()),
            hire_date=member.hire_date,
            leave_date=member.leave_date,
            as_of=as_of,
        )
        out.append(rules.evaluate_month(policy.document, data))
    return out


def statement_document(*, staff: list[Staff], year: int, month: int) -> dict[str, Any]:
    """The JSON form of the monthly statement (issue 3 §8)."""
    policy = policy_in_force(month_bounds(year, month)[0])
    items = statements(staff=staff, year=year, month=month, policy=policy)
    packets = packet_counts([s.pk for s in staff], year, month)
    empty = {"due": 0, "sent": 0, "doubled": 0}
    return {
        "month": f"{year:04d}-{month:02d}",
        "policy": policy.ref(),
        "staff": [
            {**st.as_dict(), "red_packets": packets.get(member.pk, empty)}
            for member, st in zip(staff, items, strict=True)
        ],
    }


def packet_counts(ids: list[int], year: int, month: int) -> dict[int, dict[str, int]]:
    """SPEC §3.6: each person's red packets of the month from the ledger — due, sent, doubled."""
    from django.db.models import Count

    from .models import RedPacketEntry

    first, last = month_bounds(year, month)
    out: dict[int, dict[str, int]] = defaultdict(lambda: {"due": 0, "sent": 0, "doubled": 0})
    for staff_id, kind, n in (
        RedPacketEntry.objects.filter(
            packet__staff_id__in=ids, packet__incident_date__gte=first, packet__incident_date__lte=last
        )
        .values_list("packet__staff_id", "kind")
        .annotate(n=Count("id"))
        .values_list("packet__staff_id", "kind", "n")
    ):
        if kind in ("due", "sent", "doubled"):
            out[staff_id][kind] = n
    return dict(out)


def visible_staff(
    *, actor: Actor, team: int | None = None, include_inactive: bool = False, month: tuple[int, int] | None = None
) -> list[Staff]:
    """Staff in scope: active ones, or with ``month`` everyone employed on a day of that month (a
    leaver of the month included, a hire of a later month not; R-WF-18)."""
    qs = Staff.objects.restrict(actor).select_related("team").order_by("team__name", "employee_no")
    if month is not None:
        qs = employed_in(qs, *month)
    elif not include_inactive:
        qs = qs.filter(active=True)
    if team:
        qs = qs.filter(team_id=team)
    return list(qs)


def employed_in(qs: Any, year: int, month: int) -> Any:
    """Staff employed on at least one day of the month: hired by its last day, not left before its
    first (an inactive person without a leaving date is not)."""
    first, last = month_bounds(year, month)
    return qs.filter(Q(hire_date__isnull=True) | Q(hire_date__lte=last)).filter(
        Q(leave_date__gte=first) | Q(leave_date__isnull=True, active=True)
    )


def staff_for_statement(*, actor: Actor, staff_id: int) -> Staff:
    """One's own statement always; others' only for the supervisor and the deputy (pay is private), 404 otherwise."""
    from kefu.org.permissions import has_capability
    from kefu.org.selectors import my_staff_id, staff_of

    # one's own: known from the request's scope without a query; an inactive record is asked for
    own_id = my_staff_id(actor)
    if own_id is None:
        record = staff_of(actor)
        if record is not None and record.pk == staff_id:
            return record
    elif own_id == staff_id:
        return Staff.objects.select_related("team").get(pk=staff_id)
    if not has_capability(actor, "pay.view"):
        from django.http import Http404

        raise Http404("not found")
    return access_object(actor, Staff.objects.select_related("team"), pk=staff_id)


def roster_grid(*, actor: Actor, team: int | None, year: int, month: int) -> dict[str, Any]:
    first, last = month_bounds(year, month)
    members = visible_staff(actor=actor, team=team, month=(year, month))
    entries = {
        (e.staff_id, e.date): e.shift_code
        for e in RosterEntry.objects.filter(staff_id__in=[m.pk for m in members], date__gte=first, date__lte=last)
    }
    days = list(rules.month_dates(year, month))
    rows = [
        {"staff": m, "cells": [(d, entries.get((m.pk, d)) if _employed(m, d) else None) for d in days]} for m in members
    ]
    holidays = rules.statutory_holidays(policy_in_force(first).document) & set(days)  # R-WF-20
    return {"days": days, "rows": rows, "holidays": holidays}


def _employed(member: Staff, day: dt.date) -> bool:
    return (member.hire_date is None or day >= member.hire_date) and (
        member.leave_date is None or day <= member.leave_date
    )


def roster_code(*, staff: Staff, date: dt.date) -> str | None:
    """One cell of the roster: a shift code, "" for a rest day, None when not scheduled."""
    return RosterEntry.objects.filter(staff=staff, date=date).values_list("shift_code", flat=True).first()


def approvals_inbox(*, actor: Actor) -> list[LeaveRequest]:
    return list(
        LeaveRequest.objects.restrict(actor)
        .filter(status=RequestStatus.SUBMITTED)
        .select_related("staff", "staff__team")
        .order_by("start_date", "id")
    )


def request_get(*, actor: Actor, request_id: int) -> LeaveRequest:
    return access_object(actor, LeaveRequest.objects.select_related("staff", "decided_by"), pk=request_id)


def my_requests(*, staff: Staff) -> list[LeaveRequest]:
    return list(LeaveRequest.objects.filter(staff=staff).select_related("decided_by").order_by("-start_date")[:50])


def red_packets_open(*, actor: Actor, due_before: dt.date | None = None) -> list[RedPacket]:
    qs = (
        RedPacket.objects.restrict(actor)
        .exclude(entries__kind="sent")
        .select_related("staff")
        .prefetch_related("entries")
    )
    if due_before:
        qs = qs.filter(due_date__lte=due_before)
    return list(qs.order_by("due_date", "staff__employee_no"))


def red_packet_get(*, actor: Actor, packet_id: int) -> RedPacket:
    return access_object(actor, RedPacket.objects.select_related("staff").prefetch_related("entries"), pk=packet_id)


def points_entries(*, actor: Actor, day: dt.date | None = None, limit: int = 200) -> list[PointEntry]:
    qs = PointEntry.objects.restrict(actor).select_related("staff", "staff__team", "recorded_by")
    if day:
        qs = qs.filter(at__gte=clock.day_start(day), at__lt=clock.day_start(day + dt.timedelta(days=1)))
    return list(qs.order_by("-at", "-id")[:limit])


def points_entry_get(*, actor: Actor, entry_id: int) -> PointEntry:
    return access_object(actor, PointEntry.objects.select_related("staff"), pk=entry_id)


def points_ranking(*, actor: Actor, year: int, month: int) -> list[dict[str, Any]]:
    first, last = month_bounds(year, month)
    rows = (
        PointEntry.objects.restrict(actor)
        .filter(at__gte=clock.day_start(first), at__lt=clock.day_start(last + dt.timedelta(days=1)))
        .values("staff_id", "staff__name", "staff__employee_no", "staff__team__name")
        .annotate(
            total=Sum("points"), plus=Sum("points", filter=Q(points__gt=0)), minus=Sum("points", filter=Q(points__lt=0))
        )
        .order_by("-total", "staff__employee_no")
    )
    rate = Decimal(str(policy_in_force(first).points.yuan_per_point))
    return [{**row, "worth": (Decimal(row["total"] or 0) * rate).quantize(Decimal("0.01"))} for row in rows]


def month_statements(staff: list[Staff]) -> Callable[[int, int], list[rules.Statement]]:
    """``(year, month) → statements(staff=staff, …)``, each month computed once (a publication reads
    the week's months and the catch-up window's)."""
    done: dict[tuple[int, int], list[rules.Statement]] = {}

    def of(year: int, month: int) -> list[rules.Statement]:
        if (year, month) not in done:
            done[(year, month)] = statements(staff=staff, year=year, month=month)
        return done[(year, month)]

    return of


def weekly_attendance(
    *, staff: list[Staff], monday: dt.date, months_of: Callable[[int, int], list[rules.Statement]] | None = None
) -> list[dict[str, Any]]:
    """R-WF-14: last week's (Mon–Sun) incidents per person, for the Monday publication."""
    months_of = months_of or month_statements(staff)
    sunday = monday + dt.timedelta(days=6)
    months = sorted({(monday.year, monday.month), (sunday.year, sunday.month)})
    by_staff: dict[str, list[rules.Incident]] = defaultdict(list)
    for year, month in months:
        for st in months_of(year, month):
            by_staff[st.employee_no] += [i for i in st.incidents if monday <= i.date <= sunday]
    return [{"staff": member, "incidents": by_staff.get(member.employee_no, [])} for member in staff]


def punches(*, actor: Actor) -> Any:
    """Raw punches the actor may read (``Punch.restrict_queryset``: the person, their team lead, the supervisors)."""
    return Punch.objects.restrict(actor).select_related("staff")


def red_packets_unsent_count(*, staff: Staff) -> int:
    return RedPacket.objects.filter(staff=staff).exclude(entries__kind="sent").count()


def requests_awaiting_count(*, actor: Actor) -> int:
    return LeaveRequest.objects.restrict(actor).filter(status=RequestStatus.SUBMITTED).count()


def team_exceptions(*, actor: Actor, team: int) -> list[tuple[Staff, rules.Incident]]:
    """Attendance incidents (late, early, missing punch, absence …) of a team this month so far,
    newest first, each with its person."""
    today = clock.today()
    members = visible_staff(actor=actor, team=team)
    if not members:
        return []
    found = [
        (member, incident)
        for member, st in zip(members, statements(staff=members, year=today.year, month=today.month), strict=True)
        for incident in st.incidents
    ]
    return sorted(found, key=lambda pair: (pair[1].date, pair[0].name), reverse=True)


def statement_comparison(*, staff: list[Staff], year: int, month: int, draft: dict[str, Any]) -> list[dict[str, Any]]:
    """Each person's statement of a month under the version in force then and under a draft
    policy (nothing stored): net pay, red packets and absence days side by side with the change."""
    current = statements(staff=staff, year=year, month=month)
    in_force = policy_in_force(month_bounds(year, month)[0])
    proposed = statements(
        staff=staff, year=year, month=month, policy=Policy(in_force.name, 0, in_force.effective_from, draft)
    )
    rows = []
    for member, now, then in zip(staff, current, proposed, strict=True):
        rows.append(
            {
                "staff": member,
                "net": now.net,
                "draft_net": then.net,
                "difference": then.net - now.net,
                "red_packets": now.red_packets_total,
                "draft_red_packets": then.red_packets_total,
                "absence_days": now.absence_days,
                "draft_absence_days": then.absence_days,
            }
        )
    return rows


def inspections_clear(*, actor: Actor, day: dt.date) -> dict[str, list[Any]]:
    """R-WF-17: the day's inspections that found nothing, by team name (for the daily summary)."""
    from .models import TeamInspection

    out: dict[str, list[Any]] = defaultdict(list)
    for inspection in (
        TeamInspection.objects.restrict(actor)
        .filter(at__gte=clock.day_start(day), at__lt=clock.day_start(day + dt.timedelta(days=1)))
        .select_related("team")
        .order_by("at")
    ):
        out[inspection.team.name].append(inspection)
    return out
