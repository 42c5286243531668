"""DingTalk (issue 21 §3; FORMATS §1c): the organisation's people, punch results and leave, read by
DingTalk's server API and landed through the attendance import the 每日统计 files use.

Plain HTTP (ADR 0026: the official SDK covers only the v1.0 API, not these calls). An access token is
asked once per run (``/gettoken``, valid 7,200 s) and asked again when DingTalk says it expired.
Every answer carries ``errcode``: 0 is success; 40014/42001 a bad or expired token (asked again once),
88 and 40089 a refusal of the app's keys or rights, 90018 and its family the rate limit, -1 busy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext_lazy as _

from kefu.imports.dingtalk import DayRow, ParsedAttendance, RawPunch

from .base import Adapter, Context, Landed, register
from .transport import (
    MALFORMED,
    AuthExpired,
    RateLimited,
    Refused,
    Transient,
    json_of,
    malformed,
    malformed_answer,
    send,
)

CHINA = ZoneInfo("Asia/Shanghai")
GATEWAY = "https://oapi.dingtalk.com"
RATE_LIMITED = {90002, 90005, 90006, 90018, 90019}
BAD_TOKEN = {40014, 42001}
USERS_PER_CALL = 50  # /attendance/list takes at most 50 people…
PUNCHES_PER_PAGE = 50  # …and answers 50 records a page
LEAVE_USERS_PER_CALL = 100
LEAVE_PER_PAGE = 20


def _refusal(body: dict[str, Any]) -> Exception:
    try:
        code = int(body.get("errcode") or 0)
    except MALFORMED:
        return Transient(malformed_answer("errcode"), code="?")
    words = f"DingTalk {code}: {body.get('errmsg', '')}" + (f" ({body['sub_msg']})" if body.get("sub_msg") else "")
    if code in RATE_LIMITED:
        return RateLimited(words[:400], code=str(code), retry_after=1.0)
    if code == -1:
        return Transient(words[:400], code=str(code))
    if code in BAD_TOKEN or code in {88, 40089, 40001}:
        return AuthExpired(words[:400], code=str(code))
    return Refused(words[:400], code=str(code))


def _token(ctx: Context, fresh: bool = False) -> str:
    if not fresh and ctx.state.get("token"):
        return str(ctx.state["token"])

    def once() -> str:
        body = json_of(
            send(
                ctx.http,
                "GET",
                ctx.connector.gateway.rstrip("/") + "/gettoken",
                params={"appkey": ctx.connector.app_key, "appsecret": str(ctx.secrets.get("app_secret", ""))},
            )
        )
        if body.get("errcode"):
            raise _refusal(body)
        return str(body.get("access_token") or "")

    ctx.state["token"] = ctx.backoff.run(once)
    return str(ctx.state["token"])


def call(ctx: Context, path: str, payload: dict[str, Any]) -> dict[str, Any]:
    """One POST with the run's access token, asked again once when DingTalk says it expired."""
    for attempt in range(2):
        token = _token(ctx, fresh=attempt > 0)

        def once(token: str = token) -> dict[str, Any]:
            body = json_of(
                send(
                    ctx.http,
                    "POST",
                    ctx.connector.gateway.rstrip("/") + path,
                    params={"access_token": token},
                    json=payload,
                )
            )
            if body.get("errcode"):
                raise _refusal(body)
            return body

        try:
            return ctx.backoff.run(once)
        except AuthExpired as exc:
            if exc.code not in {str(c) for c in BAD_TOKEN} or attempt:
                raise
    raise AssertionError("unreachable")


def _offset_pages(ask: Callable[[int], tuple[list[Any], bool]], step: int) -> Iterator[list[dict[str, Any]]]:
    """DingTalk's offset paging: ``ask(offset)`` → (the page's rows, whether more follow); until a page
    says none follow or comes empty."""
    offset = 0
    while True:
        rows, more = ask(offset)
        found = [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []
        if found:
            yield found
        if not more or not found:
            return
        offset += step


def _open(ctx: Context) -> None:
    _token(ctx)


def _ms(at: dt.datetime) -> int:
    return int(at.timestamp() * 1000)


def _local(ms: Any) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(ms) / 1000, tz=CHINA)


def _user_ids(ctx: Context) -> list[str]:
    from kefu.org.models import Staff

    return sorted(
        Staff.objects.filter(active=True).exclude(dingtalk_user_id="").values_list("dingtalk_user_id", flat=True)
    )


def _source(ctx: Context, stream: str) -> str:
    return f"dingtalk:{ctx.connector.name}:{stream}"


