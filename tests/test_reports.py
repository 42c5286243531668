"""The eight reports (seed 003 §5 + R-CARE-3): hand-worked figures through the API, the pages with
their charts and exports, filters and scope, and malformed parameters as 400s."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from django.test import Client

from kefu.care import services as care
from kefu.care.models import Assignment
from kefu.core import clock, reports
from kefu.org.models import Position, Staff
from kefu.service import services
from kefu.service.models import Part

from .conftest import PASSWORD, World, _person

SLUGS = (
    "fault-causes",
    "service-items",
    "complaint-reasons",
    "settlement-details",
    "parts-details",
    "repair-counts",
    "warranty-expiry",
    "return-visit-coverage",
)


@pytest.fixture
def data(world: World) -> dict[str, Any]:
    tech = _person(Position.TECHNICIAN, world.team_a, "tech")
    technician = Staff.objects.get(user=tech)
    lamp = Part.objects.create(code="L", name="灯泡", price=Decimal("50.00"))
    services.stock_receive(actor=world.supervisor, part=lamp, quantity=10)
    made = []
    for i, (cause, serial, labour) in enumerate(
        (("lamp", "SN-1", "80"), ("lamp", "SN-1", "0"), ("board", "SN-2", "40"))
    ):
        item = services.request_create(
            actor=world.lead_a,
            shop=world.shop_a,
            channel="phone",
            contact_name=f"客户{i}",
            contact_phone="139",
            product="投影机",
            serial_no=serial,
            fault="坏了",
            purchase_date=clock.today() - dt.timedelta(days=400 if i == 2 else 30),
        )
        services.request_evaluate(actor=world.lead_a, item=item)
        services.appointment_set(
            actor=world.lead_a, item=item, technician=technician, at=clock.now() + dt.timedelta(hours=1)
        )
        services.visit_arrive(actor=tech, item=item)
        services.visit_diagnose(actor=tech, item=item, diagnosis="x", parts_consent=True, fault_cause=cause)
        services.parts_issue(actor=tech, item=item, part=lamp, quantity=i + 1)
        services.report_sign(actor=tech, item=item, signed_by="客户", signature="M1 1 L2 2")
        services.request_settle(actor=world.lead_a, item=item, labour=Decimal(labour))
        made.append(item)
    # team B: a request that team A must not see in its reports
    services.request_create(
        actor=world.agent_b,
        shop=world.shop_b,
        channel="phone",
        contact_name="b",
        contact_phone="1",
        product="b",
        fault="b",
        purchase_date=clock.today(),
    )
    complaint = care.complaint_create(
        actor=world.agent_a, shop=world.shop_a, contact_name="c", text="太差", contact_phone="13900000001"
    )
    for code in ("listen", "judge", "understand", "explain", "record", "win_back"):
        care.complaint_step(actor=world.agent_a, item=complaint, code=code, done=True)
    care.complaint_resolve(actor=world.agent_a, item=complaint, reason="quality", resolution="换", our_fault=True)
    care.complaint_create(
        actor=world.agent_a, shop=world.shop_a, contact_name="d", text="慢", contact_phone="13900000002"
    )
    return {"requests": made, "tech": tech}


def _api(client: Client, slug: str, **params: str) -> dict[str, Any]:
    today = clock.today().isoformat()
    answer = client.get(f"/api/v1/reports/{slug}", {"from": today, "to": today, **params})
    assert answer.status_code == 200, answer.content
    return answer.json()  # type: ignore[no-any-return]


def _rows(body: dict[str, Any]) -> list[dict[str, Any]]:
    keys = [c["key"] for c in body["columns"]]
    return [dict(zip(keys, row, strict=True)) for row in body["rows"]]


def test_every_report_is_registered() -> None:
    assert {r.slug for r in reports.all_reports()} >= set(SLUGS)


def test_the_reports_add_up_by_hand(world: World, data: dict[str, Any]) -> None:
    boss = Client()
    boss.login(username="boss", password=PASSWORD)
    causes = {r["cause"]: (r["count"], r["share"]) for r in _rows(_api(boss, "fault-causes"))}
    assert causes == {"灯泡/光源": (2, "66.67"), "主板/电源板": (1, "33.33")}
    items = _rows(_api(boss, "service-items"))
    repair = next(r for r in items if r["item"] == "维修")
    # requests 0 and 1 are in warranty (free); request 2 is out of warranty: parts 3 × ¥50 + labour ¥40
    assert (repair["count"], repair["completed"], repair["in_time"], repair["amount"]) == (4, 3, "100.00", "190.00")
    settled = _api(boss, "settlement-details")
    assert settled["count"] == 3 and settled["total"][-1] == "190.00"
    parts = _api(boss, "parts-details")
    assert parts["count"] == 3
    total = dict(zip([c["key"] for c in parts["columns"]], parts["total"], strict=True))
    assert total["quantity"] == 6 and total["amount"] == "300.00"  # 1 + 2 + 3 lamps at ¥50
    counts = {(r["serial_no"], r["count"]) for r in _rows(_api(boss, "repair-counts"))}
    assert counts == {("SN-1", 2), ("SN-2", 1)}
    reasons = {r["reason"]: (r["count"], r["our_fault"]) for r in _rows(_api(boss, "complaint-reasons"))}
    assert reasons == {"产品质量": (1, 1), "尚未解决": (1, 0)}
    # the warranty of the first unit (bought 30 days ago) ends in 11 months
    ends = clock.today() - dt.timedelta(days=30)
    expiry = _rows(
        _api(
            boss,
            "warranty-expiry",
            **{"from": clock.today().isoformat(), "to": (clock.today() + dt.timedelta(days=365)).isoformat()},
        )
    )
    assert {r["serial_no"] for r in expiry} == {"SN-1"} and all(r["bought"] == ends.isoformat() for r in expiry)


def test_scope_and_filters(world: World, data: dict[str, Any]) -> None:
    lead_b = _person(Position.TEAM_LEAD, world.team_b, "lead_b")
    client = Client()
    client.login(username=lead_b.username, password=PASSWORD)
    assert _api(client, "settlement-details")["count"] == 0  # team A's settlements are not theirs
    boss = Client()
    boss.login(username="boss", password=PASSWORD)
    assert _api(boss, "settlement-details", shop=str(world.shop_b.pk))["count"] == 0
    assert _api(boss, "settlement-details", team=str(world.team_a.pk))["count"] == 3
    page = _api(boss, "settlement-details", limit="2", offset="2")
    assert page["count"] == 3 and len(page["rows"]) == 1


def test_coverage_of_member_customers(world: World, data: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from .factories import CustomerFactory, OrderFactory

    morning = dt.datetime.combine(clock.today(), dt.time(9, 30), tzinfo=clock.local_tz())
    monkeypatch.setattr(clock, "now", lambda: morning)  # the visit is scheduled at 10:00 and made then

    agent = Staff.objects.get(user=world.agent_a)
    members = []
    for i in range(3):
        c = CustomerFactory(nick=f"vip{i}", member_level="VIP")
        OrderFactory(shop=world.shop_a, customer=c)
        members.append(c)
    care.assignments_confirm(actor=world.supervisor, pairs=[(c, agent) for c in members])
    visit = care.visit_schedule(
        actor=world.agent_a,
        customer=members[0],
        agent=agent,
        at=dt.datetime.combine(clock.today(), dt.time(10, 0), tzinfo=clock.local_tz()),
    )
    monkeypatch.setattr(clock, "now", lambda: morning + dt.timedelta(minutes=40))
    care.visit_record(actor=world.agent_a, visit=visit, opinion="好", satisfaction=5)
    boss = Client()
    boss.login(username="boss", password=PASSWORD)
    rows = _rows(_api(boss, "return-visit-coverage"))
    assert rows == [{"agent": agent.name, "members": 3, "visited": 1, "coverage": "33.33"}]
    assert Assignment.objects.filter(active=True).count() == 3


def test_pages_charts_and_exports(world: World, data: dict[str, Any]) -> None:
    boss = Client()
    boss.login(username="boss", password=PASSWORD)
    assert all(slug in boss.get("/reports/").content.decode() for slug in SLUGS)
    for slug in SLUGS:
        page = boss.get(f"/reports/{slug}/")
        assert page.status_code == 200, slug
    chart = boss.get("/reports/fault-causes/").content.decode()
    assert 'data-testid="report-chart"' in chart and "灯泡/光源" in chart
    xlsx = boss.get("/reports/settlement-details/?format=xlsx")
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    sheet = book.active
    assert sheet is not None and sheet.max_row == 5  # header + 3 + total
    assert sheet.cell(5, 11).value == 190.0  # a number, not text
    csv = boss.get("/reports/fault-causes/?format=csv")
    assert csv["Content-Type"].startswith("text/csv") and "灯泡/光源" in csv.content.decode("utf-8-sig")


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-13-01"},
        {"from": "2026-11-01", "to": "2026-10-01"},
        {"from": "2020-01-01", "to": "2026-01-01"},
        {"shop": "abc"},
        {"limit": "0"},
        {"limit": "999999"},
        {"offset": "-1"},
        {"from": "9999-01-01"},
    ],
)
def test_malformed_parameters_are_400(world: World, params: dict[str, str]) -> None:
    boss = Client()
    boss.login(username="boss", password=PASSWORD)
    answer = boss.get("/api/v1/reports/settlement-details", params)
    assert answer.status_code == 400 and "error" in answer.json()
    assert boss.get("/reports/settlement-details/", params).status_code == 400
    assert boss.get("/api/v1/reports/no-such-report").status_code == 404


def test_the_report_index_lists_every_modules_report_pages(world: Any) -> None:
    """Issue 19 §6 (begun): "全部报表" listed only the registry's reports — not the agents' KPIs, the
    weekly after-sales report or the attendance statement. Every link opens for the reader; the
    statement is listed only to whom pay is visible."""
    import re

    boss = Client()
    boss.login(username="boss", password=PASSWORD)
    page = boss.get("/reports/").content.decode()
    for url in ("/desk/kpis/", "/aftersales/report/", "/attendance/statement/", "/attendance/publication/"):
        assert f'href="{url}"' in page, url
    agent = Client()
    agent.login(username="agent_a", password=PASSWORD)
    mine = agent.get("/reports/").content.decode()
    assert 'href="/attendance/statement/"' not in mine and 'href="/desk/summary/"' not in mine
    for href in set(re.findall(r'href="(/(?:desk|aftersales|attendance|reports)/[^"?#]*)"', mine)):
        assert agent.get(href).status_code == 200, href
