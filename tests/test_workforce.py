"""Workforce services: DingTalk import, requests, make-ups, red packets, points, statements, publication."""

from __future__ import annotations

import datetime as dt
import json
import threading
import urllib.parse
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.utils import translation

from kefu.core import clock
from kefu.core.errors import ApplicationError
from kefu.core.events import SystemActor
from kefu.core.models import Event
from kefu.core.outbox import outbox_drain
from kefu.demo.generate import dingtalk_daily_workbook
from kefu.imports.dingtalk import parse_attendance, parse_punch_time, parse_shift, person_name
from kefu.org.models import Staff
from kefu.workforce import services
from kefu.workforce.models import LeaveRequest, PointEntry, Punch, RedPacket, RosterEntry
from kefu.workforce.publication import publication_due, signed_url, weekly_publish
from kefu.workforce.selectors import statement_document, statements

from .conftest import PASSWORD, World

pytestmark = pytest.mark.django_db
SYSTEM = SystemActor("test")
BASE = ["客服考勤组", "客服部"]


def _row(
    name: str,
    user_id: str,
    day: str,
    shift: str,
    on: str,
    on_result: str,
    off: str,
    off_result: str,
    approval: str = "",
    employee_no: str = "",
) -> list[object]:
    return [
        name,
        *BASE,
        employee_no,
        "客服",
        user_id,
        day,
        shift,
        on,
        on_result,
        off,
        off_result,
        approval,
        1,
        0,
        540,
        0,
        0,
        "",
        "",
        "",
        0,
    ]


def _people(world: World) -> tuple[Staff, Staff]:
    a = Staff.objects.get(user=world.agent_a)
    b = Staff.objects.get(user=world.agent_b)
    Staff.objects.filter(pk=a.pk).update(name="张敏", dingtalk_user_id="ding-a", base_salary=Decimal("3100"))
    Staff.objects.filter(pk=b.pk).update(name="郭强", dingtalk_user_id="", base_salary=Decimal("3100"))
    a.refresh_from_db()
    b.refresh_from_db()
    return a, b


def _workbook() -> bytes:
    rows = [
        # 张敏, matched by UserId: on time; 12 min late; certified make-up; missing off-duty; leave; night shift
        _row("张敏", "ding-a", "26-10-05 星期一", "白班 08:30-17:30", "08:20", "正常", "17:40", "正常"),
        _row("张敏", "ding-a", "26-10-06 星期二", "白班 08:30-17:30", "08:42", "迟到", "17:31", "正常"),
        _row(
            "张敏",
            "ding-a",
            "26-10-07 星期三",
            "白班 08:30-17:30",
            "08:30",
            "补卡审批通过",
            "17:30",
            "正常",
            "补卡 10-07 08:30 审批人：周主管",
        ),
        _row("张敏", "ding-a", "26-10-08 星期四", "白班 08:30-17:30", "08:25", "正常", "", "缺卡"),
        _row(
            "张敏",
            "ding-a",
            "26-10-09 星期五",
            "白班 08:30-17:30",
            "",
            "事假",
            "",
            "事假",
            "事假 10-09 08:30 到 10-09 17:30 1天",
        ),
        _row("张敏", "ding-a", "26-10-10 星期六", "休息", "", "休息", "", "休息"),
        _row("张敏", "ding-a", "26-10-12 星期一", "晚班 17:00-次日01:00", "16:55", "正常", "次日 00:49", "早退"),
        # 郭强（离职）, matched by name: no punch at all on a scheduled day
        _row("郭强（离职）", "", "26-10-05 星期一", "白班 08:30-17:30", "", "旷工", "", "旷工"),
        # an unknown person and an unreadable date
        _row("陌生人", "ding-x", "26-10-05 星期一", "白班 08:30-17:30", "08:30", "正常", "17:30", "正常"),
        _row("张敏", "ding-a", "十月五日", "白班 08:30-17:30", "08:30", "正常", "17:30", "正常"),
    ]
    return dingtalk_daily_workbook([], 2026, 10, rows=rows)


def test_dingtalk_cell_formats() -> None:
    day = dt.date(2026, 10, 12)
    assert parse_punch_time(day, "08:31") == dt.datetime(2026, 10, 12, 8, 31)
    assert parse_punch_time(day, "次日 00:58") == dt.datetime(2026, 10, 13, 0, 58)
    assert parse_punch_time(day, "昨日 23:40") == dt.datetime(2026, 10, 11, 23, 40)
    assert parse_punch_time(day, "") is None
    assert parse_shift("晚班 17:00-次日01:00") == "晚班" and parse_shift("休息") == "" and parse_shift("未排班") is None
    assert person_name("郭强（离职）") == "郭强"
    from kefu.imports.dingtalk import approval_span

    assert approval_span("外出 09-03 14:00 到 09-03 16:00 2小时") == (dt.time(14), dt.time(16))
    assert approval_span("出差 09-03 08:30 到 09-05 17:30 3天") is None  # several days: whole days
    assert approval_span("出差 1天") is None


