"""Field service in Debian's chromium: one request from intake to a signed report, a settlement and
a return visit; the technician works the visit on a 390 px phone (checklist, parts, signature drawn
with the pointer)."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

import pytest

from kefu.core import clock
from kefu.org.models import Position, Staff
from kefu.service.models import Part, ServiceRequest

from ..conftest import World, _person
from .test_browser import _sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def test_a_request_from_intake_to_the_return_visit(world: World, live_server, page, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # the live server runs in this process: the whole walk happens at 10:00, outside the customers'
    # rest hours (R-CARE-3), whatever time CI runs
    fixed = dt.datetime.combine(clock.today(), dt.time(10, 0), tzinfo=clock.local_tz())
    monkeypatch.setattr(clock, "now", lambda: fixed)
    tech = _person(Position.TECHNICIAN, world.team_a, "tech")
    Staff.objects.filter(user=tech).update(name="罗工", phone="13905140301")
    lamp = Part.objects.create(code="LAMP", name="投影灯泡", price=Decimal("380.00"), on_hand=0)
    from kefu.service.services import stock_receive

    stock_receive(actor=world.supervisor, part=lamp, quantity=2)
    shots = Path(os.environ.get("KEFU_SCREENSHOTS", "var/screenshots"))
    shots.mkdir(parents=True, exist_ok=True)

    # the team lead takes the call, evaluates the warranty and books the technician
    _sign_in(page, live_server, "lead_a")
    page.goto(f"{live_server.url}/service/new/")
    form = page.locator("[data-testid=service-new]")
    form.locator("select[name=channel]").select_option("phone")
    form.locator("input[name=contact_name]").fill("李女士")
    form.locator("input[name=contact_phone]").fill("13912345678")
    form.locator("input[name=address]").fill("扬州市邗江区文昌西路 1 号")
    form.locator("input[name=product]").fill("投影机 X1")
    form.locator("input[name=serial_no]").fill("SN-0001")
    form.locator("input[name=purchase_date]").fill((clock.today() - dt.timedelta(days=100)).isoformat())
    form.locator("textarea[name=fault]").fill("开机无画面")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("[data-testid=request-status]")
    item = ServiceRequest.objects.get(contact_name="李女士")
    assert page.locator("[data-testid=request-status]").inner_text() == "待评估"
    page.locator("[data-testid=evaluate] button[type=submit]").click()
    page.wait_for_selector("[data-testid=verdict]")
    assert "免费维修" in page.locator("[data-testid=verdict]").inner_text()
    appoint = page.locator("[data-testid=appoint]")
    appoint.locator("select[name=technician]").select_option(label="罗工 (0 单未完成)")
    when = (clock.now() + dt.timedelta(hours=2)).astimezone(clock.local_tz())
    appoint.locator("input[name=at]").fill(f"{when:%Y-%m-%dT%H:%M}")
    appoint.locator("button[type=submit]").click()
    page.wait_for_selector("text=已预约")

    # the technician on a phone: the day's visits with a navigation link, then the visit itself
    page.context.clear_cookies()
    page.set_viewport_size({"width": 390, "height": 800})
    _sign_in(page, live_server, "tech")
    page.goto(f"{live_server.url}/service/day/?date={when:%Y-%m-%d}")
    visits = page.locator("[data-testid=day-visits]")
    assert item.number in visits.inner_text() and "uri.amap.com" in (
        visits.locator("[data-testid=navigate]").get_attribute("href") or ""
    )
    assert page.evaluate(OVERFLOW) <= 0
    page.click(f"text={item.number}")
    page.locator("[data-testid=arrive] button").click()
    page.wait_for_selector("[data-testid=diagnose]")
    # issue 18: a thumb-sized tick box, ticked in place — no reload, no jump to the top
    first = page.locator("[data-testid=visit-checklist] li >> nth=0").locator("button")
    box = first.bounding_box()
    assert box is not None and box["width"] >= 44 and box["height"] >= 44, box
    page.evaluate("() => { window.__notReloaded = true; window.scrollTo(0, 300); }")
    first.click()
    page.wait_for_selector("[data-testid=visit-checklist] li >> nth=0 >> text=☑")
    assert page.evaluate("() => window.__notReloaded === true")  # the page was not reloaded
    assert page.evaluate("() => window.scrollY") > 0
    assert page.evaluate(OVERFLOW) <= 0  # the visit page (diagnosis, findings, bring-in) fits the phone
    diagnose = page.locator("[data-testid=diagnose]")
    diagnose.locator("textarea[name=diagnosis]").fill("灯泡老化")
    diagnose.locator("select[name=fault_cause]").select_option("lamp")
    diagnose.locator("input[name=consent]").check()
    diagnose.locator("button[type=submit]").click()
    page.wait_for_selector("[data-testid=parts-issue]")
    issue = page.locator("[data-testid=parts-issue]")
    issue.locator("select[name=part]").select_option(str(lamp.pk))
    issue.locator("button[value=issue]").click()
    page.wait_for_selector("[data-testid=parts] >> text=投影灯泡")
    # the customer signs with a finger on the canvas
    canvas = page.locator("canvas[data-signature]")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 20, box["y"] + 30)
    page.mouse.down()
    for step in range(1, 8):
        page.mouse.move(box["x"] + 20 + step * 30, box["y"] + 30 + (step % 2) * 25)
    page.mouse.up()
    assert page.evaluate(OVERFLOW) <= 0
    page.screenshot(path=str(shots / "390-service-visit.png"), full_page=True)
    page.locator("[data-testid=sign] button[type=submit]").click()
    page.wait_for_selector("[data-testid=signed]")
    item.refresh_from_db()
    assert item.signed_by == "李女士" and item.signature.startswith("M") and item.signature.count("L") >= 5
    report = page.request.get(f"{live_server.url}/service/{item.pk}/report.pdf")
    assert report.status == 200 and report.body().startswith(b"%PDF")

    # back at the office: settlement and the return visit
    page.context.clear_cookies()
    page.set_viewport_size({"width": 1366, "height": 800})
    _sign_in(page, live_server, "lead_a")
    page.goto(f"{live_server.url}/service/{item.pk}/")
    settle = page.locator("[data-testid=settle]")
    settle.locator("input[name=labour]").fill("80.00")
    settle.locator("button[type=submit]").click()
    page.wait_for_selector("[data-testid=settlement]")
    assert "¥0.00" in page.locator("[data-testid=settlement]").inner_text()  # free under warranty
    visit = page.locator("[data-testid=return-visit]")
    visit.locator("select[name=satisfaction]").select_option("5")
    visit.locator("textarea[name=notes]").fill("机器正常")
    visit.locator("button[type=submit]").click()
    page.wait_for_selector("[data-testid=visited]")
    item.refresh_from_db()
    assert item.status.category == "closed" and item.satisfaction == 5
    assert page.locator("[data-testid=request-status]").inner_text() == "已回访关闭"
    page.screenshot(path=str(shots / "1366-service-request.png"), full_page=True)