class Users:
    """The organisation's people, department by department (from the root, 1), matched to staff."""

    name = "users"
    label = _("People")
    window = dt.timedelta(days=3650)  # not a window of time: the whole list each run
    overlap = dt.timedelta(0)
    first_days = 1

    def pages(self, ctx: Context, start: dt.datetime, end: dt.datetime) -> Iterator[list[dict[str, Any]]]:
        departments, seen = [1], set()
        while departments:
            dept = departments.pop()
            if dept in seen:
                continue
            seen.add(dept)
            subs = call(ctx, "/topapi/v2/department/listsub", {"dept_id": dept}).get("result") or []
            departments += [int(d["dept_id"]) for d in subs if isinstance(d, dict) and d.get("dept_id")]
            cursor: int | None = 0
            while cursor is not None:
                body = call(ctx, "/topapi/v2/user/list", {"dept_id": dept, "cursor": cursor, "size": 100})
                result = body.get("result") or {}
                people = [u for u in result.get("list") or [] if isinstance(u, dict)]
                if people:
                    yield people
                cursor = (
                    int(result["next_cursor"])
                    if result.get("has_more") and result.get("next_cursor") is not None
                    else None
                )

    def land(self, ctx: Context, records: list[dict[str, Any]]) -> Landed:
        from kefu.org.services import staff_link_dingtalk

        unique = list({str(r.get("userid")): r for r in records}.values())  # a person in two departments
        out = staff_link_dingtalk(actor=ctx.actor, users=unique)
        return Landed(0, out["updated"], out["unchanged"] + len(records) - len(unique), out["failed"])


class Punches:
    """Punch results (/attendance/list) by work date, seven days a call, fifty people a call."""

    name = "punches"
    label = _("Punches")
    window = dt.timedelta(days=7)  # DingTalk's most per call
    overlap = dt.timedelta(days=2)  # a 补卡 approved a day or two later changes a past day's result
    first_days = 7

    @staticmethod
    def align(start: dt.datetime) -> dt.datetime:
        """Work dates are days: windows start at midnight, China time."""
        return start.astimezone(CHINA).replace(hour=0, minute=0, second=0, microsecond=0)

    def pages(self, ctx: Context, start: dt.datetime, end: dt.datetime) -> Iterator[list[dict[str, Any]]]:
        users = _user_ids(ctx)
        low = start.astimezone(CHINA)
        end = end - dt.timedelta(seconds=1)  # the next window's first day is its own
        for n in range(0, len(users), USERS_PER_CALL):

            def ask(offset: int, group: list[str] = users[n : n + USERS_PER_CALL]) -> tuple[list[Any], bool]:
                body = call(
                    ctx,
                    "/attendance/list",
                    {
                        "workDateFrom": low.strftime("%Y-%m-%d %H:%M:%S"),
                        "workDateTo": end.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S"),
                        "userIdList": group,
                        "offset": offset,
                        "limit": PUNCHES_PER_PAGE,
                    },
                )
                return body.get("recordresult") or [], bool(body.get("hasMore"))

            yield from _offset_pages(ask, PUNCHES_PER_PAGE)

    def land(self, ctx: Context, records: list[dict[str, Any]]) -> Landed:
        return _land_punches(ctx, records, "punches")


def _land_punches(ctx: Context, records: list[dict[str, Any]], stream: str) -> Landed:
    """Punch results or raw punch records as the 原始记录 import's punches: a punch's real time, its
    kind, and a make-up (补卡) when an approval made it."""
    from kefu.workforce.services import attendance_push

    parsed = ParsedAttendance(fmt="dingtalk_api")
    skipped = 0
    for number, r in enumerate(records, start=1):
        if not r.get("userCheckTime") or r.get("timeResult") == "NotSigned":
            skipped += 1  # 缺卡: no punch to record (the statement finds the gap itself)
            continue
        result = RESULT_WORDS.get(str(r.get("timeResult")), str(r.get("timeResult") or ""))
        if r.get("sourceType") == "APPROVE":
            result = "补卡审批通过"
        try:
            day, at = _local(r.get("workDate") or r["userCheckTime"]).date(), _local(r["userCheckTime"])
        except MALFORMED as exc:  # one record DingTalk sent wrong: one failed record
            parsed.errors.append(_row_error(number, malformed(exc)))
            continue
        parsed.punches.append(
            RawPunch(
                row=number,
                name="",
                user_id=str(r.get("userId") or ""),
                employee_no="",
                date=day,
                at=at.replace(tzinfo=None),
                kind={"OnDuty": "on", "OffDuty": "off"}.get(str(r.get("checkType")), "unknown"),
                result=result,
            )
        )
    return _landed(attendance_push(actor=ctx.actor, parsed=parsed, source=_source(ctx, stream)), records, skipped)


