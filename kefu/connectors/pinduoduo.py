"""Pinduoduo (拼多多) through its POP router (issue 21 §4): orders and after-sales.

One POST of JSON to the router: system parameters ``type`` (the API), ``client_id``,
``access_token``, ``timestamp`` (Unix seconds), ``data_type=JSON`` and ``sign`` = upper-case hex of
MD5(client secret + every other parameter sorted by name as ``name value`` + client secret). Lists are
asked in windows of at most 30 minutes of update time (the platform's limit), 100 a page, read last
page first as the platform advises. Errors come as ``error_response {error_code, error_msg, sub_code,
sub_msg}``: 10019 an expired access token, 70031 the rate limit, 5xxxx the platform's own failures.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext_lazy as _

from kefu.core import clock

from .base import Adapter, Context, Landed, newest_first, register
from .transport import (
    MALFORMED,
    AuthExpired,
    RateLimited,
    Refused,
    Transient,
    count,
    json_of,
    malformed_answer,
    send,
)

CHINA = ZoneInfo("Asia/Shanghai")
GATEWAY = "https://gw-api.pinduoduo.com/api/router"
PAGE_SIZE = 100
# order_status: 1 待发货, 2 已发货待签收, 3 已签收 — as the order statuses Kefu reads (FORMATS §2d)
ORDER_STATUS = {1: "WAIT_SELLER_SEND_GOODS", 2: "WAIT_BUYER_CONFIRM_GOODS", 3: "TRADE_FINISHED"}
# after_sales_status → the refund states the after-sales desk shows (the platform's own wording is
# on its pages; Kefu keeps one set of states across platforms)
AFTER_SALES_STATUS = {
    2: "WAIT_SELLER_AGREE",
    3: "WAIT_SELLER_AGREE",
    8: "WAIT_SELLER_AGREE",
    7: "WAIT_BUYER_RETURN_GOODS",
    4: "SUCCESS",
    5: "SUCCESS",
    10: "SUCCESS",
    6: "SELLER_REFUSE_BUYER",
    9: "CLOSED",
    11: "CLOSED",
    12: "CLOSED",
    13: "CLOSED",
}


def sign(params: dict[str, Any], secret: str) -> str:
    text = "".join(f"{k}{v}" for k, v in sorted(params.items()) if k != "sign" and v not in ("", None))
    return hashlib.md5((secret + text + secret).encode()).hexdigest().upper()  # noqa: S324 (the platform's protocol)


def _refusal(error: Any) -> Exception:
    try:
        code = int(error.get("error_code") or 0)
    except MALFORMED:
        return Transient(malformed_answer("error_response"), code="?")
    words = f"PDD {code}: {error.get('error_msg', '')}" + (f" ({error['sub_msg']})" if error.get("sub_msg") else "")
    if code in {70031, 70032}:
        return RateLimited(words[:400], code=str(code), retry_after=1.0)
    if code in {10019, 10020, 10022}:
        return AuthExpired(words[:400], code=str(code))
    if code >= 50000:
        return Transient(words[:400], code=str(code))
    return Refused(words[:400], code=str(code))


def call(ctx: Context, api: str, **params: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": api,
        "client_id": ctx.connector.app_key,
        "access_token": str(ctx.secrets.get("session", "")),
        "timestamp": str(int(clock.now().timestamp())),
        "data_type": "JSON",
        **{k: str(v) for k, v in params.items() if v is not None},
    }
    body["sign"] = sign(body, str(ctx.secrets.get("app_secret", "")))

    def once() -> dict[str, Any]:
        answer = json_of(send(ctx.http, "POST", ctx.connector.gateway, json=body))
        if "error_response" in answer:
            raise _refusal(answer["error_response"])
        found = next((v for k, v in answer.items() if k.endswith("_response") and isinstance(v, dict)), None)
        if found is None:
            raise Transient(malformed_answer("*_response"))
        return found

    return ctx.backoff.run(once)


def _paged(ctx: Context, api: str, key: str, **params: Any) -> Iterator[list[dict[str, Any]]]:
    """Every page of an increment call, last page first (``base.newest_first``)."""
    yield from newest_first(
        lambda page_no: call(ctx, api, page=page_no, page_size=PAGE_SIZE, **params),
        lambda body: [x for x in body.get(key) or [] if isinstance(x, dict)],
        lambda body: count(body.get("total_count"), "total_count"),
        PAGE_SIZE,
    )


def _unix(at: dt.datetime) -> int:
    return int(at.timestamp())


def order_record(o: dict[str, Any]) -> dict[str, Any]:
    raw_items = o.get("item_list") or []
    if not isinstance(raw_items, list):
        raise ValueError("item_list")
    items = [i for i in raw_items if isinstance(i, dict)]
    status = ORDER_STATUS.get(int(o.get("order_status") or 0), str(o.get("order_status") or ""))
    if int(o.get("refund_status") or 1) == 4:
        status = "TRADE_CLOSED"  # refunded in full
    record = {
        "order_no": str(o.get("order_sn") or ""),
        "buyer_nick": o.get("buyer_nick") or o.get("receiver_name"),
        "receiver_name": o.get("receiver_name"),
        "receiver_phone": o.get("receiver_phone"),
        "address": "".join(str(o.get(k) or "") for k in ("province", "city", "town", "address")) or None,
        "status": status,
        "goods_amount": _money(o.get("goods_amount")),
        "postage": _money(o.get("postage")),
        "paid_amount": _money(o.get("pay_amount")),
        "ordered_at": o.get("created_time"),
        "paid_at": o.get("pay_time"),
        "shipped_at": o.get("shipping_time"),
        "received_at": o.get("receive_time"),
        "tracking_no": o.get("tracking_number"),
        "memo": o.get("remark"),
        "buyer_message": o.get("buyer_memo"),
        "items_title": "；".join(str(i.get("goods_name", "")) for i in items)[:500] or None,
        "item_count": sum(int(i.get("goods_count") or 0) for i in items) or None,
        "lines": [
            {
                k: v
                for k, v in {
                    "line_key": str(i.get("sku_id") or n),
                    "sku": i.get("outer_id") or i.get("outer_goods_id"),
                    "title": i.get("goods_name"),
                    "attributes": i.get("goods_spec"),
                    "quantity": i.get("goods_count"),
                    "price": _money(i.get("goods_price")),
                }.items()
                if v not in (None, "")
            }
            for n, i in enumerate(items, start=1)
        ],
    }
    return {k: v for k, v in record.items() if v not in (None, "")}


def _money(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


class Orders:
    name = "orders"
    label = _("Orders")
    prefetch = True  # its paging touches no database: the next page travels while one is imported
    window = dt.timedelta(minutes=30)
    overlap = dt.timedelta(minutes=5)
    first_days = 1

    def pages(self, ctx: Context, start: dt.datetime, end: dt.datetime) -> Iterator[list[dict[str, Any]]]:
        yield from _paged(
            ctx,
            "pdd.order.number.list.increment.get",
            "order_sn_list",
            start_updated_at=_unix(start),
            end_updated_at=_unix(end),
            is_lucky_flag=0,
            order_status=5,
            refund_status=5,
        )

    def land(self, ctx: Context, records: list[dict[str, Any]]) -> Landed:
        from . import landing

        return landing.converted(ctx, records, order_record, lambda o: str(o.get("order_sn") or ""), landing.orders)


class Refunds:
    name = "refunds"
    label = _("Refunds")
    window = dt.timedelta(minutes=30)
    overlap = dt.timedelta(minutes=5)
    first_days = 1

    def pages(self, ctx: Context, start: dt.datetime, end: dt.datetime) -> Iterator[list[dict[str, Any]]]:
        yield from _paged(
            ctx,
            "pdd.refund.list.increment.get",
            "refund_list",
            start_updated_at=_unix(start),
            end_updated_at=_unix(end),
            after_sales_status=1,
            after_sales_type=1,
        )

    def land(self, ctx: Context, records: list[dict[str, Any]]) -> Landed:
        from . import landing

        return landing.converted(ctx, records, refund_record, lambda r: str(r.get("id") or ""), landing.refunds)


def refund_record(r: dict[str, Any]) -> dict[str, Any]:
    """A PDD after-sales record as the refund push's record."""
    return {
        "refund_id": f"PDD-{r.get('id', '')}" if r.get("id") not in (None, "") else "",
        "tid": r.get("order_sn"),
        "status": AFTER_SALES_STATUS.get(int(r.get("after_sales_status") or 0), ""),
        "refund_fee": _money(r.get("refund_amount")),
        "reason": r.get("after_sale_reason") or "",
        "good_status": "BUYER_NOT_RECEIVED" if int(r.get("after_sales_type") or 0) == 2 else "BUYER_RECEIVED",
        "created": r.get("created_time"),
    }


ADAPTER = Adapter(platform="pinduoduo", streams=(Orders(), Refunds()), default_gateway=GATEWAY, needs_shop=True)
register(ADAPTER)
