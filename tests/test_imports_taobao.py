"""Reading the Taobao/Tmall exports as they come (FORMATS.md §2)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.imports.address import province_of
from kefu.imports.tabular import FileFormatError, clean
from kefu.imports.taobao import normalise_status, parse_orders

from .samples import detail_csv, legacy_csv, legacy_row, suborder_xlsx


def test_legacy_gbk_export_with_its_quirks() -> None:
    parsed = parse_orders(legacy_csv([legacy_row("35153131473293579")]))
    assert parsed.fmt == "taobao_orders"
    assert parsed.errors == []
    (order,) = parsed.orders
    assert order.order_no == "35153131473293579"  # ="…" guard removed
    v = order.values
    assert v["buyer_nick"] == "tb0000001"
    assert v["receiver_phone"] == "13800000000"  # leading ' removed
    assert v["status"] == "paid"
    assert v["paid_amount"] == Decimal("201.12")
    assert v["province"] == "广东" and v["city"] == "广州市"
    assert v["ordered_at"] == dt.datetime(2017, 7, 8, 0, 42, 32)
    assert v["items_title"] == "【顺丰包邮】某某雪平锅"  # header with a trailing space still matched
    assert v["close_reason"] == ""


def test_utf8_with_bom_reads_the_same() -> None:
    gbk = parse_orders(legacy_csv([legacy_row("1001")]))
    utf8 = parse_orders(b"\xef\xbb\xbf" + legacy_csv([legacy_row("1001")], encoding="utf-8"))
    assert gbk.orders[0].values == utf8.orders[0].values


def test_columns_are_matched_by_name_not_position() -> None:
    header, row = list(csv.reader(legacy_csv([legacy_row("1001")]).decode("gbk").splitlines()))
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(list(reversed(header)))
    writer.writerow(list(reversed(row)))
    parsed = parse_orders(buf.getvalue().encode("gbk"))
    assert parsed.orders[0].values == parse_orders(legacy_csv([legacy_row("1001")])).orders[0].values


def test_bad_rows_are_reported_by_spreadsheet_row_and_good_rows_kept() -> None:
    rows = [
        legacy_row("1001"),
        legacy_row("1002", status="外星状态"),
        legacy_row("1003", paid="abc"),
        legacy_row("1004", created=""),
        legacy_row("", nick="x"),
        legacy_row("1001"),  # duplicate of row 2
        legacy_row("1007", created="2017-13-45 99:00"),
        legacy_row("1008"),
    ]
    parsed = parse_orders(legacy_csv(rows))
    assert [o.order_no for o in parsed.orders] == ["1001", "1008"]
    failed = {e.row: e.reason for e in parsed.errors}
    assert sorted(failed) == [3, 4, 5, 6, 7, 8]
    assert "订单状态" in failed[3] and "不是金额" in failed[4] and "订单创建时间" in failed[5]
    assert "订单编号" in failed[6] and "第2行" in failed[7] and "订单创建时间" in failed[8]


def test_order_detail_export_lines() -> None:
    parsed = parse_orders(
        detail_csv(
            [
                '="1001","某某雪平锅","99.00","2","","颜色分类：红色;尺寸：20cm","","","交易成功","XPG-20",',
                '="1001","锅盖","10.00","1","","","","","交易成功","",',
                '="1002","","10.00","1","","","","","交易成功","",',
            ]
        )
    )
    assert parsed.fmt == "taobao_order_details"
    assert [(ln.order_no, ln.line_key, ln.values["quantity"]) for ln in parsed.lines] == [
        ("1001", "1", 2),
        ("1001", "2", 1),
    ]
    assert parsed.lines[0].values["sku"] == "XPG-20" and parsed.lines[0].values["price"] == Decimal("99.00")
    assert [e.row for e in parsed.errors] == [4]


def test_qianniu_suborder_xlsx_builds_orders_and_lines() -> None:
    data = suborder_xlsx(
        [
            [
                "2001-1",
                "2001",
                "扫地机器人",
                "1299.00",
                1,
                "",
                "颜色:白",
                "卖家已发货,等待买家确认",
                "SDJ-1",
                "1299.00",
                "1299.00",
                "没有申请退款",
                "无退款申请",
                "2026-10-01 10:00:00",
                "2026-10-01 10:05:00",
                "9",
                "2026-10-02 09:00:00",
            ],
            [
                "2001-2",
                "2001",
                "滤网",
                "59.00",
                2,
                "",
                "",
                "卖家已发货，等待买家确认",
                "LW-1",
                "118.00",
                "100.00",
                "退款成功",
                "18.00",
                "2026-10-01 10:00:00",
                "2026-10-01 10:05:00",
                "9",
                "2026-10-02 09:00:00",
            ],
            [
                "2002-1",
                "2002",
                "滤网",
                "59.00",
                0,
                "",
                "",
                "交易成功",
                "LW-1",
                "",
                "",
                "",
                "",
                "2026-10-01 11:00:00",
                "",
                "",
                "",
            ],
        ]
    )
    parsed = parse_orders(data)
    assert parsed.fmt == "qianniu_suborders"
    (order,) = parsed.orders
    assert order.order_no == "2001"
    assert order.values["status"] == "shipped"  # ASCII comma normalised
    assert order.values["goods_amount"] == Decimal("1417.00")
    assert order.values["paid_amount"] == Decimal("1399.00")
    assert order.values["refunded_amount"] == Decimal("18.00")
    assert order.values["shipped_at"] == dt.datetime(2026, 10, 2, 9, 0)
    assert [ln.line_key for ln in parsed.lines] == ["2001-1", "2001-2"]
    assert [e.row for e in parsed.errors] == [4]  # quantity 0


def test_unknown_header_is_a_file_error() -> None:
    with pytest.raises(FileFormatError):
        parse_orders(b"a,b,c\r\n1,2,3\r\n")
    with pytest.raises(FileFormatError):
        parse_orders(b"")


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("等待买家付款", "awaiting_payment"),
        ("买家已付款，等待卖家发货", "paid"),
        ("买家已付款,等待卖家发货", "paid"),
        ("卖家已发货，等待买家确认", "shipped"),
        ("交易成功", "finished"),
        ("交易关闭", "closed"),
        ("WAIT_SELLER_SEND_GOODS", "paid"),
        ("SELLER_CONSIGNED_PART", "shipped"),
        ("TRADE_BUYER_SIGNED", "finished"),
        ("TRADE_CLOSED_BY_TAOBAO", "closed"),
    ],
)
def test_status_strings(text: str, status: str) -> None:
    assert normalise_status(text) == status


@pytest.mark.parametrize(
    ("address", "province", "city"),
    [
        ("江苏省 南京市 建邺区 沙洲街道****", "江苏", "南京市"),
        ("新疆维吾尔自治区 乌鲁木齐市 天山区 x", "新疆", "乌鲁木齐市"),
        ("内蒙古自治区 呼和浩特市", "内蒙古", "呼和浩特市"),
        ("上海 上海市 浦东新区 x", "上海", "上海市"),
        ("北京 朝阳区 x", "北京", "北京市"),
        ("火星 某地", "", ""),
    ],
)
def test_province_from_address(address: str, province: str, city: str) -> None:
    assert province_of(address) == (province, city)


@given(st.text(alphabet="0123456789ab", min_size=1, max_size=20))
def test_clean_strips_every_guard(core: str) -> None:
    for wrapped in (f'="{core}"', f" {core} ", f"'{core}", f'"{core}"', f"\ufeff{core}"):
        assert clean(wrapped) == core
