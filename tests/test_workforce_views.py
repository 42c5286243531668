"""The attendance pages as their users use them."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kefu.core import clock
from kefu.core.events import SystemActor
from kefu.org.models import Position, Staff
from kefu.workforce import services
from kefu.workforce.models import LeaveRequest, PointEntry, Punch, RosterEntry

from .conftest import PASSWORD, World, _person
from .factories import StaffFactory

pytestmark = pytest.mark.django_db
SYSTEM = SystemActor(label="test")


def _client(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


def _month() -> str:
    return f"{clock.today():%Y-%m}"


def test_agent_requests_rest_and_supervisor_approves_in_the_inbox(world: World) -> None:
    agent = _client("agent_a")
    day = clock.today() + dt.timedelta(days=3)
    response = agent.post(
        "/attendance/requests/new/", {"kind": "rest", "start_date": day, "end_date": day, "reason": "家事"}
    )
    assert response.status_code == 302
    request = LeaveRequest.objects.get(staff__user=world.agent_a)
    assert request.status == "submitted"
    assert agent.get("/attendance/approvals/").status_code == 403
    boss = _client("boss")
    inbox = boss.get("/attendance/approvals/").content.decode()
    assert "家事" in inbox
    boss.post(f"/attendance/requests/{request.pk}/decide/", {"decision": "approve", "comment": "同意"})
    request.refresh_from_db()
    assert request.status == "approved"
    page = agent.get("/attendance/").content.decode()
    assert "同意" in page and "R-WF-8" in page


def test_a_half_day_request_names_its_half_and_the_other_half_can_be_asked_too(world: World) -> None:
    """R-WF-22: the form names the half; "half day" without a half is refused; the morning and the
    afternoon of one day are two requests, not an overlap (R-WF-23)."""
    agent = _client("agent_a")
    day = clock.today() + dt.timedelta(days=5)
    base = {"kind": "personal", "start_date": day, "end_date": day}
    page = agent.post("/attendance/requests/new/", {**base, "half_day": "on"}, follow=True).content.decode()
    assert "R-WF-22" in page and not LeaveRequest.objects.exists()
    assert agent.post("/attendance/requests/new/", {**base, "half": "first"}).status_code == 302
    assert agent.post("/attendance/requests/new/", {**base, "half": "second"}).status_code == 302
    halves = sorted(LeaveRequest.objects.filter(staff__user=world.agent_a).values_list("half", "half_day"))
    assert halves == [("first", True), ("second", True)]


def test_too_late_request_is_refused_with_the_rule(world: World) -> None:
    agent = _client("agent_a")
    today = clock.today()
    response = agent.post(
        "/attendance/requests/new/", {"kind": "rest", "start_date": today, "end_date": today}, follow=True
    )
    assert "R-WF-8" in response.content.decode()
    assert not LeaveRequest.objects.exists()


def test_team_lead_edits_the_roster_cell_with_htmx(world: World) -> None:
    lead = _client("lead_a")
    agent = Staff.objects.get(user=world.agent_a)
    day = clock.today().replace(day=3)
    page = lead.get(f"/attendance/team/?team={world.team_a.pk}&month={day:%Y-%m}")
    assert page.status_code == 200 and agent.name in page.content.decode()
    cell = lead.post(
        "/attendance/team/roster/",
        {"staff": agent.pk, "date": day.isoformat(), "shift": "night"},
        HTTP_HX_REQUEST="true",
    )
    assert cell.status_code == 200 and 'value="night" selected' in cell.content.decode()
    assert RosterEntry.objects.get(staff=agent, date=day).shift_code == "night"
    staff_b = Staff.objects.get(user=world.agent_b)
    assert (
        lead.post(
            "/attendance/team/roster/", {"staff": staff_b.pk, "date": day.isoformat(), "shift": "day"}
        ).status_code
        == 404
    )
    assert (
        _client("agent_a")
        .post("/attendance/team/roster/", {"staff": agent.pk, "date": day.isoformat(), "shift": "day"})
        .status_code
        == 403
    )


def test_statement_pages_and_exports(world: World) -> None:
    boss = _client("boss")
    month = _month()
    team_a = world.team_a.pk
    html = boss.get(f"/attendance/statement/?month={month}&team={team_a}").content.decode()
    agent = Staff.objects.get(user=world.agent_a)
    staff_b = Staff.objects.get(user=world.agent_b)
    assert agent.employee_no in html and staff_b.employee_no not in html
    data = json.loads(boss.get(f"/attendance/statement/?month={month}&team={team_a}&format=json").content)
    assert {s["employee_no"] for s in data["staff"]} == {s.employee_no for s in Staff.objects.filter(team=world.team_a)}
    xlsx = boss.get(f"/attendance/statement/?month={month}&format=xlsx")
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats") and xlsx.content[:2] == b"PK"
    assert boss.get(f"/attendance/staff/{agent.pk}/").status_code == 200


def test_pay_is_private_to_the_person_the_supervisor_and_the_deputy(world: World) -> None:
    """Statements and base salary (SPEC §11): a team lead and a colleague see neither, pages and API alike."""
    agent = Staff.objects.get(user=world.agent_a)
    Staff.objects.filter(pk=agent.pk).update(base_salary=Decimal("4321.00"))
    lead = _client("lead_a")
    month = _month()
    assert lead.get(f"/attendance/statement/?month={month}").status_code == 403
    assert lead.get(f"/attendance/statement/?month={month}&format=csv").status_code == 403
    assert lead.get(f"/attendance/staff/{agent.pk}/").status_code == 404
    # the API gives the lead their own statement only — never the agent's
    mine = lead.get(f"/api/v1/attendance/statement?month={month}")
    assert mine.status_code == 200 and [s["employee_no"] for s in mine.json()["staff"]] == [
        Staff.objects.get(user=world.lead_a).employee_no
    ]
    assert lead.get(f"/api/v1/attendance/statement?month={month}&team={world.team_a.pk}").status_code == 403
    assert "4,321" not in lead.get(f"/staff/{agent.pk}/").content.decode()
    rows = lead.get("/api/v1/staff").json()["items"]
    assert {r["employee_no"]: r["base_salary"] for r in rows}[agent.employee_no] is None
    assert lead.get(f"/api/v1/staff/{agent.pk}").json()["base_salary"] is None
    # the person sees their own
    own = _client("agent_a")
    assert own.get(f"/attendance/staff/{agent.pk}/").status_code == 200
    assert "¥4,321.00" in own.get(f"/staff/{agent.pk}/").content.decode()
    assert own.get(f"/api/v1/staff/{agent.pk}").json()["base_salary"] == "4321.00"
    assert own.get(f"/attendance/staff/{Staff.objects.get(user=world.lead_a).pk}/").status_code == 404
    # the supervisor sees everyone's
    assert _client("boss").get(f"/api/v1/staff/{agent.pk}").json()["base_salary"] == "4321.00"
    assert "¥4,321.00" in _client("boss").get(f"/staff/{agent.pk}/").content.decode()


def test_raw_punches_and_leave_reasons_stay_with_the_person_and_their_lead(world: World) -> None:
    agent = Staff.objects.get(user=world.agent_a)
    colleague = _person(Position.AFTERSALES, world.team_a, "colleague_a")
    services.punch_record(actor=SYSTEM, staff=agent, at=dt.datetime(2026, 11, 17, 8, 31), kind="on")
    lead_rows = _client("lead_a").get("/api/v1/punches").json()["items"]
    assert [r["staff_id"] for r in lead_rows] == [agent.pk]
    assert len(_client("agent_a").get("/api/v1/punches").json()["items"]) == 1
    assert _client("colleague_a").get("/api/v1/punches").json()["items"] == []  # same team, not theirs
    request = LeaveRequest.objects.create(
        staff=agent, kind="personal", start_date=dt.date(2026, 12, 20), end_date=dt.date(2026, 12, 20), reason="看病"
    )
    assert LeaveRequest.objects.restrict(world.lead_a).filter(pk=request.pk).exists()
    assert LeaveRequest.objects.restrict(world.supervisor).filter(pk=request.pk).exists()
    assert not LeaveRequest.objects.restrict(colleague).filter(pk=request.pk).exists()
    assert not LeaveRequest.objects.restrict(world.agent_b).filter(pk=request.pk).exists()
    assert not Punch.objects.restrict(world.agent_b).exists()


def test_supervisor_records_an_inspection_and_the_lead_sees_the_daily_summary(world: World) -> None:
    agent = Staff.objects.get(user=world.agent_a)
    boss = _client("boss")
    response = boss.post("/attendance/points/", {"staff": agent.pk, "item": "noise", "note": "午休大声喧哗"})
    assert response.status_code == 302
    entry = PointEntry.objects.get()
    assert entry.points == -2 and entry.recorded_by == world.supervisor
    summary = _client("lead_a").get("/attendance/points/").content.decode()
    assert "午休大声喧哗" in summary and world.team_a.name in summary
    assert _client("lead_a").post("/attendance/points/", {"staff": agent.pk, "item": "noise"}).status_code == 403
    boss.post(f"/attendance/points/{entry.pk}/reverse/", {"note": "误记"})
    assert sum(PointEntry.objects.values_list("points", flat=True)) == 0


def test_certify_makeup_and_red_packet_pages(world: World) -> None:
    agent = Staff.objects.get(user=world.agent_a)
    boss = _client("boss")
    response = boss.post("/attendance/team/makeup/", {"staff": agent.pk, "at": "2026-10-05T08:30", "kind": "on"})
    assert response.status_code == 302
    assert agent.punches.get().source == "makeup"
    RosterEntry.objects.create(staff=agent, date=dt.date(2026, 10, 6), shift_code="day")
    services.punch_record(actor=SystemActor("t"), staff=agent, at=dt.datetime(2026, 10, 6, 8, 35), kind="on")
    from kefu.workforce.selectors import statements

    (st,) = statements(staff=[agent], year=2026, month=10)
    services.red_packets_from_incidents(staff=agent, incidents=st.incidents)
    page = _client("agent_a").get("/attendance/red-packets/").content.decode()
    assert "¥10.00" in page
    assert world.agent_b.username not in page


def test_attendance_pages_have_constant_query_counts(world: World) -> None:
    boss = _client("boss")
    month = _month()
    pages = [
        f"/attendance/team/?team={world.team_a.pk}&month={month}",
        f"/attendance/statement/?month={month}",
        "/attendance/points/",
        "/attendance/red-packets/",
        "/attendance/approvals/",
        "/attendance/publication/",
    ]

    def counts() -> list[int]:
        out = []
        for page in pages:
            with CaptureQueriesContext(connection) as ctx:
                assert boss.get(page).status_code == 200, page
            out.append(len(ctx.captured_queries))
        return out

    counts()  # warm the per-process caches (policy, content types)
    few = counts()
    for _ in range(8):
        staff = StaffFactory(team=world.team_a)
        RosterEntry.objects.create(staff=staff, date=clock.today(), shift_code="day")
        services.points_record(actor=world.supervisor, staff=staff, item_code="suggestion")
        LeaveRequest.objects.create(
            staff=staff, kind="personal", start_date=clock.today(), end_date=clock.today(), status="submitted"
        )
    assert counts() == few


def test_the_statement_page_explains_a_part_month_and_marks_a_running_month(world: World) -> None:
    """The people's page reads as pay: a leaver's October shows the days employed and the prorated
    base with its basis, amounts as −¥/¥ (never "¥-4.00"); November (today is 11-26) is marked an
    estimate. The XLSX keeps amounts as ¥-formatted numbers under a frozen, filtered header."""
    import io

    import openpyxl

    from kefu.workforce.models import RosterEntry

    agent = Staff.objects.get(user=world.agent_a)
    Staff.objects.filter(pk=agent.pk).update(base_salary="3100.00", leave_date=dt.date(2026, 10, 18))
    for d in range(5, 19):
        RosterEntry.objects.create(staff=agent, date=dt.date(2026, 10, d), shift_code="day")
    boss = _client("boss")
    html = boss.get(f"/attendance/staff/{agent.pk}/?month=2026-10").content.decode()
    assert "18 / 31" in html and "¥1,800.00" in html and "2026-10-05 … 2026-10-18" not in html
    assert "2026-10-01 … 2026-10-18" in html  # the basis names the days employed
    assert "−¥" in html and "¥-" not in html  # 14 shifts with no punch: deductions read −¥…
    assert 'data-testid="estimate"' not in html
    running = boss.get(f"/attendance/staff/{Staff.objects.get(user=world.agent_b).pk}/?month=2026-11").content
    assert b'data-testid="estimate"' in running
    book = openpyxl.load_workbook(io.BytesIO(boss.get("/attendance/statement/?month=2026-10&format=xlsx").content))
    sheet = book["月度结算"]
    assert sheet.freeze_panes == "A3" and sheet.auto_filter.ref.startswith("A2:")
    header = [c.value for c in sheet[2]]
    row = next(r for r in sheet.iter_rows(min_row=3) if r[0].value == agent.employee_no)
    net = row[header.index("实发")]
    assert isinstance(net.value, int | float) and "¥" in net.number_format


def test_the_supervisor_publishes_a_past_week_once_from_the_page(world: World) -> None:
    boss, lead = _client("boss"), _client("lead_a")
    url = "/attendance/publication/?week=2026-11-02"
    page = boss.get(url).content.decode()
    assert 'data-testid="publish-week"' in page
    assert lead.post(url).status_code == 403
    assert boss.post(url).status_code == 302
    assert 'data-testid="published"' in boss.get(url).content.decode()
    boss.post(url)  # a second time: already published, nothing more
    from kefu.core.models import Event

    assert Event.objects.filter(verb="attendance.published", data__week="2026-11-02").count() == 1
    # a week that is not over cannot be published
    assert 'data-testid="publish-week"' not in boss.get("/attendance/publication/?week=2026-11-23").content.decode()


def test_an_inspection_that_found_nothing_a_warning_and_a_demerit_show_where_they_belong(world: World) -> None:
    """R-WF-17 (clarified): "inspected, nothing found" is recorded for a team and shows on the daily
    summary; a warning given on the spot and a 记过 are recorded and appear on the month's statement
    (no money: 0 points), the 记过 flagged; a reversed one does not."""
    agent = Staff.objects.get(user=world.agent_a)
    boss = _client("boss")
    assert boss.post("/attendance/points/", {"clear_team": world.team_a.pk, "note": "10:30 巡查"}).status_code == 302
    assert _client("lead_a").post("/attendance/points/", {"clear_team": world.team_a.pk}).status_code == 403
    summary = _client("lead_a").get("/attendance/points/").content.decode()
    assert 'data-testid="clear-inspection"' in summary and "10:30 巡查" in summary
    boss.post("/attendance/points/", {"staff": agent.pk, "item": "warning_on_spot", "note": "工位吃零食"})
    boss.post("/attendance/points/", {"staff": agent.pk, "item": "demerit_games", "note": "看电影"})
    boss.post("/attendance/points/", {"staff": agent.pk, "item": "warning_on_spot", "note": "误记"})
    mistaken = PointEntry.objects.get(note="误记")
    boss.post(f"/attendance/points/{mistaken.pk}/reverse/", {"note": "误记"})
    data = json.loads(boss.get("/attendance/statement/?month=2026-11&format=json").content)
    st = next(s for s in data["staff"] if s["employee_no"] == agent.employee_no)
    assert [w["item"] for w in st["warnings"]] == ["现场警告"] and [d["item"] for d in st["demerits"]] == [
        "上班时间玩游戏、看电影(记过)"
    ]
    assert "demerit" in st["flags"] and st["points"] == 0
    page = boss.get(f"/attendance/staff/{agent.pk}/?month=2026-11").content.decode()
    assert 'data-testid="demerits"' in page and 'data-testid="warnings"' in page


def test_the_dismissal_flag_proposes_a_leaving_date_the_supervisor_confirms(world: World) -> None:
    """R-WF-12 → R-WF-18: three days absent flag dismissal; the supervisor's statement page proposes a
    leaving date, confirming it records the date (the lead sees no proposal)."""
    from kefu.workforce.models import RosterEntry

    agent = Staff.objects.get(user=world.agent_a)
    for d in (5, 6, 7):
        RosterEntry.objects.create(staff=agent, date=dt.date(2026, 10, d), shift_code="day")
    boss = _client("boss")
    page = boss.get(f"/attendance/staff/{agent.pk}/?month=2026-10").content.decode()
    assert 'data-testid="propose-leaving"' in page
    assert boss.post(f"/staff/{agent.pk}/leave-date/", {"leave_date": "2026-10-31"}).status_code == 302
    assert Staff.objects.get(pk=agent.pk).leave_date == dt.date(2026, 10, 31)


def test_the_roster_marks_statutory_holidays_and_ends_at_a_leaving_date(world: World) -> None:
    from kefu.workforce.models import RosterEntry

    agent = Staff.objects.get(user=world.agent_a)
    Staff.objects.filter(pk=agent.pk).update(leave_date=dt.date(2026, 10, 20))
    RosterEntry.objects.create(staff=agent, date=dt.date(2026, 10, 25), shift_code="day")  # left before it
    page = _client("lead_a").get(f"/attendance/team/?team={world.team_a.pk}&month=2026-10").content.decode()
    assert page.count(' holiday"') == 3  # 10-01 … 10-03, National Day (R-WF-20)
    from kefu.workforce import selectors

    grid = selectors.roster_grid(actor=world.lead_a, team=world.team_a.pk, year=2026, month=10)
    row = next(r for r in grid["rows"] if r["staff"].pk == agent.pk)
    assert dict(row["cells"])[dt.date(2026, 10, 25)] is None


def test_my_red_packets_show_what_is_owed_after_doubling(world: World) -> None:
    """R-WF-5: a ¥10.00 packet shown at a publication and unsent a week later is doubled: the
    person's own page shows ¥20.00 owed (the supervisor's list did; the person's showed ¥10.00)."""
    from kefu.workforce.models import RedPacket

    agent = Staff.objects.get(user=world.agent_a)
    RedPacket.objects.create(
        staff=agent,
        incident_date=dt.date(2026, 11, 10),
        kind="late",
        amount=Decimal("10.00"),
        packets=5,
        due_date=dt.date(2026, 11, 16),
    )
    assert services.red_packets_double_overdue(today=dt.date(2026, 11, 23)) == 1
    page = _client("agent_a").get("/attendance/").content.decode()
    assert 'data-testid="packet-owed">¥20.00' in page