def test_daily_statistics_workbook_parses_with_its_two_header_rows() -> None:
    parsed = parse_attendance(_workbook())
    assert parsed.fmt == "dingtalk_daily" and parsed.period == (dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    assert [e.row for e in parsed.errors] == [14]  # title, generated-at, 2 header rows → data from row 5
    leave = next(d for d in parsed.days if d.date == dt.date(2026, 10, 9))
    assert leave.leave_kind == "事假" and leave.leave_personal
    night = next(d for d in parsed.days if d.date == dt.date(2026, 10, 12))
    assert night.punches[-1][0] == dt.datetime(2026, 10, 13, 0, 49)


def test_import_matches_people_reports_bad_rows_and_is_idempotent(world: World) -> None:
    a, b = _people(world)
    Staff.objects.filter(user=world.supervisor).update(name="周主管")
    first = services.attendance_import(actor=SYSTEM, data=_workbook(), file_name="每日统计.xlsx")
    failed = first.as_dict()["failed"]
    assert [f["row"] for f in failed] == [13, 14]
    assert "陌生人" in failed[0]["reason"] and "日期" in failed[1]["reason"]
    assert ["姓名", "陌生人"] in failed[0]["cells"]  # refused while matching people, after parsing
    assert first.created == 8
    assert RosterEntry.objects.filter(staff=a).count() == 7 and RosterEntry.objects.filter(staff=b).count() == 1
    assert RosterEntry.objects.get(staff=a, date=dt.date(2026, 10, 10)).shift_code == ""  # 休息
    makeup = Punch.objects.get(staff=a, source="makeup")
    # R-WF-24: certified by the approver DingTalk names; it carries the scheduled 08:30, not the real time
    assert makeup.certified_by is not None and makeup.certified_by.name == "周主管" and makeup.scheduled_only
    assert LeaveRequest.objects.get(staff=a, source="dingtalk").status == "approved"
    counts = (Punch.objects.count(), RosterEntry.objects.count(), LeaveRequest.objects.count())
    second = services.attendance_import(actor=SYSTEM, data=_workbook(), file_name="每日统计.xlsx")
    assert (second.created, second.unchanged) == (0, 8)
    assert (Punch.objects.count(), RosterEntry.objects.count(), LeaveRequest.objects.count()) == counts


def test_statement_of_the_imported_month_matches_the_hand_computation(world: World) -> None:
    a, b = _people(world)
    services.attendance_import(actor=SYSTEM, data=_workbook(), file_name="每日统计.xlsx")
    doc = statement_document(staff=[a, b], year=2026, month=10)
    assert doc["month"] == "2026-10"
    assert doc["policy"] == {"name": "seed-handbook", "title": "客服部管理制度(种子手册)", "version": 1}
    za, gq = doc["staff"]
    # 张敏: daily wage 3100/31 = 100.00
    assert za["daily_wage"] == "100.00"
    kinds = [(i["date"], i["kind"], i["minutes"], i["tier"], i["red_packet"]) for i in za["incidents"]]
    assert kinds == [
        ("2026-10-06", "late", 12, 2, "20.00"),  # 08:42 → 12 minutes, tier 11–20
        ("2026-10-08", "missing", 0, None, "0.00"),  # no off-duty punch → 0.5 day absence
        ("2026-10-12", "early", 11, 2, "20.00"),  # night shift ends 01:00, left 00:49
    ]
    assert za["makeups"] == 1 and za["makeups_free"] == 1  # the certified make-up counts as on time
    assert za["absence_days"] == "0.5" and za["leave_days"] == "1"
    # R-WF-8 (clarified): DingTalk's 休息 on 10-10 is a rest day taken → 1 of 2 unused, paid one daily wage
    assert za["rest_days_entitled"] == 2 and za["rest_days_taken"] == "1" and za["rest_days_unused"] == "1"
    lines = {ln["code"]: ln["amount"] for ln in za["lines"]}
    assert lines == {
        "base_salary": "3100.00",
        "leave_deduction": "-100.00",
        "absence_deduction": "-300.00",
        "unused_rest_pay": "100.00",
    }
    assert za["net"] == "2800.00" and za["red_packets_total"] == "40.00" and za["full_attendance"] is False
    # 郭强: one scheduled day, no punch → 1 day of absence → 5 daily wages (R-WF-7, R-WF-12)
    assert [i["kind"] for i in gq["incidents"]] == ["absent"] and gq["absence_days"] == "1"
    assert {ln["code"]: ln["amount"] for ln in gq["lines"]}["absence_deduction"] == "-500.00"


def test_generated_team_month_imports_whole(world: World) -> None:
    people = []
    for i in range(6):
        staff = Staff.objects.create(
            employee_no=f"G{i}",
            name=f"员工甲{i}",
            position="presales",
            team=world.team_a,
            dingtalk_user_id=f"g{i}",
            base_salary=Decimal("4500"),
        )
        people.append((staff.name, staff.dingtalk_user_id, ""))
    summary = services.attendance_import(
        actor=SYSTEM, data=dingtalk_daily_workbook(people, 2026, 10), file_name="team.xlsx"
    )
    assert summary.failed == [] and summary.created == 6 * 31
    result = statements(staff=list(Staff.objects.filter(employee_no__startswith="G")), year=2026, month=10)
    assert all(s.scheduled_days > 15 for s in result)


def test_rest_request_needs_two_days_notice_unless_emergency(world: World) -> None:
    agent = Staff.objects.get(user=world.agent_a)
    today = clock.today()
    with pytest.raises(ApplicationError) as exc:
        services.request_create(
            actor=world.agent_a,
            staff=agent,
            kind="rest",
            start_date=today + dt.timedelta(days=1),
            end_date=today + dt.timedelta(days=1),
        )
    assert exc.value.code == "request_too_late" and "R-WF-8" in exc.value.message
    ok = services.request_create(
        actor=world.agent_a,
        staff=agent,
        kind="rest",
        start_date=today + dt.timedelta(days=2),
        end_date=today + dt.timedelta(days=2),
    )
    assert ok.status == "submitted" and not ok.late_submission
    urgent = services.request_create(
        actor=world.agent_a,
        staff=agent,
        kind="personal",
        start_date=today,
        end_date=today,
        emergency=True,
        reason="发烧",
    )
    assert urgent.status == "submitted" and urgent.late_submission  # flagged


def test_request_workflow_approval_by_supervisor_only(world: World) -> None:
    agent = Staff.objects.get(user=world.agent_a)
    start = clock.today() + dt.timedelta(days=5)
    req = services.request_create(actor=world.agent_a, staff=agent, kind="personal", start_date=start, end_date=start)
    with pytest.raises(ApplicationError):
        services.request_approve(actor=world.lead_a, request=req)  # a team lead may not approve
    with pytest.raises(ApplicationError):
        services.request_reject(actor=world.supervisor, request=req, comment="  ")  # rejection needs a reason
    services.request_approve(actor=world.deputy, request=req, comment="同意")
    req.refresh_from_db()
    assert req.status == "approved" and req.decided_by == world.deputy
    with pytest.raises(ApplicationError):
        services.request_approve(actor=world.supervisor, request=req)  # not twice
    verbs = list(Event.objects.for_object(req).order_by("id").values_list("verb", flat=True))
    assert verbs == ["request.created", "request.submitted", "request.approved"]


def test_makeups_are_certified_by_the_supervisor_who_is_recorded(world: World) -> None:
    agent = Staff.objects.get(user=world.agent_a)
    with pytest.raises(ApplicationError):
        services.makeup_certify(actor=world.lead_a, staff=agent, at=dt.datetime(2026, 10, 5, 8, 30), kind="on")
    punch = services.makeup_certify(actor=world.supervisor, staff=agent, at=dt.datetime(2026, 10, 5, 8, 30), kind="on")
    punch.refresh_from_db()
    assert punch.source == "makeup" and punch.certified_by == Staff.objects.get(user=world.supervisor)
    # R-WF-24: where a real punch exists (08:31 on 10-06), a make-up is refused, naming the punch
    services.punch_record(actor=SYSTEM, staff=agent, at=dt.datetime(2026, 10, 6, 8, 31), kind="on")
    with pytest.raises(ApplicationError) as refused:
        services.makeup_certify(actor=world.supervisor, staff=agent, at=dt.datetime(2026, 10, 6, 8, 30), kind="on")
    assert refused.value.code == "makeup_not_missing" and "08:31" in str(refused.value.message)
    # an off-duty make-up that day is still possible (no real off-duty punch)
    services.makeup_certify(actor=world.supervisor, staff=agent, at=dt.datetime(2026, 10, 6, 17, 30), kind="off")


def test_red_packets_are_due_monday_doubled_when_overdue_and_marked_sent(world: World) -> None:
    agent = Staff.objects.get(user=world.agent_a)
    RosterEntry.objects.create(staff=agent, date=dt.date(2026, 10, 7), shift_code="day")
    services.punch_record(actor=SYSTEM, staff=agent, at=dt.datetime(2026, 10, 7, 8, 45), kind="on")
    services.punch_record(actor=SYSTEM, staff=agent, at=dt.datetime(2026, 10, 7, 17, 30), kind="off")
    (st,) = statements(staff=[agent], year=2026, month=10)
    # shown by the publication of Monday 10-12 (R-WF-5 clarified: due at the publication that shows it)
    due = dt.date(2026, 10, 12)
    assert services.red_packets_from_incidents(staff=agent, incidents=st.incidents, due=due) == 1
    assert services.red_packets_from_incidents(staff=agent, incidents=st.incidents) == 0  # idempotent
    packet = RedPacket.objects.get(staff=agent)
    assert (packet.amount, packet.due_date) == (Decimal("20.00"), dt.date(2026, 10, 12))  # 15 min → 20 CNY
    # the basis reads in the reader's language, whichever language was active when it fell due
    with translation.override("en"):
        assert "on duty 08:30, punched 10-07 08:45 → 15 minutes" in packet.basis_text
    with translation.override("zh-hans"):
        text = packet.basis_text
        assert "15" in text and "on duty" not in text and "分钟" in text
    assert services.red_packets_double_overdue(today=dt.date(2026, 10, 13)) == 0  # shown yesterday
    assert services.red_packets_double_overdue(today=dt.date(2026, 10, 18)) == 0  # a week to send it
    assert services.red_packets_double_overdue(today=dt.date(2026, 10, 19)) == 1  # unsent a week after
    assert services.red_packets_double_overdue(today=dt.date(2026, 10, 20)) == 0  # doubled once
    assert services.red_packet_owed(packet) == Decimal("40.00")  # seed: 漏发红包者补发双倍
    with pytest.raises(ApplicationError):
        services.red_packet_mark_sent(actor=world.agent_b, packet=packet)  # another team
    services.red_packet_mark_sent(actor=world.agent_a, packet=packet)
    assert packet.entries.get(kind="sent").amount == Decimal("40.00")
    with pytest.raises(ApplicationError):
        services.red_packet_mark_sent(actor=world.lead_a, packet=packet)


def test_points_are_an_append_only_ledger(world: World) -> None:
    agent = Staff.objects.get(user=world.agent_a)
    entry = services.points_record(actor=world.supervisor, staff=agent, item_code="praise_letter", note="表扬信")
    services.points_record(actor=world.supervisor, staff=agent, item_code="noise")
    assert entry.points == 50
    with pytest.raises(ApplicationError):
        services.points_record(actor=world.lead_a, staff=agent, item_code="noise")
    reversal = services.points_reverse(actor=world.supervisor, entry=entry, note="记错人")
    assert reversal.points == -50
    with pytest.raises(ApplicationError):
        services.points_reverse(actor=world.supervisor, entry=entry, note="again")
    entry.note = "edited"
    with pytest.raises(RuntimeError):
        entry.save()
    total = sum(PointEntry.objects.filter(staff=agent).values_list("points", flat=True))
    assert total == -2


class _Robot(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Robot.received.append({"path": self.path, "body": json.loads(body)})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"errcode":0,"errmsg":"ok"}')

    def log_message(self, *args: Any) -> None:
        pass


def test_signing_matches_dingtalk_algorithm() -> None:
    url = signed_url("https://oapi.dingtalk.com/robot/send?access_token=abc", "SECsecret", 1700000000000)
    query = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)
    import base64
    import hashlib
    import hmac

    expected = base64.b64encode(hmac.new(b"SECsecret", b"1700000000000\nSECsecret", hashlib.sha256).digest()).decode()
    assert query["timestamp"] == ["1700000000000"] and query["sign"] == [expected]


