"""Real browser: Debian's chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ..conftest import PASSWORD, World

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_sign_in_and_open_an_order(world: World, live_server, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server.url}/orders/")
    assert "/login/" in page.url
    page.fill("input[name=username]", "lead_a")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/orders/")
    table = page.locator("[data-testid=orders-table]")
    assert world.order_a.order_no in table.inner_text()
    assert world.order_b.order_no not in table.inner_text()  # team B is out of scope
    # htmx filter: changing the status select swaps the results without a full reload
    page.select_option("select[name=status]", "shipped")
    page.wait_for_function(f"() => !document.querySelector('#results').innerText.includes('{world.order_a.order_no}')")
    page.select_option("select[name=status]", "")
    page.wait_for_selector(f"text={world.order_a.order_no}")
    page.click(f"text={world.order_a.order_no}")
    page.wait_for_url(f"{live_server.url}/orders/{world.order_a.pk}/")
    assert page.locator("[data-testid=order-no]").inner_text() == world.order_a.order_no
    assert "时间线" in page.content()  # zh-Hans by default
    shot = Path(os.environ.get("KEFU_SCREENSHOTS", "var/screenshots"))
    shot.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot / "order.png"), full_page=True)


def _sign_in(page, live_server, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_team_lead_edits_the_roster_in_place(world: World, live_server, page) -> None:  # type: ignore[no-untyped-def]
    """In place (no reload), the person's month summary follows the edit, a past day asks first
    (cancel changes nothing), rest and "not scheduled" look different, and names and day headers
    stay in view while the grid scrolls."""
    import datetime as dt

    from kefu.core import clock
    from kefu.org.models import Staff
    from kefu.workforce.models import RosterEntry

    agent = Staff.objects.get(user=world.agent_a)
    today = clock.today()
    past = today - dt.timedelta(days=1) if today.day > 1 else today
    future = today + dt.timedelta(days=1) if (today + dt.timedelta(days=1)).month == today.month else today
    _sign_in(page, live_server, "lead_a")
    page.set_viewport_size({"width": 390, "height": 700})
    page.goto(f"{live_server.url}/attendance/team/?team={world.team_a.pk}&month={today:%Y-%m}")
    page.evaluate("window.__marker = 1")  # survives only if the page is not reloaded
    summary = page.locator(f"#sum-{agent.pk} td >> nth=1")  # scheduled days
    assert summary.inner_text().strip() == "0"
    cell = page.get_by_label(f"{agent.name} {future:%m-%d}")
    assert "s-none" in (cell.get_attribute("class") or "")
    cell.select_option("night")
    page.wait_for_function(f"() => document.querySelector('#sum-{agent.pk} td:nth-child(2)').innerText.trim() === '1'")
    assert page.evaluate("window.__marker") == 1
    assert RosterEntry.objects.get(staff=agent, date=future).shift_code == "night"
    # a rest day; the cell was just swapped by the previous edit, so wait until the new select is
    # in place (its value is the night shift) before changing it again
    page.wait_for_selector(f"select[aria-label='{agent.name} {future:%m-%d}'].s-night")
    page.wait_for_timeout(300)
    page.get_by_label(f"{agent.name} {future:%m-%d}").select_option("")
    page.wait_for_selector(f"select[aria-label='{agent.name} {future:%m-%d}'].s-rest")
    if past != today:
        questions: list[str] = []
        page.once("dialog", lambda d: (questions.append(d.message), d.dismiss()))
        page.get_by_label(f"{agent.name} {past:%m-%d}").select_option("day")
        page.wait_for_timeout(300)
        assert questions and "过去" in questions[0]
        assert not RosterEntry.objects.filter(staff=agent, date=past).exists()  # cancelled: nothing sent
        page.once("dialog", lambda d: d.accept())
        page.get_by_label(f"{agent.name} {past:%m-%d}").select_option("day")
        page.wait_for_selector(f"select[aria-label='{agent.name} {past:%m-%d}'].s-day")
        assert RosterEntry.objects.get(staff=agent, date=past).shift_code == "day"
    # sticky: scroll the grid right and down; the name and the day header stay where they were
    name = page.locator("[data-testid=roster] tbody th >> nth=0")
    header = page.locator("[data-testid=roster] thead th >> nth=5")
    before_name, before_header = name.bounding_box(), header.bounding_box()
    page.evaluate("document.querySelector('.roster-scroll').scrollLeft = 600")
    after_name = name.bounding_box()
    assert before_name and after_name and abs(after_name["x"] - before_name["x"]) < 1
    assert before_header is not None


def test_wrong_item_case_from_order_to_refund_approved_and_closed(
    world: World,
    live_server,
    page,  # type: ignore[no-untyped-def]
    settings,
    tmp_path,
) -> None:
    from kefu.aftersales.models import Case, MoneyLine

    settings.MEDIA_ROOT = tmp_path
    _sign_in(page, live_server, "boss")
    page.goto(f"{live_server.url}/orders/{world.order_a.pk}/")
    page.click("[data-testid=open-case]")
    page.select_option("select[name=case_type]", "wrong_item")
    page.fill("input[name=summary]", "收到的颜色不对")
    page.fill("input[name=line_value]", "39.00")
    page.fill("input[name=wrong_item_value]", "8.00")
    page.select_option("select[name=shipped_matches_order]", "no")
    page.click("button[type=submit].primary")
    page.wait_for_selector("[data-testid=proposals]")
    assert "R-AS-3" in page.inner_text("[data-testid=proposals]")
    page.click("[data-testid=step-verify_photo]")
    page.wait_for_selector("[data-testid=step-verify_photo] >> text=☑")
    page.click("[data-testid=choose-keep_discount]")
    line = MoneyLine.objects.get(case__order=world.order_a)
    page.click(f"[data-testid=approve-{line.pk}]")
    page.wait_for_selector("text=已批准")
    # the status follows the work: the approved resolution resolved the case
    page.wait_for_selector("[data-testid=case-status]:has-text('已解决')")
    page.click("button:has-text('已关闭')")
    page.wait_for_selector("[data-testid=case-status]:has-text('已关闭')")
    case = Case.objects.get(order=world.order_a)
    assert case.category == "closed" and case.resolution == "keep_discount"
    assert MoneyLine.objects.get(pk=line.pk).status == "approved"


def test_pages_work_under_the_content_security_policy(world: World, live_server, page) -> None:  # type: ignore[no-untyped-def]
    """No inline script is allowed: the language switcher (a select that submits itself) and htmx
    still work, and the browser reports no CSP violation."""
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    _sign_in(page, live_server, "lead_a")
    page.goto(f"{live_server.url}/orders/")
    assert "订单" in page.content()
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    page.wait_for_selector("text=Orders")
    page.select_option("select[name=status]", "shipped")  # htmx under the CSP
    page.wait_for_function(f"() => !document.querySelector('#results').innerText.includes('{world.order_a.order_no}')")
    assert violations == [], violations


def test_refusals_are_pages_in_the_layout(world: World, live_server, page) -> None:  # type: ignore[no-untyped-def]
    _sign_in(page, live_server, "agent_a")
    missing = page.goto(f"{live_server.url}/orders/{world.order_b.pk}/")  # team B's order: as absent
    assert missing is not None and missing.status == 404
    assert page.locator("[data-testid=error]").is_visible() and page.locator("aside.sidebar nav").count() == 1
    assert "不存在" in page.locator("[data-testid=error]").inner_text()
    forbidden = page.goto(f"{live_server.url}/policy/new/")
    assert forbidden is not None and forbidden.status == 403
    assert "无权" in page.locator("[data-testid=error]").inner_text()
    page.click("[data-testid=error] a >> nth=1")  # the way back: home
    page.wait_for_url(f"{live_server.url}/")


# The elements that stick out on the right (for the failure message).
WIDEST = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""

MAIN_PAGES = [
    "/",
    "/aftersales/",
    "/orders/",
    "/attendance/team/",
    "/attendance/",
    "/attendance/points/",
    "/attendance/statement/",
    "/aftersales/report/",
    "/imports/",
    "/policy/",
    "/staff/",
    "/search/?q=buyer_a",
    "/workflow/statuses/",
    "/desk/",
    "/desk/chases/",
    "/desk/knowledge/?q=%E7%99%BD%E8%89%B2",
    "/service/",
    "/service/day/",
    "/service/agreements/",
    "/service/parts/",
    "/care/complaints/",
    "/care/visits/",
    "/care/assignment/",
    "/reports/",
    "/reports/fault-causes/",
    "/reports/settlement-details/",
    "/reports/shop-health/",
    "/aftersales/refunds/",
    "/outbox/",
]


def test_main_pages_fit_a_phone_and_a_laptop(world: World, live_server, page) -> None:  # type: ignore[no-untyped-def]
    """At 390 px nothing scrolls the whole page sideways (tables scroll inside their box) and the
    navigation is a menu; at 1366 px the sidebar shows. Screenshots of both land in
    var/screenshots/ for the eye."""
    from kefu.aftersales import services as aftersales

    world.order_a.province = "广东"
    world.order_a.save()
    aftersales.case_open(actor=world.agent_a, case_type="wrong_item", order=world.order_a, summary="发错颜色")
    from kefu.care.services import complaint_create
    from kefu.org.models import Position, Staff

    from ..conftest import _person

    for i in range(15):  # a long list of agents in the assignment's selects
        _person(Position.AFTERSALES, world.team_a, f"agent_long_{i}")
    Staff.objects.filter(user__username__startswith="agent_long_").update(name="很长名字的售后客服人员")
    complaint_create(
        actor=world.agent_a, shop=world.shop_a, contact_name="周", text="什么破服务", customer=world.customer_a
    )
    shots = Path(os.environ.get("KEFU_SCREENSHOTS", "var/screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    _sign_in(page, live_server, "boss")
    from kefu.care.models import Complaint

    extra = [f"/care/complaints/{Complaint.objects.get().pk}/", "/aftersales/new/"]
    for width in (390, 1366):
        page.set_viewport_size({"width": width, "height": 800})
        for url in [*MAIN_PAGES, *extra]:
            response = page.goto(f"{live_server.url}{url}")
            assert response is not None and response.status == 200, url
            overflow = page.evaluate(
                "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            culprits = page.evaluate(WIDEST) if overflow > 0 else []
            assert overflow <= 0, f"{url} scrolls sideways by {overflow}px at {width}px: {culprits}"
            name = url.strip("/").replace("/", "_").replace("?", "_").replace("=", "_") or "home"
            page.screenshot(path=str(shots / f"{width}-{name}.png"), full_page=True)
        sidebar_visible = page.locator("aside.sidebar").is_visible()
        assert sidebar_visible == (width == 1366)
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{live_server.url}/aftersales/")
    page.click("[data-menu]")
    assert page.locator("aside.sidebar").is_visible()
    page.keyboard.press("Escape")
    assert not page.locator("aside.sidebar").is_visible()


def test_export_the_filtered_case_list(world: World, live_server, page) -> None:  # type: ignore[no-untyped-def]
    """Filter the inbox in place (htmx), then export: the file holds what the filter shows."""
    import io

    import openpyxl

    from kefu.aftersales import services as aftersales

    world.order_a.province = "广东"
    world.order_a.save()
    wrong = aftersales.case_open(actor=world.agent_a, case_type="wrong_item", order=world.order_a)
    defect = aftersales.case_open(actor=world.agent_a, case_type="defect", order=world.order_a)
    _sign_in(page, live_server, "lead_a")
    page.goto(f"{live_server.url}/aftersales/")
    assert defect.number in page.locator("#results").inner_text()
    page.select_option("select[name=type]", "wrong_item")
    page.wait_for_function(f"() => !document.querySelector('#results').innerText.includes('{defect.number}')")
    with page.expect_download() as info:
        page.click("[data-testid=export]")
    path = info.value.path()
    assert path is not None
    book = openpyxl.load_workbook(io.BytesIO(Path(path).read_bytes()), read_only=True)
    numbers = [row[0] for row in book.active.iter_rows(min_row=2, values_only=True)]
    assert numbers == [wrong.number]


def test_policy_preview_shows_a_changed_statement(world: World, live_server, page) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    from kefu.core import clock
    from kefu.org.models import Staff
    from kefu.workforce.models import Punch, RosterEntry

    agent = Staff.objects.get(user=world.agent_a)
    day = (clock.today().replace(day=1) - dt.timedelta(days=1)).replace(day=3)
    RosterEntry.objects.create(staff=agent, date=day, shift_code="day")
    Punch.objects.create(staff=agent, at=clock.make_aware(dt.datetime.combine(day, dt.time(8, 20))), kind="on")
    Punch.objects.create(staff=agent, at=clock.make_aware(dt.datetime.combine(day, dt.time(17, 40))), kind="off")
    _sign_in(page, live_server, "boss")
    page.goto(f"{live_server.url}/policy/new/")
    field = page.locator("[id='f-attendance.full_attendance_bonus']")
    field.fill(str(float(field.input_value()) + 50))
    page.click("[data-testid=preview]")
    preview = page.locator("[data-testid=policy-preview]")
    preview.wait_for()
    row = page.locator("[data-testid=preview-person]", has_text=agent.name)
    assert "+¥50.00" in row.inner_text()
    assert page.locator("[data-testid=pay-difference]").inner_text().startswith("¥")