def test_malformed_statement_parameters_are_refused_not_widened(world: World) -> None:
    """Issue 17 review: ``team=abc`` showed every team's pay and ``format=pdf`` fell back to HTML;
    both are 400 now. A leaving date in year 9999 is refused on the API."""
    boss = _client("boss")
    month = _month()
    assert boss.get(f"/attendance/statement/?month={month}&team=abc&format=json").status_code == 400
    assert boss.get(f"/attendance/statement/?month={month}&format=pdf").status_code == 400
    assert boss.get(f"/attendance/statement/?month={month}&format=json").status_code == 200
    agent = Staff.objects.get(user=world.agent_a)
    url = f"/api/v1/staff/{agent.pk}/leave-date"
    answer = boss.post(url, {"leave_date": "9999-12-31"}, content_type="application/json")
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "validation_error"
    assert Staff.objects.get(pk=agent.pk).leave_date is None


def test_the_statement_workbook_counts_days_as_numbers_dates_as_dates_and_carries_the_new_figures(
    world: World,
) -> None:
    """Issue 17 review: day counts were formatted "0.##" (Excel shows "4."), incident dates were
    text, and the export lacked days employed, red packets due/sent/doubled, holidays worked,
    warnings and 记过."""
    import io

    import openpyxl

    agent = Staff.objects.get(user=world.agent_a)
    day = clock.today().replace(day=3)
    RosterEntry.objects.create(staff=agent, date=day, shift_code="day")
    Punch.objects.create(staff=agent, at=clock.make_aware(dt.datetime.combine(day, dt.time(8, 45))), kind="on")
    Punch.objects.create(staff=agent, at=clock.make_aware(dt.datetime.combine(day, dt.time(17, 40))), kind="off")
    data = _client("boss").get(f"/attendance/statement/?month={_month()}&format=xlsx").content
    wb = openpyxl.load_workbook(io.BytesIO(data))
    summary = list(wb["月度结算"].iter_rows(min_row=2, values_only=True))
    header = summary[0]
    for name in (
        "在职天数",
        "红包应发个数",
        "红包已发个数",
        "红包翻倍个数",
        "法定节假日出勤天数",
        "现场警告次数",
        "记过次数",
    ):
        assert name in header
    cells = next(r for r in wb["月度结算"].iter_rows(min_row=3) if r[0].value == agent.employee_no)
    assert cells[header.index("旷工天数")].number_format == "General"
    detail = list(wb["考勤明细"].iter_rows(min_row=2))
    date_cell = detail[0][2]
    assert isinstance(date_cell.value, dt.datetime) and date_cell.number_format == "yyyy-mm-dd"