def test_monday_publication_posts_to_the_robot_with_signing(world: World) -> None:
    agent = Staff.objects.get(user=world.agent_a)
    Staff.objects.filter(pk=agent.pk).update(name="张敏")
    RosterEntry.objects.create(staff=agent, date=dt.date(2026, 11, 17), shift_code="day")
    services.punch_record(actor=SYSTEM, staff=agent, at=dt.datetime(2026, 11, 17, 8, 36), kind="on")
    services.punch_record(actor=SYSTEM, staff=agent, at=dt.datetime(2026, 11, 17, 17, 30), kind="off")
    server = HTTPServer(("127.0.0.1", 0), _Robot)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    _Robot.received = []
    url = f"http://127.0.0.1:{server.server_port}/robot/send?access_token=t"
    with override_settings(KEFU_DINGTALK_ROBOT_URL=url, KEFU_DINGTALK_ROBOT_SECRET="SECx"):
        result = weekly_publish(today=dt.date(2026, 11, 23))
        assert _Robot.received == []  # the robot is posted after commit, by the outbox
        assert outbox_drain() == {"sent": 1, "failed": 0}
    thread.join(5)
    server.server_close()
    assert result["week"] == "2026-11-16" and result["robot"] is True
    (message,) = _Robot.received
    assert "timestamp=" in message["path"] and "sign=" in message["path"]
    assert message["body"]["msgtype"] == "markdown"
    text = message["body"]["markdown"]["text"]
    assert "张敏" in text and "迟到6分钟" in text and "¥10.00" in text
    assert RedPacket.objects.get(staff=agent).due_date == dt.date(2026, 11, 23)
    monday_9 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=clock.local_tz())
    assert not publication_due(monday_9)  # already published this week
    assert publication_due(dt.datetime(2026, 11, 30, 9, 5, tzinfo=clock.local_tz()))
    assert not publication_due(dt.datetime(2026, 11, 30, 8, 59, tzinfo=clock.local_tz()))


