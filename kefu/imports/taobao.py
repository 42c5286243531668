"""Taobao/Tmall seller order exports (FORMATS.md §2a–2d) → typed order and line records.

Columns are matched by header name, never by position. Four layouts are detected by header:
legacy 订单报表 (2a), 宝贝报表 order lines (2b), 千牛 order level and sub-order level (2c).
Only the fields a file carries are returned, so a file without buyer names never blanks them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from kefu.policies.i18n import _

from .address import province_of
from .tabular import (
    Cells,
    FileFormatError,
    RowError,
    Sheet,
    iter_records,
    no_cells,
    parse_datetime,
    parse_decimal,
    parse_int,
    present_fields,
    raw_tables,
    sheet_from,
    sheet_row_cells,
    with_cells,
)

ZERO = Decimal("0.00")

STATUS_MAP = {
    "等待买家付款": "awaiting_payment",
    "买家已付款，等待卖家发货": "paid",
    "卖家已发货，等待买家确认": "shipped",
    "卖家部分发货": "shipped",
    "交易成功": "finished",
    "交易关闭": "closed",
    "WAIT_BUYER_PAY": "awaiting_payment",
    "TRADE_NO_CREATE_PAY": "awaiting_payment",
    "WAIT_SELLER_SEND_GOODS": "paid",
    "SELLER_CONSIGNED_PART": "shipped",
    "WAIT_BUYER_CONFIRM_GOODS": "shipped",
    "TRADE_BUYER_SIGNED": "finished",
    "TRADE_FINISHED": "finished",
    "TRADE_CLOSED": "closed",
    "TRADE_CLOSED_BY_TAOBAO": "closed",
}
FLAG_NAMES = {"灰": 0, "红": 1, "黄": 2, "绿": 3, "蓝": 4, "紫": 5, "粉": 5}


def normalise_status(text: str) -> str:
    """Map a platform status string to our status; ValueError if unknown. Commas are normalised."""
    key = text.strip().replace(",", "，").replace(" ", "")
    status = STATUS_MAP.get(key) or STATUS_MAP.get(text.strip().upper())
    if status is None:
        raise ValueError(_("Unknown order status: %(value)s") % {"value": text[:40]})
    return status


# field → header names (first present wins). Order-level columns.
ORDER_COLUMNS: dict[str, tuple[str, ...]] = {
    "order_no": ("订单编号", "主订单编号"),
    "buyer_nick": ("买家会员名", "买家昵称"),
    "goods_amount": ("买家应付货款",),
    "postage": ("买家应付邮费",),
    "total_amount": ("总金额",),
    "paid_amount": ("买家实际支付金额", "买家实付金额"),
    "platform_status": ("订单状态",),
    "buyer_message": ("买家留言",),
    "receiver_name": ("收货人姓名",),
    "address": ("收货地址",),
    "receiver_phone": ("联系手机", "联系电话"),
    "ordered_at": ("订单创建时间",),
    "paid_at": ("订单付款时间",),
    "shipped_at": ("发货时间",),
    "received_at": ("确认收货时间",),
    "items_title": ("宝贝标题", "商品标题"),
    "tracking_no": ("物流单号",),
    "courier": ("物流公司",),
    "memo": ("订单备注", "商家备注"),
    "flag": ("备注标签", "旗帜"),
    "item_count": ("宝贝总数量",),
    "close_reason": ("订单关闭原因",),
    "refunded_amount": ("退款金额",),
}
LINE_COLUMNS: dict[str, tuple[str, ...]] = {
    "order_no": ("主订单编号", "订单编号"),
    "line_key": ("子订单编号",),
    "title": ("商品标题", "标题"),
    "price": ("商品价格", "价格"),
    "quantity": ("购买数量",),
    "attributes": ("商品属性", "商品属性SKU"),
    "status": ("订单状态",),
    "sku": ("商家编码",),
    "paid_amount": ("买家实付金额",),
    "refund_status": ("退款状态",),
    "refunded_amount": ("退款金额",),
}
# Sub-order files repeat order-level values; these are the order columns they can carry.
SUBORDER_ORDER_COLUMNS: dict[str, tuple[str, ...]] = {
    "order_no": ("主订单编号",),
    "ordered_at": ("订单创建时间",),
    "paid_at": ("订单付款时间",),
    "shipped_at": ("发货时间",),
    "platform_status": ("订单状态",),
}

MONEY_FIELDS = ("goods_amount", "postage", "total_amount", "paid_amount", "refunded_amount")
TIME_FIELDS = ("ordered_at", "paid_at", "shipped_at", "received_at")
LABELS = {
    "goods_amount": "买家应付货款",
    "postage": "买家应付邮费",
    "total_amount": "总金额",
    "paid_amount": "实付金额",
    "refunded_amount": "退款金额",
    "ordered_at": "订单创建时间",
    "paid_at": "订单付款时间",
    "shipped_at": "发货时间",
    "received_at": "确认收货时间",
    "item_count": "宝贝总数量",
}


@dataclass
class OrderRecord:
    row: int
    order_no: str
    values: dict[str, Any]


@dataclass
class LineRecord:
    row: int
    order_no: str
    line_key: str
    values: dict[str, Any]


@dataclass
class ParsedOrders:
    fmt: str
    orders: list[OrderRecord] = field(default_factory=list)
    lines: list[LineRecord] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    order_fields: set[str] = field(default_factory=set)
    line_fields: set[str] = field(default_factory=set)
    rows_total: int = 0
    # row number → the row's cells as the file had them (for rows the import refuses later)
    cells_of: Callable[[int], Cells] = no_cells


def detect(header: list[str]) -> str | None:
    names = set(header)
    if "子订单编号" in names and "主订单编号" in names:
        return "qianniu_suborders"
    if "订单编号" in names and "购买数量" in names and ({"标题", "商品标题"} & names):
        return "taobao_order_details"
    if "订单编号" in names and "订单状态" in names:
        return "taobao_orders" if "买家会员名" in names else "qianniu_orders"
    return None


def _order_values(rec: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, text in rec.items():
        if key == "order_no":
            continue
        if key in MONEY_FIELDS:
            if key == "refunded_amount" and not any(ch.isdigit() for ch in text):
                text = ""  # 无退款申请
            values[key] = parse_decimal(text, what=LABELS[key])
        elif key in TIME_FIELDS:
            values[key] = parse_datetime(text, what=LABELS[key])
        elif key == "platform_status":
            values["status"] = normalise_status(text)
            values["platform_status"] = text[:40]
        elif key == "item_count":
            values[key] = parse_int(text, what=LABELS[key])
        elif key == "flag":
            values[key] = _flag(text)
        elif key == "address":
            values["address"] = text[:300]
            values["province"], values["city"] = province_of(text)
        elif key == "close_reason":
            values[key] = "" if text == "订单未关闭" else text[:64]
        else:
            limit = {"memo": 1000, "items_title": 500, "buyer_message": 500, "receiver_phone": 32}.get(key, 100)
            values[key] = text[:limit]
    return values


def _flag(text: str) -> int:
    text = text.strip()
    if text.isdecimal() and len(text) <= 2 and 0 <= int(text) <= 5:
        return int(text)
    for name, value in FLAG_NAMES.items():
        if name in text:
            return value
    return 0


def _line_values(rec: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, text in rec.items():
        if key in {"order_no", "line_key"}:
            continue
        if key == "price":
            values["price"] = parse_decimal(text, what="商品价格")
        elif key == "paid_amount":
            values["paid_amount"] = parse_decimal(text, what="买家实付金额")
        elif key == "refunded_amount":
            values["refunded_amount"] = parse_decimal(text if any(c.isdigit() for c in text) else "", what="退款金额")
        elif key == "quantity":
            quantity = parse_int(text, what="购买数量", default=1)
            if quantity <= 0:
                raise ValueError(_("The quantity must be greater than zero: %(value)s") % {"value": text[:40]})
            values["quantity"] = quantity
        elif key == "status":
            values["status"] = normalise_status(text) if text else ""
        elif key == "title":
            if not text:
                raise ValueError(_("The item title is blank."))
            values["title"] = text[:255]
        elif key == "sku":
            values["sku"] = text[:64]
        elif key == "attributes":
            values["attributes"] = text[:300]
        elif key == "refund_status":
            values["refund_status"] = text[:32]
    return values


def _check_order_no(order_no: str) -> None:
    if not order_no:
        raise ValueError(_("The order number is blank."))
    if len(order_no) > 40 or not order_no.replace("-", "").isalnum():
        raise ValueError(_("The order number is not valid: %(value)s") % {"value": order_no[:40]})


JSON_ORDER_FIELDS = {
    "buyer_nick",
    "receiver_name",
    "receiver_phone",
    "address",
    "status",
    "goods_amount",
    "postage",
    "total_amount",
    "paid_amount",
    "refunded_amount",
    "ordered_at",
    "paid_at",
    "shipped_at",
    "received_at",
    "courier",
    "tracking_no",
    "memo",
    "flag",
    "buyer_message",
    "items_title",
    "item_count",
}
JSON_LINE_FIELDS = {
    "line_key",
    "sku",
    "title",
    "attributes",
    "quantity",
    "price",
    "paid_amount",
    "refund_status",
    "refunded_amount",
}


def parse_order_json(items: list[Any]) -> ParsedOrders:
    """Orders pushed as JSON (platform status strings or codes; times ISO; money as strings).

    Each record becomes an order (and its ``lines``); a bad record is reported with its 1-based number.
    Only the fields a record carries are imported, as with files.
    """
    result = ParsedOrders(fmt="json_push", rows_total=len(items))
    seen: set[str] = set()
    for number, item in enumerate(items, start=1):
        try:
            if not isinstance(item, dict):
                raise ValueError(_("The record is not an object."))
            order_no = str(item.get("order_no", "")).strip()
            _check_order_no(order_no)
            if order_no in seen:
                raise ValueError(_("Duplicate order number."))
            unknown = set(item) - JSON_ORDER_FIELDS - {"order_no", "lines"}
            if unknown:
                raise ValueError(_("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))[:200]})
            text = {k: ("" if v is None else str(v)) for k, v in item.items() if k in JSON_ORDER_FIELDS}
            if "status" in text:
                text["platform_status"] = text.pop("status")
            values = _order_values(text)
            if values.get("ordered_at") is None:
                raise ValueError(_("ordered_at is required."))
            lines = []
            raw_lines = item.get("lines") or []
            if not isinstance(raw_lines, list):
                raise ValueError(_("lines must be a list of objects."))
            for index, line in enumerate(raw_lines, start=1):
                if not isinstance(line, dict) or set(line) - JSON_LINE_FIELDS:
                    raise ValueError(_("Line %(n)s has unknown fields.") % {"n": index})
                key = str(line.get("line_key") or index)
                line_text = {k: str(v) for k, v in line.items() if k != "line_key" and v is not None}
                if "title" not in line_text:
                    raise ValueError(_("Line %(n)s needs a title.") % {"n": index})
                lines.append(LineRecord(number, order_no, key[:40], _line_values(line_text)))
        except ValueError as exc:
            result.errors.append(RowError(number, str(exc)))
            continue
        seen.add(order_no)
        result.orders.append(OrderRecord(number, order_no, values))
        result.lines.extend(lines)
        result.order_fields |= set(values)
        if lines:
            result.line_fields |= {k for ln in lines for k in ln.values}
    return result


def parse_orders(data: bytes) -> ParsedOrders:
    """Parse an order export; whole-file problems raise FileFormatError, row problems are collected."""
    tables = raw_tables(data)
    for _name, raw in tables:
        if not raw:
            continue
        sheet = sheet_from(raw, header_row=1)
        fmt = detect(sheet.header)
        if fmt is not None:
            result = _parse_sheet(fmt, sheet)
            result.cells_of = sheet_row_cells(sheet)
            result.errors = with_cells(result.errors, result.cells_of)
            return result
    raise FileFormatError(_("Unrecognised order export header (it needs columns such as 订单编号 and 订单状态)."))


def _parse_sheet(fmt: str, sheet: Sheet) -> ParsedOrders:
    result = ParsedOrders(fmt=fmt, rows_total=len(sheet.rows))
    if fmt in {"taobao_orders", "qianniu_orders"}:
        result.order_fields = present_fields(sheet, ORDER_COLUMNS) - {"order_no"}
        seen: dict[str, int] = {}
        for number, rec in iter_records(sheet, ORDER_COLUMNS):
            order_no = rec.get("order_no", "")
            try:
                _check_order_no(order_no)
                if order_no in seen:
                    raise ValueError(_("Duplicate order number (as row %(row)s).") % {"row": seen[order_no]})
                values = _order_values(rec)
                if values.get("ordered_at") is None and "ordered_at" in result.order_fields:
                    raise ValueError(_("The order creation time is blank."))
            except ValueError as exc:
                result.errors.append(RowError(number, str(exc)))
                continue
            seen[order_no] = number
            result.orders.append(OrderRecord(number, order_no, values))
        return result

    if fmt == "taobao_order_details":
        result.line_fields = present_fields(sheet, LINE_COLUMNS) - {"order_no", "line_key"}
        positions: dict[str, int] = {}
        for number, rec in iter_records(sheet, LINE_COLUMNS):
            order_no = rec.get("order_no", "")
            try:
                _check_order_no(order_no)
                values = _line_values(rec)
            except ValueError as exc:
                result.errors.append(RowError(number, str(exc)))
                continue
            positions[order_no] = positions.get(order_no, 0) + 1
            result.lines.append(LineRecord(number, order_no, str(positions[order_no]), values))
        return result

    # qianniu_suborders: lines plus the order-level values repeated on each row
    result.line_fields = present_fields(sheet, LINE_COLUMNS) - {"order_no", "line_key"}
    order_cols = {**SUBORDER_ORDER_COLUMNS}
    order_cols.update(
        {
            k: v
            for k, v in ORDER_COLUMNS.items()
            if k in {"postage", "total_amount", "address", "tracking_no", "courier", "memo"}
        }
    )
    result.order_fields = present_fields(sheet, order_cols) - {"order_no"}
    orders: dict[str, OrderRecord] = {}
    order_lines: dict[str, list[LineRecord]] = {}
    bad_orders: set[str] = set()
    line_iter = iter_records(sheet, LINE_COLUMNS)
    for (number, rec), (_n, orec) in zip(line_iter, iter_records(sheet, order_cols), strict=True):
        order_no = rec.get("order_no", "")
        try:
            _check_order_no(order_no)
            line_key = rec.get("line_key", "")
            if not line_key:
                raise ValueError(_("The sub-order number is blank."))
            line_values = _line_values(rec)
            if order_no not in orders:
                values = _order_values(orec)
                if values.get("ordered_at") is None:
                    raise ValueError(_("The order creation time is blank."))
        except ValueError as exc:
            result.errors.append(RowError(number, str(exc)))
            if order_no and order_no not in orders:
                bad_orders.add(order_no)
            continue
        if order_no not in orders:
            orders[order_no] = OrderRecord(number, order_no, values)
        order_lines.setdefault(order_no, []).append(LineRecord(number, order_no, line_key[:40], line_values))
    for order_no, record in orders.items():
        lines = order_lines.get(order_no, [])
        # The order's goods amount and paid amount are the sums over its sub-orders.
        if "price" in result.line_fields and "goods_amount" not in record.values:
            record.values["goods_amount"] = sum(
                (ln.values.get("price", 0) * ln.values.get("quantity", 1) for ln in lines), start=ZERO
            )
        if "paid_amount" in result.line_fields:
            record.values["paid_amount"] = sum((ln.values.get("paid_amount", ZERO) for ln in lines), start=ZERO)
        if "refunded_amount" in result.line_fields:
            record.values["refunded_amount"] = sum((ln.values.get("refunded_amount", ZERO) for ln in lines), start=ZERO)
        record.values.setdefault("item_count", sum(ln.values.get("quantity", 1) for ln in lines))
        record.values.setdefault("items_title", "；".join(ln.values.get("title", "") for ln in lines)[:500])
        result.orders.append(record)
        result.lines.extend(lines)
    result.order_fields |= {"goods_amount", "item_count", "items_title"} & {
        k for rec in result.orders for k in rec.values
    }
    if "paid_amount" in result.line_fields:
        result.order_fields.add("paid_amount")
    if "refunded_amount" in result.line_fields:
        result.order_fields.add("refunded_amount")
    return result