RESULT_WORDS = {"Normal": "正常", "Early": "早退", "Late": "迟到", "SeriousLate": "严重迟到", "Absenteeism": "旷工迟到"}


class Records(Punches):
    """Every punch as made (/attendance/listRecord), beside the results: a punch the schedule did not
    ask for (a second punch, a punch on a rest day) is kept too, as the 原始记录 file keeps it. The
    same punch from both lands once."""

    name = "records"
    label = _("Punch records")

    def pages(self, ctx: Context, start: dt.datetime, end: dt.datetime) -> Iterator[list[dict[str, Any]]]:
        users = _user_ids(ctx)
        low, high = start.astimezone(CHINA), (end - dt.timedelta(seconds=1)).astimezone(CHINA)
        for n in range(0, len(users), USERS_PER_CALL):
            body = call(
                ctx,
                "/attendance/listRecord",
                {
                    "userIds": users[n : n + USERS_PER_CALL],
                    "checkDateFrom": low.strftime("%Y-%m-%d %H:%M:%S"),
                    "checkDateTo": high.strftime("%Y-%m-%d %H:%M:%S"),
                    "isI18n": False,
                },
            )
            records = [r for r in body.get("recordresult") or [] if isinstance(r, dict)]
            if records:
                yield records

    def land(self, ctx: Context, records: list[dict[str, Any]]) -> Landed:
        return _land_punches(ctx, records, "records")


class Leave:
    """Approved leave (/topapi/attendance/getleavestatus) with the leave types' names."""

    name = "leave"
    label = _("Leave")
    window = dt.timedelta(days=30)
    overlap = dt.timedelta(days=2)
    first_days = 31
    ahead = dt.timedelta(days=45)  # leave approved for the coming weeks is read as well (the roster needs it)

    def pages(self, ctx: Context, start: dt.datetime, end: dt.datetime) -> Iterator[list[dict[str, Any]]]:
        users = _user_ids(ctx)
        for n in range(0, len(users), LEAVE_USERS_PER_CALL):

            def ask(offset: int, group: list[str] = users[n : n + LEAVE_USERS_PER_CALL]) -> tuple[list[Any], bool]:
                body = call(
                    ctx,
                    "/topapi/attendance/getleavestatus",
                    {
                        "userid_list": ",".join(group),
                        "start_time": _ms(start),
                        "end_time": _ms(end),
                        "offset": offset,
                        "size": LEAVE_PER_PAGE,
                    },
                )
                result = body.get("result") or {}
                return result.get("leave_status") or [], bool(result.get("has_more"))

            yield from _offset_pages(ask, LEAVE_PER_PAGE)

    def land(self, ctx: Context, records: list[dict[str, Any]]) -> Landed:
        from kefu.workforce.services import attendance_push

        names = ctx.state.get("leave_names")
        if names is None:
            admin = str(ctx.secrets.get("op_userid") or "")
            body = call(ctx, "/topapi/attendance/vacation/type/list", {"op_userid": admin, "vacation_source": "all"})
            names = {
                str(t.get("leave_code")): str(t.get("leave_name"))
                for t in body.get("result") or []
                if isinstance(t, dict)
            }
            ctx.state["leave_names"] = names
        parsed = ParsedAttendance(fmt="dingtalk_api")
        for number, r in enumerate(records, start=1):
            try:
                start, end = _local(r.get("start_time") or 0), _local(r.get("end_time") or 0)
                percent = int(r.get("duration_percent") or 0)
                if end < start or end - start > dt.timedelta(days=366):
                    raise ValueError("end_time")
            except MALFORMED as exc:
                parsed.errors.append(_row_error(number, malformed(exc)))
                continue
            word = names.get(str(r.get("leave_code")), "请假")
            unit = str(r.get("duration_unit") or "")
            # R-WF-22: half a day in DingTalk (50 % of a day, or 4 hours) is a half day here
            half = (unit == "percent_day" and percent <= 50) or (unit == "percent_hour" and percent <= 400)
            day = start.date()
            while day <= end.date():
                parsed.days.append(
                    DayRow(
                        row=number,
                        name="",
                        user_id=str(r.get("userid") or ""),
                        employee_no="",
                        date=day,
                        shift=None,
                        leave_kind=word,
                        approval=f"钉钉{word} {start:%m-%d %H:%M}–{end:%m-%d %H:%M}",
                        leave_days=Decimal("0.5") if half else Decimal("1"),
                        leave_half=("first" if start.hour < 12 else "second") if half else "",
                    )
                )
                day += dt.timedelta(days=1)
        return _landed(attendance_push(actor=ctx.actor, parsed=parsed, source=_source(ctx, "leave")), records, 0)


