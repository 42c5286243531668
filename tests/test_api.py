"""The JSON API: error shape, cursor pagination, import, OpenAPI."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from kefu.commerce.models import Order
from kefu.web.management.commands.openapi import SNAPSHOT, current_schema

from .conftest import PASSWORD, World
from .factories import OrderFactory
from .samples import legacy_csv, legacy_row

pytestmark = pytest.mark.django_db


def _client(username: str) -> Client:
    client = Client()
    client.login(username=username, password=PASSWORD)
    return client


def test_cursor_pagination_walks_every_order_once(world: World) -> None:
    for _ in range(7):
        OrderFactory(shop=world.shop_a)
    client = _client("lead_a")
    seen: list[str] = []
    url = "/api/v1/orders?limit=3"
    while url:
        page = client.get(url).json()
        seen += [o["order_no"] for o in page["items"]]
        url = f"/api/v1/orders?limit=3&cursor={page['next_cursor']}" if page["next_cursor"] else ""
    expected = list(
        Order.objects.filter(shop=world.shop_a).order_by("-ordered_at", "-id").values_list("order_no", flat=True)
    )
    assert seen == expected and len(seen) == 8


def test_filters_and_detail(world: World) -> None:
    client = _client("boss")
    OrderFactory(shop=world.shop_b, status="shipped", province="新疆")
    data = client.get("/api/v1/orders?status=shipped&province=新疆").json()
    assert [o["province"] for o in data["items"]] == ["新疆"]
    detail = client.get(f"/api/v1/orders/{world.order_a.pk}").json()
    assert detail["order_no"] == world.order_a.order_no and len(detail["lines"]) == 1
    assert detail["paid_amount"] == "100.00"


def test_one_error_shape(world: World) -> None:
    client = _client("lead_a")
    assert client.get(f"/api/v1/orders/{world.order_b.pk}").json() == {
        "error": {"code": "not_found", "message": "未找到", "details": None}
    }
    bad = client.get("/api/v1/orders?cursor=%%%")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_cursor"
    invalid = client.get("/api/v1/orders?limit=abc")
    assert invalid.status_code == 400 and invalid.json()["error"]["code"] == "validation_error"


def test_import_orders_through_the_api(world: World) -> None:
    client = _client("lead_a")
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("ExportOrderList.csv", legacy_csv([legacy_row("8001"), legacy_row("8002", status="?")]))
    response = client.post("/api/v1/orders/import", {"shop": world.shop_a.pk, "file": upload})
    assert response.status_code == 200
    body = response.json()
    assert body["created"] == 1 and body["failed"][0]["row"] == 3
    upload = SimpleUploadedFile("x.csv", legacy_csv([legacy_row("8003")]))
    assert client.post("/api/v1/orders/import", {"shop": world.shop_b.pk, "file": upload}).status_code == 404
    agent = _client("agent_a")
    upload = SimpleUploadedFile("x.csv", legacy_csv([legacy_row("8004")]))
    assert agent.post("/api/v1/orders/import", {"shop": world.shop_a.pk, "file": upload}).status_code == 403


def test_committed_openapi_document_matches_the_code() -> None:
    assert SNAPSHOT.read_text("utf-8") == current_schema(), "run `make openapi`"


def test_openapi_is_served() -> None:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200 and "/api/v1/orders" in response.json()["paths"]


def test_push_orders_as_json(world: World) -> None:
    client = _client("lead_a")
    body = {
        "shop": world.shop_a.pk,
        "orders": [
            {"order_no": "P1", "status": "交易成功", "paid_amount": "10.00", "ordered_at": "2026-10-01T09:00:00"},
            {"order_no": ""},
        ],
    }
    response = client.post("/api/v1/orders/push", body, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["created"] == 1 and response.json()["failed"][0]["row"] == 2
    other = {**body, "shop": world.shop_b.pk}
    assert client.post("/api/v1/orders/push", other, content_type="application/json").status_code == 404
    assert _client("agent_a").post("/api/v1/orders/push", body, content_type="application/json").status_code == 403


@pytest.mark.django_db
def test_a_remembered_token_answers_without_the_database_and_a_revocation_stops_it_at_once(
    world: World, settings: Any
) -> None:
    """Issue 20 §4: with the memory on, a token checked once is answered from the process (no query)
    until KEFU_TOKEN_MEMORY_SECONDS pass; a revocation or a password change made in this process
    stops it at the next call."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kefu.core.events import SystemActor
    from kefu.org.models import ApiToken
    from kefu.org.services import token_create, token_revoke, tokens_forget

    settings.KEFU_TOKEN_MEMORY_SECONDS = 60
    tokens_forget()
    secret = token_create(actor=SystemActor("t"), user=world.lead_a, name="memory")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    client = Client()
    assert client.get("/api/v1/shops", **headers).status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/api/v1/shops", **headers).status_code == 200
    assert not any("api" in q["sql"].lower() and "token" in q["sql"].lower() for q in ctx.captured_queries)
    token_revoke(actor=world.lead_a, token=ApiToken.objects.get(prefix=secret[:12]))
    assert client.get("/api/v1/shops", **headers).status_code == 401
    # a password change: the token was made under the old one
    other = token_create(actor=SystemActor("t"), user=world.agent_a, name="memory 2")
    assert client.get("/api/v1/shops", HTTP_AUTHORIZATION=f"Bearer {other}").status_code == 200
    world.agent_a.set_password("a new one 2026")
    world.agent_a.save()
    assert client.get("/api/v1/shops", HTTP_AUTHORIZATION=f"Bearer {other}").status_code == 401
    tokens_forget()
