"""Issue 21 §3: the DingTalk connector against its contract fake, over HTTP.

Worked case (FROZEN_AT = Thursday 2026-11-26 10:00 China time). DingTalk knows three people:
u1 张三 (工号 K001), u2 李四 (no 工号: matched by the one staff member of that name) and u3 王五
(not in Kefu: one failed record). Punch results of the week:
- u1: Tue 11-24 09:02 on, 18:05 off; Wed 11-25 09:20 on, "Late";
- u2: Wed 11-25 on "NotSigned" (缺卡: no punch recorded), and a 补卡 approved for 09:00 that day
  (sourceType APPROVE → a make-up punch);
Leave: u2 事假 all of Mon 11-23; u1 病假 the morning of Thu 11-26 (50 % of a day → a half day).
Trips (the trip form's approvals): u2 away Thu 11-19 09:00 – Fri 11-20 18:00 (two whole days), u1
at a customer's Wed 11-25 14:00–18:00 (that part of the day, R-WF-21), and a refused one (nothing).
The first run links u1 and u2, records 4 punches, 2 approved leave days and 3 trip days; a second
run changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from kefu.connectors import services
from kefu.connectors.models import Connector, Outcome, SyncRun
from kefu.connectors.sandbox.dingtalk import CHINA, DingTalkFake
from kefu.connectors.sandbox.http import served
from kefu.connectors.transport import Backoff
from kefu.core.events import SystemActor
from kefu.org.models import Staff
from kefu.workforce.models import LeaveRequest, Punch

from .conftest import World
from .factories import StaffFactory

pytestmark = pytest.mark.django_db
CLI = SystemActor("cli")


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=CHINA)


@pytest.fixture
def ding(world: World) -> Iterator[tuple[DingTalkFake, str]]:
    fake = DingTalkFake()
    fake.add_user("u1", "张三", "K001")
    fake.add_user("u2", "李四")
    fake.add_user("u3", "王五", "K999")
    fake.punch("u1", at(24, 9, 2))
    fake.punch("u1", at(24, 18, 5), check="OffDuty")
    fake.punch("u1", at(25, 9, 20), result="Late")
    fake.punch("u2", at(25, 9, 0), result="NotSigned")
    fake.punch("u2", at(25, 9, 0), source="APPROVE")
    fake.extra_punch("u1", at(22, 10, 15))  # Sunday, a rest day: only the raw records list it
    fake.add_leave("u2", at(23, 9), at(23, 18), code="lc-personal")
    fake.add_leave("u1", at(26, 9), at(26, 12), code="lc-sick", percent=50)
    fake.add_trip("u2", at(19, 9), at(20, 18))  # two whole days away
    fake.add_trip("u1", at(25, 14), at(25, 18))  # an afternoon at a customer's
    fake.add_trip("u1", at(23, 9), at(23, 18), result="refuse")  # refused: nothing
    StaffFactory(employee_no="K001", name="张三", team=world.team_a)
    StaffFactory(employee_no="K002", name="李四", team=world.team_a)
    with served(fake) as url:
        yield fake, url


def _connector(url: str, secret: str = "ding-sandbox-secret") -> Connector:
    return services.connector_add(
        actor=CLI,
        platform="dingtalk",
        name="钉钉",
        app_key="ding-sandbox",
        app_secret=secret,
        gateway=url,
        admin_user="u1",
        trip_process_code="PROC-TRIP",
    )


def _sync(connector: Connector, **kw: Any) -> dict[str, SyncRun]:
    waits: list[float] = []
    return {
        r.stream: r for r in services.connector_sync(connector=connector, backoff=Backoff(sleep=waits.append), **kw)
    }


def test_people_punches_and_leave(ding: tuple[DingTalkFake, str]) -> None:
    fake, url = ding
    connector = _connector(url)
    assert connector.shop is None
    runs = _sync(connector)
    users, punches, leave = runs["users"], runs["punches"], runs["leave"]
    assert (users.updated, users.failed) == (2, 1) and users.failures[0]["record"] == "u3"
    assert dict(Staff.objects.filter(dingtalk_user_id__in=["u1", "u2"]).values_list("name", "dingtalk_user_id")) == {
        "张三": "u1",
        "李四": "u2",
    }
    assert (punches.outcome, punches.fetched, punches.created, punches.unchanged, punches.failed) == (
        Outcome.OK,
        5,
        4,
        1,
        0,
    ), punches.error
    zhang, li = Staff.objects.get(name="张三"), Staff.objects.get(name="李四")
    records = runs["records"]
    # the raw records repeat the four punches (unchanged) and add Sunday's
    assert (records.outcome, records.fetched, records.created, records.unchanged) == (Outcome.OK, 5, 1, 4)
    assert [(p.at, p.kind, p.source) for p in Punch.objects.filter(staff=zhang).order_by("at")] == [
        (at(22, 10, 15), "on", "app"),
        (at(24, 9, 2), "on", "app"),
        (at(24, 18, 5), "off", "app"),
        (at(25, 9, 20), "on", "app"),
    ]
    makeup = Punch.objects.get(staff=li)
    assert (makeup.at, makeup.kind, makeup.source) == (at(25, 9), "on", "makeup")
    assert leave.outcome == Outcome.OK and leave.created == 2
    trips = runs["trips"]
    assert (trips.outcome, trips.fetched, trips.created, trips.unchanged) == (Outcome.OK, 3, 3, 1)
    away = LeaveRequest.objects.filter(staff=li, kind="trip").order_by("start_date")
    assert [(t.start_date, t.from_time, t.status) for t in away] == [
        (dt.date(2026, 11, 19), None, "approved"),
        (dt.date(2026, 11, 20), None, "approved"),
    ]
    afternoon = LeaveRequest.objects.get(staff=zhang, kind="trip")
    assert (afternoon.start_date, afternoon.from_time, afternoon.to_time) == (
        dt.date(2026, 11, 25),
        dt.time(14),
        dt.time(18),
    )
    personal = LeaveRequest.objects.get(staff=li, kind="personal")
    assert (personal.kind, personal.start_date, personal.half_day, personal.status, personal.source) == (
        "personal",
        dt.date(2026, 11, 23),
        False,
        "approved",
        "dingtalk",
    )
    sick = LeaveRequest.objects.get(staff=zhang, kind="sick")
    assert (sick.kind, sick.start_date, sick.half_day, sick.half) == ("sick", dt.date(2026, 11, 26), True, "first")
    # the token was asked once for the whole run
    assert sum(1 for path, _p in fake.calls if path == "/gettoken") == 1

    again = _sync(connector)
    assert (again["punches"].created, again["leave"].created, again["users"].updated) == (0, 0, 0)
    assert Punch.objects.filter(staff__in=[zhang, li]).count() == 5
    assert LeaveRequest.objects.filter(staff__in=[zhang, li]).count() == 5 and again["trips"].created == 0


def test_an_expired_token_is_asked_again_and_a_rate_limit_waited(ding: tuple[DingTalkFake, str]) -> None:
    fake, url = ding
    fake.fail("/attendance/list", "expired")
    fake.fail("/topapi/attendance/getleavestatus", "rate_limit")
    fake.fail("/topapi/v2/user/list", "busy")
    runs = _sync(_connector(url))
    assert all(r.outcome in {Outcome.OK, Outcome.PARTIAL} for r in runs.values()), {k: r.error for k, r in runs.items()}
    assert runs["punches"].created == 4 and runs["leave"].retries == 1 and runs["users"].retries == 1
    assert sum(1 for path, _p in fake.calls if path == "/gettoken") == 2


def test_wrong_keys_fail_the_connector(ding: tuple[DingTalkFake, str]) -> None:
    _fake, url = ding
    connector = _connector(url, secret="wrong")
    assert _sync(connector) == {}
    connector.refresh_from_db()
    assert connector.failing_since is not None and "40089" in connector.last_error


def test_secrets_never_reach_the_logs(ding: tuple[DingTalkFake, str], caplog: pytest.LogCaptureFixture) -> None:
    import logging

    _fake, url = ding
    caplog.set_level(logging.INFO)
    _sync(_connector(url))
    assert "ding-sandbox-secret" not in caplog.text and "access_token=" not in caplog.text


def test_a_malformed_punch_is_one_failed_record(ding: tuple[DingTalkFake, str]) -> None:
    fake, url = ding
    fake.records[0]["userCheckTime"] = "soon"
    runs = _sync(_connector(url))
    assert (runs["punches"].outcome, runs["punches"].created, runs["punches"].failed) == (Outcome.PARTIAL, 3, 1)


def test_a_malformed_token_answer_fails_the_connector_in_words(ding: tuple[DingTalkFake, str]) -> None:
    fake, url = ding
    original = fake.respond

    def broken(method: str, path: str, query: Any, body: bytes, headers: Any) -> tuple[int, Any]:
        if path == "/gettoken":
            return 200, {"errcode": "oops", "errmsg": "x"}
        return original(method, path, query, body, headers)

    fake.respond = broken  # type: ignore[method-assign]
    connector = _connector(url)
    assert _sync(connector) == {}
    connector.refresh_from_db()
    assert connector.last_success_at is None and connector.failing_since is not None
    assert "格式有误" in connector.last_error, connector.last_error
