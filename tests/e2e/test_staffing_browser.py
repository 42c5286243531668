"""Issue 22 in Debian's chromium, as the team lead's morning: tomorrow's hourly requirement against
the roster, next month's proposed roster taken (one cell changed, then published), and yesterday's
inspection drawn, a hit confirmed and a conversation marked read — at 1366 px and 390 px."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kefu.core import clock
from kefu.desk import services as desk
from kefu.org.models import Staff
from kefu.quality.models import Hit, Sample
from kefu.staffing.models import ProposalStatus, RosterProposal
from kefu.workforce.models import RosterEntry

from ..conftest import World
from .test_browser import _sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def _history(world: World) -> None:
    """Five buyers at 10:00 on each of the last four same weekdays as tomorrow, and yesterday one
    buyer answered late without a greeting and with a forbidden word."""
    k1 = Staff.objects.get(user=world.agent_a).employee_no
    tomorrow = clock.today() + dt.timedelta(days=1)
    items: list[dict[str, Any]] = []

    def add(ext: str, buyer: str, day: dt.date, hhmm: str, direction: str, text: str) -> None:
        item = {
            "external_id": ext,
            "shop": "hdc",
            "buyer": buyer,
            "direction": direction,
            "kind": "text",
            "sent_at": f"{day.isoformat()}T{hhmm}:00+08:00",
            "text": text,
        }
        if direction == "out":
            item["agent"] = k1
        items.append(item)

    for week in range(1, 5):
        day = tomorrow - dt.timedelta(days=7 * week)
        for b in range(5):
            add(f"w{week}b{b}i", f"w{b}", day, f"10:0{b}", "in", "在吗")
            add(f"w{week}b{b}o", f"w{b}", day, f"10:1{b}", "out", "您好,在的")
    yesterday = clock.today() - dt.timedelta(days=1)
    add("y1", "yb", yesterday, "11:00", "in", "这个什么时候发货")
    add(
        "y2",
        "yb",
        yesterday,
        "11:09",
        "out",
        "不知道,你自己看",
    )
    channel = desk.channel_for_pusher(world.lead_a)
    assert channel is not None
    assert not desk.messages_ingest(actor=world.lead_a, channel=channel, items=items).failed


def test_the_team_leads_morning_on_the_pages(world: World, live_server, page) -> None:  # type: ignore[no-untyped-def]
    _history(world)
    _sign_in(page, live_server, "lead_a")
    # 1. tomorrow's requirement against the roster (nobody rostered yet: the peak hour is short)
    page.goto(f"{live_server.url}/staffing/")
    page.wait_for_selector("[data-testid=requirement-table]")
    table = page.locator("[data-testid=requirement-table]").inner_text()
    assert "10:00" in table
    assert "人手不足" in page.locator("[data-testid=short-hours]").inner_text()
    assert page.evaluate(OVERFLOW) <= 0
    # 2. next month's roster proposed, one cell changed, published
    page.locator("[data-testid=propose]").click()
    page.wait_for_selector("[data-testid=proposal-grid]", timeout=60_000)
    proposal = RosterProposal.objects.get()
    select = page.locator("[data-testid=proposal-grid] select").first
    name = select.get_attribute("name")
    assert name is not None
    current = select.input_value()
    target = "night" if current != "night" else "day"
    select.select_option(target)
    page.locator("[data-testid=save]").click()
    page.wait_for_selector("[data-testid=proposal-grid]")
    proposal.refresh_from_db()
    _c, staff_id, iso = name.split("-", 2)
    assert proposal.cells[staff_id][iso] == target
    page.locator("[data-testid=publish]").click()
    page.wait_for_selector("text=已发布")
    proposal.refresh_from_db()
    assert proposal.state == ProposalStatus.PUBLISHED
    assert RosterEntry.objects.get(staff_id=int(staff_id), date=dt.date.fromisoformat(iso)).shift_code == target
    assert page.evaluate(OVERFLOW) <= 0
    # 3. yesterday's inspection: draw, confirm the forbidden word, mark the conversation read
    page.goto(f"{live_server.url}/quality/")
    page.locator("[data-testid=draw]").click()
    page.wait_for_selector("[data-testid^=sample-]")
    forbidden = Hit.objects.get(kind="forbidden_word")
    page.locator(f"[data-testid=confirm-{forbidden.pk}]").click()
    page.wait_for_selector(f"[data-testid=qa-hit-{forbidden.pk}]")
    forbidden.refresh_from_db()
    assert forbidden.verdict == "confirmed"
    sample = Sample.objects.get()
    page.locator(f"[data-testid=read-{sample.pk}]").click()
    page.wait_for_selector("text=已读")
    sample.refresh_from_db()
    assert sample.reviewed_at is not None
    # every page holds at 390 px
    page.set_viewport_size({"width": 390, "height": 800})
    for path in ("/staffing/", f"/staffing/proposals/{proposal.pk}/", "/quality/"):
        page.goto(f"{live_server.url}{path}")
        assert page.evaluate(OVERFLOW) <= 0, path