class Trips:
    """Business trips and outings approved in DingTalk (R-WF-21): the instances of the organisation's
    trip approval form (its process code, given when the connector is added), created in the window;
    an agreed, completed one covers each of its days (the part of a day it names, when it names
    one). Without a process code the stream reads nothing."""

    name = "trips"
    label = _("Business trips")
    window = dt.timedelta(days=30)
    overlap = dt.timedelta(days=2)
    first_days = 31

    def pages(self, ctx: Context, start: dt.datetime, end: dt.datetime) -> Iterator[list[dict[str, Any]]]:
        code = str(ctx.secrets.get("trip_process_code") or "")
        if not code:
            return
        cursor: int | None = 0
        while cursor is not None:
            body = call(
                ctx,
                "/topapi/processinstance/listids",
                {"process_code": code, "start_time": _ms(start), "end_time": _ms(end), "size": 10, "cursor": cursor},
            )
            result = body.get("result") or {}
            ids = [str(i) for i in result.get("list") or []]
            instances = []
            for pid in ids:
                found = call(ctx, "/topapi/processinstance/get", {"process_instance_id": pid}).get("process_instance")
                if isinstance(found, dict):
                    instances.append({**found, "process_instance_id": pid})
            if instances:
                yield instances
            cursor = int(result["next_cursor"]) if result.get("next_cursor") is not None else None

    def land(self, ctx: Context, records: list[dict[str, Any]]) -> Landed:
        from kefu.workforce.services import attendance_push

        parsed = ParsedAttendance(fmt="dingtalk_api")
        skipped = 0
        for number, r in enumerate(records, start=1):
            if r.get("status") != "COMPLETED" or r.get("result") != "agree":
                skipped += 1  # still running, refused or withdrawn: nothing to record
                continue
            components = r.get("form_component_values") or []
            values = {
                str(v.get("name")): str(v.get("value") or "")
                for v in (components if isinstance(components, list) else [])
                if isinstance(v, dict)
            }
            try:
                begin = dt.datetime.strptime(values.get("开始时间", "")[:16], "%Y-%m-%d %H:%M")
                finish = dt.datetime.strptime(values.get("结束时间", "")[:16], "%Y-%m-%d %H:%M")
                if finish < begin or finish - begin > dt.timedelta(days=366):
                    raise ValueError("结束时间")
            except ValueError:
                parsed.errors.append(_row_error(number, _("The approval has no readable start and end time.")))
                continue
            day = begin.date()
            while day <= finish.date():
                span = None
                if begin.date() == finish.date():
                    span = (begin.time(), finish.time())  # R-WF-21: the part of the day it covers
                parsed.days.append(
                    DayRow(
                        row=number,
                        name="",
                        user_id=str(r.get("originator_userid") or ""),
                        employee_no="",
                        date=day,
                        shift=None,
                        approval=f"钉钉出差 {begin:%m-%d %H:%M}–{finish:%m-%d %H:%M} {values.get('出差事由', '')}"[
                            :300
                        ],
                        trip=True,
                        trip_span=span,
                    )
                )
                day += dt.timedelta(days=1)
        return _landed(attendance_push(actor=ctx.actor, parsed=parsed, source=_source(ctx, "trips")), records, skipped)


def _row_error(row: int, reason: Any) -> Any:
    from kefu.imports.tabular import RowError

    return RowError(row, str(reason))


def _landed(summary: Any, records: list[dict[str, Any]], skipped: int) -> Landed:
    failures = []
    for f in summary.failed:
        row = int(f.get("row") or 0)
        record = records[row - 1] if 0 < row <= len(records) else {}
        ref = str(record.get("userId") or record.get("userid") or record.get("process_instance_id") or f"#{row}")
        failures.append((ref, str(f.get("reason", ""))))
    return Landed(summary.created, summary.updated, summary.unchanged + skipped, failures)


ADAPTER = Adapter(
    platform="dingtalk",
    streams=(Users(), Punches(), Records(), Leave(), Trips()),
    default_gateway=GATEWAY,
    needs_shop=False,
    open=_open,
)
register(ADAPTER)
