"""Order import service: idempotent, bad rows reported, changes recorded (SPEC §2, principle 3)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core import serializers

from kefu.commerce.models import Customer, Order, OrderLine, Product
from kefu.commerce.services import order_remark_set, orders_import
from kefu.core.errors import ApplicationError
from kefu.core.events import SystemActor
from kefu.core.models import Event, ImportRun

from .factories import ShopFactory
from .samples import detail_csv, legacy_csv, legacy_row, suborder_xlsx

pytestmark = pytest.mark.django_db
ACTOR = SystemActor(label="test")


def _snapshot() -> str:
    rows = [
        *Order.objects.order_by("pk"),
        *OrderLine.objects.order_by("pk"),
        *Customer.objects.order_by("pk"),
        *Product.objects.order_by("pk"),
    ]
    data = serializers.serialize("json", rows)
    return data


def _import(shop: Any, data: bytes, name: str = "ExportOrderList.csv") -> Any:
    return orders_import(actor=ACTOR, shop=shop, data=data, file_name=name)


def test_import_twice_yields_the_same_database() -> None:
    shop = ShopFactory()
    data = legacy_csv([legacy_row(str(1000 + i), nick=f"tb{i % 3}") for i in range(20)])
    first = _import(shop, data)
    assert first.as_dict() == {"created": 20, "updated": 0, "unchanged": 0, "failed": []}
    before = _snapshot()
    second = _import(shop, data)
    assert second.as_dict() == {"created": 0, "updated": 0, "unchanged": 20, "failed": []}
    assert _snapshot() == before
    assert Customer.objects.count() == 3
    assert Event.objects.filter(verb="order.updated").count() == 0


def test_broken_rows_import_the_good_ones_and_name_the_bad() -> None:
    shop = ShopFactory()
    summary = _import(shop, legacy_csv([legacy_row("1"), legacy_row("2", status="??"), legacy_row("3", paid="x")]))
    assert summary.created == 1
    assert [f["row"] for f in summary.failed] == [3, 4]
    assert Order.objects.filter(shop=shop).count() == 1
    run = ImportRun.objects.get(pk=summary.run_id)
    assert run.failed == summary.as_dict()["failed"] and run.created == 1


def test_changed_order_is_updated_and_the_change_recorded() -> None:
    shop = ShopFactory()
    _import(shop, legacy_csv([legacy_row("77", status="买家已付款，等待卖家发货")]))
    summary = _import(shop, legacy_csv([legacy_row("77", status="卖家已发货，等待买家确认", refund="5.00")]))
    assert (summary.created, summary.updated, summary.unchanged) == (0, 1, 0)
    order = Order.objects.get(order_no="77")
    assert order.status == "shipped" and order.refunded_amount == Decimal("5.00")
    event = Event.objects.for_object(order).get(verb="order.updated")
    assert event.before == {"status": "paid", "platform_status": "买家已付款，等待卖家发货", "refunded_amount": "0.00"}
    assert event.after["status"] == "shipped" and event.after["refunded_amount"] == "5.00"
    assert event.actor_label == "test"


def test_same_order_number_in_two_shops_are_two_orders() -> None:
    a, b = ShopFactory(), ShopFactory()
    data = legacy_csv([legacy_row("5")])
    _import(a, data)
    _import(b, data)
    assert Order.objects.filter(order_no="5").count() == 2


def test_detail_file_attaches_lines_and_products_and_needs_the_orders_first() -> None:
    shop = ShopFactory()
    _import(shop, legacy_csv([legacy_row("1001")]))
    lines = detail_csv(
        [
            '="1001","某某雪平锅","99.00","2","","颜色分类：红色","","","交易成功","XPG-20",',
            '="9999","不存在的订单","10.00","1","","","","","交易成功","",',
        ]
    )
    summary = _import(shop, lines, "ExportOrderDetailList.csv")
    assert summary.created == 1
    [missing] = summary.failed
    assert missing["row"] == 3 and missing["reason"] == "订单 9999 不存在,请先导入订单报表。"
    assert ["订单编号", "9999"] in missing["cells"]  # refused by the service, offered with its cells
    line = OrderLine.objects.get()
    assert line.product.sku == "XPG-20" and line.quantity == 2
    again = _import(shop, lines, "ExportOrderDetailList.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)


def test_suborder_file_creates_orders_with_lines_and_a_line_change_counts_as_update() -> None:
    shop = ShopFactory()
    row = [
        "3001-1",
        "3001",
        "扫地机器人",
        "1299.00",
        1,
        "",
        "",
        "交易成功",
        "SDJ",
        "1299.00",
        "1299.00",
        "没有申请退款",
        "无退款申请",
        "2026-10-01 10:00:00",
        "2026-10-01 10:05:00",
        "9",
        "2026-10-02 09:00:00",
    ]
    assert _import(shop, suborder_xlsx([row]), "orders.xlsx").created == 1
    order = Order.objects.get(order_no="3001")
    assert order.lines.count() == 1 and order.status == "finished"
    changed = list(row)
    changed[11], changed[12] = "退款成功", "100.00"
    summary = _import(shop, suborder_xlsx([changed]), "orders.xlsx")
    assert (summary.created, summary.updated) == (0, 1)
    event = Event.objects.for_object(order).get(verb="order.updated")
    assert event.after["lines.3001-1.refund_status"] == "退款成功"
    assert Order.objects.get(pk=order.pk).refunded_amount == Decimal("100.00")


def test_a_file_without_buyer_names_never_blanks_them() -> None:
    shop = ShopFactory()
    _import(shop, legacy_csv([legacy_row("3001", nick="tb_keep")]))
    row = [
        "3001-1",
        "3001",
        "扫地机器人",
        "1299.00",
        1,
        "",
        "",
        "交易成功",
        "SDJ",
        "1299.00",
        "1299.00",
        "没有申请退款",
        "无退款申请",
        "2017-07-08 00:42:32",
        "2026-10-01 10:05:00",
        "9",
        "2026-10-02 09:00:00",
    ]
    _import(shop, suborder_xlsx([row]), "orders.xlsx")
    assert Order.objects.get(order_no="3001").buyer_nick == "tb_keep"


def test_remark_validation_on_import_and_the_remark_builder() -> None:
    shop = ShopFactory()
    _import(
        shop, legacy_csv([legacy_row("1", memo="顺丰,无,无,张敏,2026-10-05 09:30"), legacy_row("2", memo="随便写")])
    )
    good, bad = Order.objects.get(order_no="1"), Order.objects.get(order_no="2")
    assert good.memo_valid and not bad.memo_valid
    order_remark_set(actor=ACTOR, order=bad, shipping="顺丰", gift="", special="加急", author="张敏")
    bad.refresh_from_db()
    assert bad.memo_valid and bad.memo.startswith("顺丰,,加急,张敏,")
    assert Event.objects.for_object(bad).filter(verb="order.remark_set").exists()


def test_whole_file_problems_are_application_errors() -> None:
    shop = ShopFactory()
    with pytest.raises(ApplicationError) as exc:
        _import(shop, b"foo,bar\r\n1,2\r\n")
    assert exc.value.code == "import_format"
    with pytest.raises(ApplicationError) as exc:
        _import(shop, legacy_csv([legacy_row("1")]), "orders.exe")
    assert exc.value.code == "import_file_type"


def test_json_push_uses_the_same_pipeline() -> None:
    from kefu.commerce.services import orders_push

    shop = ShopFactory()
    orders = [
        {
            "order_no": "J1",
            "status": "WAIT_SELLER_SEND_GOODS",
            "buyer_nick": "tb_json",
            "paid_amount": "88.00",
            "ordered_at": "2026-10-05 10:00:00",
            "address": "浙江省 杭州市 西湖区 x",
            "lines": [{"line_key": "J1-1", "title": "雪平锅", "price": "88.00", "quantity": 1, "sku": "XPG"}],
        },
        {"order_no": "J2", "status": "交易成功"},  # no ordered_at
        {"order_no": "J3", "status": "交易成功", "ordered_at": "2026-10-05 10:00:00", "colour": "red"},
    ]
    first = orders_push(actor=ACTOR, shop=shop, orders=orders)
    assert first.created == 1 and [f["row"] for f in first.as_dict()["failed"]] == [2, 3]
    order = Order.objects.get(order_no="J1")
    assert (order.status, order.province, order.lines.get().sku) == ("paid", "浙江", "XPG")
    again = orders_push(actor=ACTOR, shop=shop, orders=orders[:1])
    assert (again.created, again.unchanged) == (0, 1)
    moved = [{**orders[0], "status": "WAIT_BUYER_CONFIRM_GOODS"}]
    assert orders_push(actor=ACTOR, shop=shop, orders=moved).updated == 1
    assert Order.objects.get(order_no="J1").status == "shipped"


def test_a_run_records_its_progress_and_offers_the_failed_rows(world: Any) -> None:
    import io

    import openpyxl
    from django.test import Client

    from kefu.core.models import ImportRun

    from .conftest import PASSWORD
    from .samples import legacy_csv, legacy_row

    data = legacy_csv([legacy_row("920001"), legacy_row("920002", paid="lots"), legacy_row("920003")])
    summary = orders_import(actor=world.supervisor, shop=world.shop_a, data=data, file_name="p.csv")
    run = ImportRun.objects.get(pk=summary.run_id)
    assert (run.rows_total, run.rows_done, run.percent) == (2, 2, 100)  # two good orders, both done
    boss = Client()
    assert boss.login(username="boss", password=PASSWORD)
    page = boss.get(f"/imports/{run.pk}/").content.decode()
    assert 'data-testid="failed-download"' in page
    sheet = openpyxl.load_workbook(io.BytesIO(boss.get(f"/imports/{run.pk}/?format=xlsx").content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("行号", "原因", "订单编号") and rows[1][0] == 3 and "lots" in rows[1][1]
    header, bad = rows[0], dict(zip(rows[0], rows[1], strict=True))
    assert bad["订单编号"] == "920002" and "lots" in bad.values()  # the row's own cells, to fix and re-import
    assert len(header) > 10
    running = ImportRun.objects.create(kind="orders", file_name="big.csv", sha256="0", started_at=run.started_at,
                                       actor=world.supervisor, rows_total=400, rows_done=100)  # fmt: skip
    poll = boss.get(f"/imports/{running.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "25%" in poll and 'hx-trigger="every 2s"' in poll


def test_a_file_of_bad_rows_keeps_the_cells_of_the_first_rows_only(world: Any, monkeypatch: Any) -> None:
    """Fourth review: a dense file whose every row is bad was copied whole, cells and all, into
    memory and into its import run. Past the limit a failed row keeps its number and reason."""
    from kefu.core.imports import ImportSummary
    from kefu.imports import tabular

    monkeypatch.setattr("kefu.core.imports.MAX_ROWS_WITH_CELLS", 3)
    summary = ImportSummary(cells_of=lambda n: (("订单编号", str(n)),))
    for n in range(1, 6):
        summary.fail(n, "bad")
    assert [bool(f.get("cells")) for f in summary.failed] == [True, True, True, False, False]
    assert [f["reason"] for f in summary.failed] == ["bad"] * 5
    monkeypatch.setattr(tabular, "MAX_ROWS_WITH_CELLS", 2)
    errors = tabular.with_cells([tabular.RowError(n, "bad") for n in range(1, 5)], lambda n: (("a", str(n)),))
    assert [bool(e.cells) for e in errors] == [True, True, False, False]


def test_an_import_that_runs_out_of_memory_is_a_clear_refusal_with_its_run_finished(
    world: Any, monkeypatch: Any
) -> None:
    from kefu.commerce import services
    from kefu.core.errors import ApplicationError
    from kefu.core.models import Event, ImportRun

    def exhausted(*_args: Any, **_kwargs: Any) -> None:
        raise MemoryError

    monkeypatch.setattr(services, "_import_order_chunk", exhausted)
    from .samples import legacy_csv, legacy_row

    with pytest.raises(ApplicationError) as refused:
        services.orders_import(
            actor=world.supervisor, shop=world.shop_a, data=legacy_csv([legacy_row("900101")]), file_name="big.csv"
        )
    assert refused.value.code == "import_too_large"
    run = ImportRun.objects.latest("pk")
    assert run.finished_at is not None
    assert "memory" in str(run.failed).lower() or "内存" in str(run.failed)
    assert Event.objects.filter(verb="import.crashed").exists()
