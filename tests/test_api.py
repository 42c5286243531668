"""The JSON API: error shape, cursor pagination, import, OpenAPI."""

from __future__ import annotations

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
