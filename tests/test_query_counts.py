"""List pages run a constant number of queries however many rows they show (no N+1)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from .conftest import PASSWORD, World
from .factories import CustomerFactory, OrderFactory, OrderLineFactory, ProductFactory, StaffFactory

pytestmark = pytest.mark.django_db

PAGES = [
    "/orders/",
    "/orders/?status=paid&province=江苏",
    "/customers/",
    "/products/",
    "/staff/",
    "/shops/",
    "/teams/",
    "/imports/",
    "/api/v1/orders",
    "/api/v1/customers",
    "/api/v1/products",
    "/api/v1/staff",
    "/api/v1/teams",
]


def _counts(client: Client) -> dict[str, int]:
    out = {}
    for page in PAGES:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(page).status_code == 200, page
        out[page] = len(ctx.captured_queries)
    return out


def test_list_pages_have_constant_query_counts(world: World) -> None:
    client = Client()
    client.login(username="boss", password=PASSWORD)
    client.get("/")  # warm caches (content types, session)
    few = _counts(client)
    for _ in range(30):
        order = OrderFactory(shop=world.shop_a, customer=CustomerFactory())
        OrderLineFactory(order=order)
        ProductFactory(shop=world.shop_b)
        StaffFactory(team=world.team_a)
    many = _counts(client)
    assert many == few
    assert max(few.values()) <= 12, few


def test_home_shows_what_waits_for_the_user(world: World) -> None:
    from decimal import Decimal

    from kefu.aftersales import services

    case = services.case_open(actor=world.agent_a, case_type="defect", order=world.order_a)
    services.money_post(actor=world.agent_a, case=case, kind="refund", amount=Decimal("5"))
    boss = Client()
    boss.login(username="boss", password=PASSWORD)
    todo = {item["label"]: item["n"] for item in boss.get("/").context["todo"]}
    assert todo["待审批的退款"] == 1
    agent = Client()
    agent.login(username="agent_a", password=PASSWORD)
    mine = {item["label"]: item["n"] for item in agent.get("/").context["todo"]}
    assert mine["我的未结售后工单"] == 1 and "待审批的退款" not in mine


def test_after_sales_pages_have_constant_query_counts(world: World, settings: Any, tmp_path: Any) -> None:
    """The inbox, the refund queue (with evidence and order amounts), the audit log with its
    sentences and names, the search page and the case page stay constant as cases multiply."""
    from decimal import Decimal

    from kefu.aftersales import services

    settings.MEDIA_ROOT = tmp_path
    pages = ["/aftersales/", "/aftersales/refunds/", "/audit/", "/search/?q=buyer_a", "/workflow/statuses/"]

    def counts(client: Client) -> dict[str, int]:
        out = {}
        for page in pages:
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(page).status_code == 200, page
            out[page] = len(ctx.captured_queries)
        return out

    def add_cases(n: int) -> None:
        for _ in range(n):
            case = services.case_open(actor=world.agent_a, case_type="defect", order=world.order_a, summary="划痕")
            services.money_post(actor=world.agent_a, case=case, kind="refund", amount=Decimal("5"))
            services.evidence_add(
                actor=world.agent_a, case=case, kind="photo", name="a.png", data=b"\x89PNG\r\n\x1a\n" + b"\0" * 8
            )

    boss = Client()
    boss.login(username="boss", password=PASSWORD)
    add_cases(2)
    boss.get("/")
    few = counts(boss)
    add_cases(15)
    assert counts(boss) == few


def test_the_team_leads_home_lists_the_work_not_only_counts(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lead's home shows the first open cases (nearest deadline first) and this month's
    attendance exceptions by name and date, each linking to the record; the page's query count does
    not grow with the number of cases."""
    import datetime as dt

    from kefu.aftersales import services
    from kefu.core import clock
    from kefu.org.models import Staff
    from kefu.workforce.services import roster_set

    fixed = dt.datetime(2026, 11, 20, 12, 0, tzinfo=clock.local_tz())
    monkeypatch.setattr(clock, "now", lambda: fixed)
    agent = Staff.objects.get(user=world.agent_a)
    roster_set(actor=world.supervisor, staff=agent, date=dt.date(2026, 11, 10), shift_code="day")  # no punches
    first = services.case_open(actor=world.agent_a, case_type="defect", order=world.order_a, summary="划痕")
    lead = Client()
    lead.login(username="lead_a", password=PASSWORD)

    def cards() -> dict[str, Any]:
        return {item["key"]: item for item in lead.get("/").context["todo"]}

    home = cards()
    assert [row.title for row in home["cases_open"]["rows"]] == [first.number]
    assert home["cases_open"]["rows"][0].url == f"/aftersales/{first.pk}/"
    exceptions = home["team_exceptions"]
    assert exceptions["n"] == 1 and exceptions["rows"][0].title == f"11-10 {agent.name}"
    assert exceptions["rows"][0].detail.startswith("旷工")
    page = lead.get("/").content.decode()
    assert first.number in page and f"11-10 {agent.name}" in page
    team_page = lead.get(exceptions["url"]).content.decode()
    assert 'id="exceptions"' in team_page and agent.name in team_page

    with CaptureQueriesContext(connection) as few:
        lead.get("/")
    for _ in range(12):
        services.case_open(actor=world.agent_a, case_type="defect", order=world.order_a, summary="划痕")
    with CaptureQueriesContext(connection) as many:
        home = cards()
    assert len(home["cases_open"]["rows"]) == 5 and home["cases_open"]["n"] == 13
    assert len(many.captured_queries) == len(few.captured_queries)