def test_statement_cli_formats(world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from django.core.management import call_command

    call_command("kefu_attendance", "statement", "--month", "2026-10", "--format", "json")
    doc = json.loads(capsys.readouterr().out)
    assert doc["month"] == "2026-10" and len(doc["staff"]) == Staff.objects.filter(active=True).count()
    out = tmp_path / "s.xlsx"
    call_command("kefu_attendance", "statement", "--month", "2026-10", "--format", "xlsx", "--output", str(out))
    import openpyxl

    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["月度结算", "考勤明细"] and wb["月度结算"]["A2"].value == "工号"
    header = [c.value for c in wb["月度结算"][2]]
    first = [c.value for c in wb["月度结算"][3]]
    for column in ("排班天数", "出勤天数", "旷工天数", "应休天数", "补卡次数", "实发"):
        assert isinstance(first[header.index(column)], int | float), (column, first[header.index(column)])
    assert isinstance(first[0], str)  # the employee no. stays text
    call_command("kefu_attendance", "statement", "--month", "2026-10", "--format", "csv")
    assert "工号,姓名,日工资" in capsys.readouterr().out


def test_a_past_month_uses_the_policy_in_force_then(world: World) -> None:
    import copy

    from kefu.core.policy_store import policy_save
    from kefu.policies import handbook

    doc = copy.deepcopy(handbook.load_preset())
    doc["attendance"]["full_attendance_bonus"] = "300.00"
    policy_save(actor=SYSTEM, document=doc, effective_from=dt.date(2026, 11, 1))
    agent = Staff.objects.get(user=world.agent_a)
    for month in (10, 11):
        RosterEntry.objects.create(staff=agent, date=dt.date(2026, month, 2), shift_code="day")
        services.punch_record(actor=SYSTEM, staff=agent, at=dt.datetime(2026, month, 2, 8, 20), kind="on")
        services.punch_record(actor=SYSTEM, staff=agent, at=dt.datetime(2026, month, 2, 17, 40), kind="off")
    october = statement_document(staff=[agent], year=2026, month=10)
    november = statement_document(staff=[agent], year=2026, month=11)
    bonus = lambda d: {ln["code"]: ln["amount"] for ln in d["staff"][0]["lines"]}["full_attendance_bonus"]  # noqa: E731
    assert (october["policy"]["version"], bonus(october)) == (1, "200.00")
    assert (november["policy"]["version"], bonus(november)) == (2, "300.00")


def _raw_csv() -> bytes:
    header = (
        "姓名,考勤组,部门,工号,职位,UserId,考勤日期,考勤时间,打卡时间,打卡结果,"
        "打卡地址,打卡备注,异常打卡原因,打卡图片1,打卡图片2,打卡设备,管理员修改备注"
    )
    rows = [
        "张敏,客服考勤组,客服部,,客服,ding-a,2026-10-05,上班 08:30,2026-10-05 08:27,正常,扬州,,,,,,",
        "张敏,客服考勤组,客服部,,客服,ding-a,2026-10-05,下班 17:30,2026-10-05 17:45,正常,扬州,,,,,,",
        "张敏,客服考勤组,客服部,,客服,ding-a,2026-10-06,上班 08:30,2026-10-06 08:44,迟到,扬州,,,,,,",
        "张敏,客服考勤组,客服部,,客服,ding-a,26-10-07 星期三,上班 08:30,,缺卡,扬州,,,,,,",
        # a night shift of 10-08: the off-duty time has no date and falls after midnight (10-09)
        "张敏,客服考勤组,客服部,,客服,ding-a,2026-10-08,上班 17:00,17:02,正常,扬州,,,,,,",
        "张敏,客服考勤组,客服部,,客服,ding-a,2026-10-08,下班 01:00,00:58,正常,扬州,,,,,,",
        "张敏,客服考勤组,客服部,,客服,ding-a,2026-10-09,上班 08:30,8点半,正常,扬州,,,,,,",
    ]
    return ("\n".join([header, *rows]) + "\n").encode("gbk")


def test_raw_punch_records_import_detected_by_header(world: World) -> None:
    a, _b = _people(world)
    parsed = parse_attendance(_raw_csv())
    # a 缺卡 row carries no punch: skipped with its reason, not a failed row; an unreadable time is
    assert parsed.fmt == "dingtalk_raw" and [e.row for e in parsed.errors] == [8]
    assert parsed.skipped == [(5, "缺卡")]
    assert [(p.kind, p.at) for p in parsed.punches] == [
        ("on", dt.datetime(2026, 10, 5, 8, 27)),
        ("off", dt.datetime(2026, 10, 5, 17, 45)),
        ("on", dt.datetime(2026, 10, 6, 8, 44)),
        ("on", dt.datetime(2026, 10, 8, 17, 2)),
        ("off", dt.datetime(2026, 10, 9, 0, 58)),
    ]
    summary = services.attendance_import(actor=SYSTEM, data=_raw_csv(), file_name="原始记录.csv")
    assert summary.created == 5 and [f["row"] for f in summary.as_dict()["failed"]] == [8]
    assert Punch.objects.filter(staff=a).count() == 5
    again = services.attendance_import(actor=SYSTEM, data=_raw_csv(), file_name="原始记录.csv")
    assert (again.created, again.unchanged) == (0, 5)


def test_punch_api_is_idempotent_and_scoped(world: World) -> None:
    from django.test import Client

    from .conftest import PASSWORD

    agent = Staff.objects.get(user=world.agent_a)
    staff_b = Staff.objects.get(user=world.agent_b)
    lead = Client()
    lead.login(username="lead_a", password=PASSWORD)
    body = {"employee_no": agent.employee_no, "at": "2026-10-05T08:29:00+08:00", "kind": "on"}
    first = lead.post("/api/v1/punches", body, content_type="application/json")
    assert first.status_code == 200 and first.json()["created"] is True
    second = lead.post("/api/v1/punches", body, content_type="application/json")
    assert second.json()["created"] is False and Punch.objects.filter(staff=agent).count() == 1
    other = {**body, "employee_no": staff_b.employee_no}
    assert lead.post("/api/v1/punches", other, content_type="application/json").status_code == 404
    listed = lead.get("/api/v1/punches").json()["items"]
    assert [p["staff_id"] for p in listed] == [agent.pk]
    agent_client = Client()
    agent_client.login(username="agent_a", password=PASSWORD)
    assert agent_client.post("/api/v1/punches", body, content_type="application/json").status_code == 403


def test_a_team_lead_imports_only_their_team_and_leave_waits_for_approval(world: World) -> None:
    """Attendance import scope: 郭强 (team B) is reported by row for the team-A lead; 张敏's DingTalk
    leave arrives awaiting approval (a lead may not approve leave); the supervisor's import approves it."""
    a, b = _people(world)
    summary = services.attendance_import(actor=world.lead_a, data=_workbook(), file_name="每日统计.xlsx")
    reasons = {f["row"]: f["reason"] for f in summary.as_dict()["failed"]}
    assert any("郭强" in r and "不在你的管理范围" in r for r in reasons.values())
    # a row refused by the service (not by the parser) is offered for download with its cells too
    refused = next(f for f in summary.as_dict()["failed"] if "郭强" in f["reason"])
    assert ["姓名", "郭强（离职）"] in refused["cells"] and any(name == "日期" for name, _ in refused["cells"])
    assert RosterEntry.objects.filter(staff=b).count() == 0 and RosterEntry.objects.filter(staff=a).exists()
    leave = LeaveRequest.objects.get(staff=a, source="dingtalk")
    assert leave.status == "submitted" and leave.decided_by is None
    with pytest.raises(ApplicationError):
        services.attendance_import(actor=world.agent_a, data=_workbook(), file_name="每日统计.xlsx")
    client = Client()
    client.login(username="boss", password=PASSWORD)
    upload = SimpleUploadedFile("每日统计.xlsx", _workbook())
    assert client.post("/imports/", {"kind": "attendance", "file": upload}).status_code == 302
    assert RosterEntry.objects.filter(staff=b).exists()  # the supervisor's scope is everyone


def test_dingtalk_daily_variants_half_days_hours_zero_cells_trips_and_approvers(world: World) -> None:
    """R-WF-21/22/24 in 每日统计: ``0.5天`` and ``4小时`` are half days (the approval's times name the
    half), ``0.00`` and an empty cell are no leave, 出差 / 外出 make a worked day, and a 补卡 whose
    approver the export does not name is certified by nobody (never a default person)."""
    from kefu.imports.dingtalk import leave_amount

    assert [leave_amount(v) for v in ("1天", "0.5天", "4小时", "8小时", "2小时", "0.00", "0", "", "--", "1")] == [
        Decimal("1"), Decimal("0.5"), Decimal("0.5"), Decimal("1"), Decimal("0.5"),
        Decimal("0"), Decimal("0"), Decimal("0"), Decimal("0"), Decimal("1"),
    ]  # fmt: skip
    a, _b = _people(world)

    def row(day: str, on: str, on_r: str, off: str, off_r: str, approval: str, personal: str) -> list[object]:
        base = _row("张敏", "ding-a", day, "白班 08:30-17:30", on, on_r, off, off_r, approval)
        base[-4] = personal  # the 事假 column under 请假
        return base

    rows = [
        row("26-10-13 星期二", "08:29", "正常", "13:01", "事假", "事假 10-13 13:00 到 10-13 17:30 0.5天", "0.5天"),
        row("26-10-14 星期三", "12:58", "事假", "17:31", "正常", "", "4小时"),
        row("26-10-15 星期四", "08:29", "正常", "17:31", "正常", "", "0.00"),
        row("26-10-16 星期五", "", "出差", "", "出差", "出差 10-16 08:30 到 10-16 17:30 1天", ""),
        row("26-10-19 星期一", "", "外出", "", "外出", "", ""),
        row("26-10-20 星期二", "08:30", "补卡审批通过", "17:35", "正常", "", ""),
    ]
    data = dingtalk_daily_workbook([], 2026, 10, rows=rows)
    summary = services.attendance_import(actor=SYSTEM, data=data, file_name="每日统计.xlsx")
    assert summary.as_dict()["failed"] == []
    requests = {
        (r.start_date.day, r.kind, r.half_day, r.half) for r in LeaveRequest.objects.filter(staff=a, source="dingtalk")
    }
    assert requests == {
        (13, "personal", True, "second"),
        (14, "personal", True, ""),
        (16, "trip", False, ""),
        (19, "trip", False, ""),
    }
    makeup = Punch.objects.get(staff=a, source="makeup")
    assert makeup.certified_by is None and "审批人" in makeup.note and makeup.scheduled_only
    # the statement: 13th worked in the morning (leave in the afternoon, out at 13:01), 14th leave in the
    # morning (no half named: in at 12:58, the afternoon was worked), the 15th a normal day, 16th and
    # 19th trips (worked): no incident on any of them
    from kefu.workforce import selectors

    (st,) = selectors.statements(staff=[a], year=2026, month=10)
    days = {d.date.day: d.status for d in st.days}
    assert (days[13], days[14], days[15], days[16], days[19]) == ("half_leave", "half_leave", "worked", "trip", "trip")
    assert st.leave_days == 1 and not [i for i in st.incidents if i.date.day in (13, 14, 15, 16, 19)]


def test_r_wf_5_a_late_publication_a_late_import_and_a_past_week(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """R-WF-5 (clarified). The worker was down all Monday 11-16: on Tuesday the week of 11-09 is
    still due and published then; its packet (late 15 min on 11-11) is due that Tuesday, not already
    doubled, and doubles only if unsent a week later. A punch for 11-12 imported after that
    publication becomes a packet at the next one (11-23), due then. Any past week can be published
    (the command line), once."""
    from django.core.management import call_command

    agent = Staff.objects.get(user=world.agent_a)
    for day in (11, 12):
        RosterEntry.objects.create(staff=agent, date=dt.date(2026, 11, day), shift_code="day")
    services.punch_record(actor=SYSTEM, staff=agent, at=dt.datetime(2026, 11, 11, 8, 45), kind="on")
    services.punch_record(actor=SYSTEM, staff=agent, at=dt.datetime(2026, 11, 11, 17, 31), kind="off")
    services.punch_record(actor=SYSTEM, staff=agent, at=dt.datetime(2026, 11, 12, 17, 31), kind="off")
    tz = clock.local_tz()
    assert publication_due(dt.datetime(2026, 11, 17, 10, 0, tzinfo=tz))  # Monday missed: due on Tuesday
    result = weekly_publish(today=dt.date(2026, 11, 17))
    assert result["week"] == "2026-11-09" and result["packets"] == 1
    packet = RedPacket.objects.get(staff=agent, incident_date=dt.date(2026, 11, 11))
    assert packet.due_date == dt.date(2026, 11, 17)
    assert not publication_due(dt.datetime(2026, 11, 17, 10, 5, tzinfo=tz))
    assert services.red_packets_double_overdue(today=dt.date(2026, 11, 18)) == 0  # shown yesterday
    # the on-duty punch of 11-12 arrives late (an import after the week was published): 08:52
    services.punch_record(actor=SYSTEM, staff=agent, at=dt.datetime(2026, 11, 12, 8, 52), kind="on")
    later = weekly_publish(today=dt.date(2026, 11, 23))
    late = RedPacket.objects.get(staff=agent, incident_date=dt.date(2026, 11, 12))
    assert later["packets"] == 1 and late.due_date == dt.date(2026, 11, 23) and late.amount == Decimal("50.00")
    assert services.red_packets_double_overdue(today=dt.date(2026, 11, 24)) == 1  # 11-17 + 7 days: doubled
    assert services.red_packets_double_overdue(today=dt.date(2026, 11, 24)) == 0  # once
    # the statement's JSON counts them from the ledger (SPEC §3.6): due 2, sent 0, doubled 1
    from kefu.workforce.selectors import statement_document

    (mine,) = statement_document(staff=[agent], year=2026, month=11)["staff"]
    assert mine["red_packets"] == {"due": 2, "sent": 0, "doubled": 1}
    call_command("kefu_attendance", "publish", "--week", "2026-W44")
    assert "10-26" in capsys.readouterr().out
    call_command("kefu_attendance", "publish", "--week", "2026-W44")
    assert "already published" in capsys.readouterr().out


def test_a_kefu_request_for_a_day_dingtalk_also_records_is_linked_and_counted_once(world: World) -> None:
    """R-WF-23: the agent asked for leave on 10-14 in Kefu (approved) and DingTalk's export brings the
    same 事假: the statement counts one day, and the Kefu request is linked to DingTalk's on its timeline."""
    from kefu.core.models import Event

    a, _b = _people(world)
    RosterEntry.objects.create(staff=a, date=dt.date(2026, 10, 14), shift_code="day")
    mine = LeaveRequest.objects.create(
        staff=a, kind="personal", start_date=dt.date(2026, 10, 14), end_date=dt.date(2026, 10, 14), status="approved"
    )
    rows = [
        _row(
            "张敏", "ding-a", "26-10-14 星期三", "白班 08:30-17:30", "", "事假", "", "事假",
            "事假 10-14 08:30 到 10-14 17:30 1天",
        )
    ]  # fmt: skip
    services.attendance_import(
        actor=SYSTEM, data=dingtalk_daily_workbook([], 2026, 10, rows=rows), file_name="每日统计.xlsx"
    )
    assert LeaveRequest.objects.filter(staff=a, start_date=dt.date(2026, 10, 14)).count() == 2
    (st,) = statements(staff=[a], year=2026, month=10)
    assert st.leave_days == 1
    mine.refresh_from_db()
    assert mine.comment == ""  # the approver's comment is left as it was; the link is on the timeline
    linked = Event.objects.get(verb="request.linked", subject_id=str(mine.pk))
    assert "2026-10-14" in linked.after["note"]


def test_october_from_a_dingtalk_export_to_the_api_statement(world: World) -> None:
    """A whole month end to end: October 2026 arrives as DingTalk's 每日统计 and the supervisor reads
    the statement over the API. 张敏, base 3,100.00 → 100.00 a day, worked by hand:
    - 10-01 and 10-03 白班 on time: statutory holidays worked, 2 × 100.00 on top each (R-WF-20);
    - 10-02 休息: the holiday itself, no rest day used;
    - 10-08 出差 (no punches): a worked day (R-WF-21);
    - 10-09 事假 0.5天 in the afternoon, in 08:25, out 13:01: half a day of leave, −50.00 (R-WF-22);
    - 10-10 and 10-20 休息: the two rest days, taken 2, unused 0;
    - no other day scheduled. No 全勤 (leave). Net 3,100 + 200 + 200 − 50 = 3,450.00."""
    from django.test import Client

    from .conftest import PASSWORD

    a, _b = _people(world)

    def row(day: str, shift: str, on: str, on_r: str, off: str, off_r: str, approval: str = "", personal: str = ""):
        cells = _row("张敏", "ding-a", day, shift, on, on_r, off, off_r, approval)
        cells[-4] = personal
        return cells

    rows = [
        row("26-10-01 星期四", "白班 08:30-17:30", "08:25", "正常", "17:35", "正常"),
        row("26-10-02 星期五", "休息", "", "休息", "", "休息"),
        row("26-10-03 星期六", "白班 08:30-17:30", "08:28", "正常", "17:31", "正常"),
        row("26-10-08 星期四", "白班 08:30-17:30", "", "出差", "", "出差", "出差 10-08 08:30 到 10-08 17:30 1天"),
        row(
            "26-10-09 星期五", "白班 08:30-17:30", "08:25", "正常", "13:01", "事假",
            "事假 10-09 13:00 到 10-09 17:30 0.5天", "0.5天",
        ),
        row("26-10-10 星期六", "休息", "", "休息", "", "休息"),
        row("26-10-20 星期二", "休息", "", "休息", "", "休息"),
    ]  # fmt: skip
    summary = services.attendance_import(
        actor=SYSTEM, data=dingtalk_daily_workbook([], 2026, 10, rows=rows), file_name="每日统计-202610.xlsx"
    )
    assert summary.as_dict()["failed"] == []
    boss = Client()
    boss.login(username="boss", password=PASSWORD)
    doc = boss.get("/api/v1/attendance/statement?month=2026-10").json()
    st = next(s for s in doc["staff"] if s["employee_no"] == a.employee_no)
    assert [(ln["code"], ln["amount"]) for ln in st["lines"]] == [
        ("base_salary", "3100.00"),
        ("leave_deduction", "-50.00"),
        ("holiday_pay", "200.00"),
        ("holiday_pay", "200.00"),
    ]
    assert (st["net"], st["leave_days"], st["rest_days_taken"], st["rest_days_unused"]) == ("3450.00", "0.5", "2", "0")
    assert st["holidays_worked"] == ["2026-10-01", "2026-10-03"] and not st["full_attendance"]
    statuses = {d["date"]: d["status"] for d in st["days"]}
    assert (statuses["2026-10-02"], statuses["2026-10-08"], statuses["2026-10-09"]) == ("holiday", "trip", "half_leave")
    assert st["incidents"] == []
    # the same export again changes nothing
    again = services.attendance_import(
        actor=SYSTEM, data=dingtalk_daily_workbook([], 2026, 10, rows=rows), file_name="每日统计-202610.xlsx"
    )
    assert again.created == 0
    assert boss.get("/api/v1/attendance/statement?month=2026-10").json() == doc


def test_a_hire_and_a_floor_month_from_the_staff_file_and_dingtalk_to_the_api(world: World) -> None:
    """Two more whole months end to end (October 2026, 31 days; base 3,100.00 → 100.00 a day):
    - 周琪, hired 10-20 by the staff file: 白班 10-20 … 10-31 on time except a 休息 on 10-25 → employed
      12 days, base 3,100 × 12 / 31 = 1,200.00; rest entitled 2 × 12 / 31 = 0.77 → 1, taken 1 → 0
      unused; no 全勤 in a part month. Net 1,200.00.
    - 邓凯: 10-05 … 10-07 scheduled with no punch (3 days absent: the whole base withheld, flagged for
      dismissal), 事假 on 10-08 and 10-09 (−200.00): deductions 3,300.00 stop at 3,100.00, 200.00 not
      deducted. Net 0.00."""
    from django.test import Client

    from kefu.org.services import staff_import

    from .conftest import PASSWORD

    staff_import(
        actor=world.supervisor,
        data=(
            "工号,姓名,岗位,团队,基本工资,钉钉UserId,入职日期\n"
            "K901,周琪,售前客服,扬州客服组,3100,ding-h,2026-10-20\n"
            "K902,邓凯,售后客服,扬州客服组,3100,ding-f,2023-03-01\n"
        ).encode(),
        file_name="staff.csv",
    )
    day_shift = "白班 08:30-17:30"

    def day(n: int) -> str:
        return f"26-10-{n:02d} 星期{generate_weekday(n)}"

    rows = []
    for n in range(20, 32):
        if n == 25:
            rows.append(_row("周琪", "ding-h", day(n), "休息", "", "休息", "", "休息"))
        else:
            rows.append(_row("周琪", "ding-h", day(n), day_shift, "08:25", "正常", "17:35", "正常"))
    for n in (5, 6, 7):
        rows.append(_row("邓凯", "ding-f", day(n), day_shift, "", "旷工", "", "旷工"))
    for n in (8, 9):
        cells = _row(
            "邓凯",
            "ding-f",
            day(n),
            day_shift,
            "",
            "事假",
            "",
            "事假",
            f"事假 10-{n:02d} 08:30 到 10-{n:02d} 17:30 1天",
        )
        cells[-4] = "1天"
        rows.append(cells)
    for n in (10, 11):
        rows.append(_row("邓凯", "ding-f", day(n), "休息", "", "休息", "", "休息"))
    summary = services.attendance_import(
        actor=SYSTEM, data=dingtalk_daily_workbook([], 2026, 10, rows=rows), file_name="每日统计-202610.xlsx"
    )
    assert summary.as_dict()["failed"] == []
    boss = Client()
    boss.login(username="boss", password=PASSWORD)
    staff = {s["employee_no"]: s for s in boss.get("/api/v1/attendance/statement?month=2026-10").json()["staff"]}
    hire, floor = staff["K901"], staff["K902"]
    assert [(ln["code"], ln["amount"]) for ln in hire["lines"]] == [("base_salary", "1200.00")]
    assert (hire["employed_days"], hire["rest_days_entitled"], hire["rest_days_unused"], hire["net"]) == (
        12,
        1,
        "0",
        "1200.00",
    )
    assert not hire["full_attendance"] and "part_month" in hire["flags"]
    assert [(ln["code"], ln["amount"]) for ln in floor["lines"]] == [
        ("base_salary", "3100.00"),
        ("leave_deduction", "-200.00"),
        ("absence_deduction", "-3100.00"),
        ("not_deducted", "200.00"),
    ]
    assert floor["net"] == "0.00" and floor["absence_days"] == "3" and "dismissal" in floor["flags"]


def generate_weekday(day: int) -> str:
    return "一二三四五六日"[dt.date(2026, 10, day).weekday()]


def test_a_month_of_make_ups_and_a_leave_from_both_sources_to_the_api(world: World) -> None:
    """A fifth whole month end to end (October 2026, base 3,100.00 → 100.00 a day), 张敏:
    - 10-05 … 10-09: DingTalk 补卡审批通过 at the scheduled 08:30, out 17:35: make-ups 1–3 free, 4 and
      5 carry only the scheduled time, so they wait for the actual time (pending, flagged, no money);
    - 10-12: 事假 from DingTalk and the same day approved in Kefu: one day of leave, −100.00;
    - 休息 10-10 and 10-20: the two rest days.
    Net 3,000.00; no 全勤 (leave)."""
    from django.test import Client

    from .conftest import PASSWORD

    a, _b = _people(world)
    LeaveRequest.objects.create(
        staff=a, kind="personal", start_date=dt.date(2026, 10, 12), end_date=dt.date(2026, 10, 12), status="approved"
    )
    shift = "白班 08:30-17:30"
    rows = [
        _row(
            "张敏",
            "ding-a",
            f"26-10-{n:02d} 星期{generate_weekday(n)}",
            shift,
            "08:30",
            "补卡审批通过",
            "17:35",
            "正常",
        )
        for n in range(5, 10)
    ]
    leave = _row(
        "张敏", "ding-a", "26-10-12 星期一", shift, "", "事假", "", "事假", "事假 10-12 08:30 到 10-12 17:30 1天"
    )
    leave[-4] = "1天"
    rows += [leave]
    rows += [
        _row("张敏", "ding-a", f"26-10-{n} 星期{generate_weekday(n)}", "休息", "", "休息", "", "休息") for n in (10, 20)
    ]
    services.attendance_import(
        actor=SYSTEM, data=dingtalk_daily_workbook([], 2026, 10, rows=rows), file_name="每日统计-202610.xlsx"
    )
    boss = Client()
    boss.login(username="boss", password=PASSWORD)
    st = next(
        s
        for s in boss.get("/api/v1/attendance/statement?month=2026-10").json()["staff"]
        if s["employee_no"] == a.employee_no
    )
    assert [(ln["code"], ln["amount"]) for ln in st["lines"]] == [
        ("base_salary", "3100.00"),
        ("leave_deduction", "-100.00"),
    ]
    assert (st["net"], st["leave_days"], st["makeups"], st["makeups_free"]) == ("3000.00", "1", 5, 3)
    assert [(i["date"], i["kind"]) for i in st["incidents"]] == [
        ("2026-10-08", "makeup_pending"),
        ("2026-10-09", "makeup_pending"),
    ]
    assert "makeup_pending" in st["flags"] and not st["full_attendance"]


def test_a_leavers_last_week_is_still_published(world: World) -> None:
    """R-WF-18 with R-WF-5: the agent's last day is Wednesday 11-11 (late 15 min on Tuesday 11-10).
    By the publication of Monday 11-16 the hourly sweep has made them inactive; their last week is
    still shown and the packet is due that day."""
    agent = Staff.objects.get(user=world.agent_a)
    for day in (9, 10, 11):
        RosterEntry.objects.create(staff=agent, date=dt.date(2026, 11, day), shift_code="day")
        services.punch_record(actor=SYSTEM, staff=agent, at=dt.datetime(2026, 11, day, 17, 31), kind="off")
    for day, minute in ((9, 25), (10, 45), (11, 25)):
        services.punch_record(actor=SYSTEM, staff=agent, at=dt.datetime(2026, 11, day, 8, minute), kind="on")
    Staff.objects.filter(pk=agent.pk).update(leave_date=dt.date(2026, 11, 11), active=False)
    result = weekly_publish(today=dt.date(2026, 11, 16))
    assert result["packets"] == 1 and agent.name in result["text"]
    packet = RedPacket.objects.get(staff=agent)
    assert (packet.incident_date, packet.due_date) == (dt.date(2026, 11, 10), dt.date(2026, 11, 16))


def test_a_week_with_a_pending_make_up_is_published(world: World) -> None:
    """R-WF-24 with R-WF-14: the 4th make-up of the month carries DingTalk's scheduled 08:30 only; the
    week's publication names it as waiting for its actual time (it crashed on it before)."""
    agent = Staff.objects.get(user=world.agent_a)
    for day in (16, 17, 18, 19):
        RosterEntry.objects.create(staff=agent, date=dt.date(2026, 11, day), shift_code="day")
        services.punch_record(actor=SYSTEM, staff=agent, at=dt.datetime(2026, 11, day, 17, 31), kind="off")
        Punch.objects.create(
            staff=agent,
            at=dt.datetime(2026, 11, day, 8, 30, tzinfo=clock.local_tz()),
            kind="on",
            source="makeup",
            scheduled_only=True,
        )
    result = weekly_publish(today=dt.date(2026, 11, 23))
    assert result["week"] == "2026-11-16" and "11-19 补卡待核实际时间" in result["text"]


def test_a_late_import_older_than_five_weeks_still_becomes_a_packet(world: World) -> None:
    """R-WF-5 (clarified), issue 17 review: on 12-06 an import brings a 5-minute late of 09-08
    (three months back). It was recorded after the last publication, so the next one (12-07) makes
    it a packet due that day — the look-back reaches the month of the oldest punch recorded since."""
    agent = Staff.objects.get(user=world.agent_a)
    Event.objects.create(verb="attendance.published", at=dt.datetime(2026, 11, 30, 10, 0, tzinfo=clock.local_tz()))
    RosterEntry.objects.create(staff=agent, date=dt.date(2026, 9, 8), shift_code="day")
    with time_machine.travel(dt.datetime(2026, 12, 6, 12, 0, tzinfo=clock.local_tz())):
        services.punch_record(actor=SYSTEM, staff=agent, at=dt.datetime(2026, 9, 8, 8, 35), kind="on")
        services.punch_record(actor=SYSTEM, staff=agent, at=dt.datetime(2026, 9, 8, 17, 31), kind="off")
    result = weekly_publish(today=dt.date(2026, 12, 7))
    packet = RedPacket.objects.get(staff=agent, incident_date=dt.date(2026, 9, 8))
    assert result["packets"] == 1 and packet.due_date == dt.date(2026, 12, 7)
