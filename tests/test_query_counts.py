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
