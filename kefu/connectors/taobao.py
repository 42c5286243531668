"""Taobao / Tmall through the TOP router (issue 21 §2; ../shared/FORMATS.md §2f, §2g).

Every call is one POST of form parameters to the gateway, signed as TOP documents it: all
parameters but ``sign``, empty ones left out, sorted by name, written ``name1value1name2value2…``;
``md5`` is MD5(secret + text + secret), ``hmac`` HMAC-MD5 and ``hmac-sha256`` HMAC-SHA256 keyed with
the secret; upper-case hex. Times are China time, ``yyyy-MM-dd HH:mm:ss``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext_lazy as _

from kefu.core import clock

from .base import Adapter, Context, Landed, newest_first, register
from .transport import (
    AuthExpired,
    RateLimited,
    Refused,
    Transient,
    count,
    json_of,
    malformed,
    malformed_answer,
    send,
)

CHINA = ZoneInfo("Asia/Shanghai")
PAGE_SIZE = 100
RATES_PAGE = 150
TRACES_PER_RUN = 500
OPEN_REFUND = frozenset({"WAIT_SELLER_AGREE", "WAIT_BUYER_RETURN_GOODS", "WAIT_SELLER_CONFIRM_GOODS"})
SANDBOX_GATEWAY = "https://gw.api.tbsandbox.com/router/rest"
GATEWAY = "https://eco.taobao.com/router/rest"

TRADE_FIELDS = (
    "tid,status,buyer_nick,payment,post_fee,total_fee,created,pay_time,consign_time,end_time,modified,"
    "receiver_name,receiver_state,receiver_city,receiver_district,receiver_address,receiver_mobile,"
    "seller_memo,seller_flag,buyer_message,num,orders"
)
REFUND_FIELDS = (
    "refund_id,tid,oid,title,buyer_nick,total_fee,status,created,modified,refund_fee,good_status,"
    "company_name,sid,reason,desc,has_good_return,order_status"
)


def sign(params: dict[str, str], secret: str, method: str = "md5") -> str:
    text = "".join(f"{k}{v}" for k, v in sorted(params.items()) if k != "sign" and v not in ("", None))
    if method == "md5":
        return hashlib.md5((secret + text + secret).encode()).hexdigest().upper()  # noqa: S324 (TOP's protocol)
    if method == "hmac":
        return hmac.new(secret.encode(), text.encode(), hashlib.md5).hexdigest().upper()
    if method == "hmac-sha256":
        return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest().upper()
    raise ValueError(f"unknown sign method {method!r}")


def top_time(at: dt.datetime) -> str:
    return at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


_BAN = re.compile(r"(\d+)\s*(?:more\s+)?seconds?")


def _refusal(error: Any) -> Exception:
    if not isinstance(error, dict):
        return Transient(malformed_answer("error_response"), code="?")
    code = str(error.get("code", ""))
    sub = str(error.get("sub_code", "") or "")
    words = " ".join(str(error.get(k, "") or "") for k in ("msg", "sub_msg")).strip()
    message = f"TOP {code}{' ' + sub if sub else ''}: {words}"[:400]
    if code == "7" or sub.startswith("accesscontrol."):
        found = _BAN.search(words)
        return RateLimited(message, code=code, retry_after=float(found.group(1)) if found else 1.0)
    if code in {"26", "27", "53"} or "session" in sub:
        return AuthExpired(message, code=code)
    if sub.startswith("isv."):
        return Refused(message, code=code)
    if sub.startswith("isp.") or code in {"15", "10", "11"}:
        return Transient(message, code=code)
    return Refused(message, code=code)


def call(ctx: Context, method: str, **params: Any) -> dict[str, Any]:
    """One TOP call with the connector's keys, retried as its answer says; the method's response body."""
    secrets = ctx.secrets
    sign_method = str(secrets.get("sign_method") or "md5")
    form = {
        "method": method,
        "app_key": ctx.connector.app_key,
        "session": str(secrets.get("session", "")),
        "timestamp": top_time(clock.now()),
        "format": "json",
        "v": "2.0",
        "sign_method": sign_method,
        **{k: str(v) for k, v in params.items() if v is not None},
    }
    form["sign"] = sign(form, str(secrets.get("app_secret", "")), sign_method)
    key = method.removeprefix("taobao.").replace(".", "_") + "_response"

    def once() -> dict[str, Any]:
        body = json_of(send(ctx.http, "POST", ctx.connector.gateway, data=form))
        if "error_response" in body:
            raise _refusal(body["error_response"])
        found = body.get(key)
        if not isinstance(found, dict):
            raise Transient(malformed_answer(key))
        return found

    return ctx.backoff.run(once)


def _items(body: dict[str, Any], outer: str, inner: str) -> list[dict[str, Any]]:
    found = (body.get(outer) or {}).get(inner) if isinstance(body.get(outer), dict) else None
    if not isinstance(found, list):
        return []
    # an item that is not an object still counts: it lands as a record without a number, one failure
    return [x if isinstance(x, dict) else {"malformed": str(x)[:40]} for x in found]


def _lines(trade: dict[str, Any]) -> list[dict[str, Any]] | None:
    """A trade's lines, None when it came without them; ValueError when they are not a list."""
    orders = trade.get("orders")
    if orders in (None, "", {}):
        return None
    found = orders.get("order") if isinstance(orders, dict) else None
    if not isinstance(found, list) or not all(isinstance(o, dict) for o in found):
        raise ValueError("orders")
    return found


def _paged(ctx: Context, method: str, outer: str, inner: str, **params: Any) -> Iterator[list[dict[str, Any]]]:
    """Every page of an increment call, last page first (``base.newest_first``)."""
    yield from newest_first(
        lambda page_no: call(ctx, method, page_no=page_no, page_size=PAGE_SIZE, **params),
        lambda body: _items(body, outer, inner),
        lambda body: count(body.get("total_results"), "total_results"),
        PAGE_SIZE,
    )


# --- orders ---------------------------------------------------------------------------------------


def _money(value: Any) -> str | None:
    if value in (None, ""):
        return None
    try:
        return str(Decimal(str(value)))
    except InvalidOperation:
        return str(value)  # the import reports it on the record's row


def order_record(trade: dict[str, Any]) -> dict[str, Any]:
    """A TOP trade as the order push's record (``kefu.imports.taobao.parse_order_json``)."""
    lines = _lines(trade) or []
    shipped = next((o for o in lines if o.get("invoice_no")), {})
    address = "".join(
        str(trade.get(k) or "") for k in ("receiver_state", "receiver_city", "receiver_district", "receiver_address")
    )
    record: dict[str, Any] = {
        "order_no": str(trade.get("tid", "")),
        "buyer_nick": trade.get("buyer_nick"),
        "receiver_name": trade.get("receiver_name"),
        "receiver_phone": trade.get("receiver_mobile"),
        "address": address or None,
        "status": trade.get("status"),
        "goods_amount": _money(trade.get("total_fee")),
        "postage": _money(trade.get("post_fee")),
        "paid_amount": _money(trade.get("payment")),
        "ordered_at": trade.get("created"),
        "paid_at": trade.get("pay_time"),
        "shipped_at": trade.get("consign_time"),
        "received_at": trade.get("end_time")
        if trade.get("status") in {"TRADE_FINISHED", "TRADE_BUYER_SIGNED"}
        else None,
        "courier": shipped.get("logistics_company"),
        "tracking_no": shipped.get("invoice_no"),
        "memo": trade.get("seller_memo"),
        "flag": trade.get("seller_flag"),
        "buyer_message": trade.get("buyer_message"),
        "items_title": "；".join(str(o.get("title", "")) for o in lines)[:500] or None,
        "item_count": trade.get("num"),
        "lines": [
            {
                "line_key": str(o.get("oid", "")) or None,
                "sku": o.get("outer_sku_id") or o.get("outer_iid"),
                "title": o.get("title"),
                "attributes": o.get("sku_properties_name"),
                "quantity": o.get("num"),
                "price": _money(o.get("price")),
                "paid_amount": _money(o.get("payment")),
                "refund_status": o.get("refund_status"),
            }
            for o in lines
        ],
    }
    record["lines"] = [{k: v for k, v in line.items() if v not in (None, "")} for line in record["lines"]]
    return {k: v for k, v in record.items() if v not in (None, "")}


class Orders:
    name = "orders"
    label = _("Orders")
    prefetch = True  # its paging touches no database: the next page travels while one is imported
    window = dt.timedelta(hours=1)  # TOP allows a day; an hour keeps a busy shop's window pageable
    overlap = dt.timedelta(minutes=5)
    first_days = 3

    def pages(self, ctx: Context, start: dt.datetime, end: dt.datetime) -> Iterator[list[dict[str, Any]]]:
        yield from _paged(
            ctx,
            "taobao.trades.sold.increment.get",
            "trades",
            "trade",
            fields=TRADE_FIELDS,
            start_modified=top_time(start),
            end_modified=top_time(end),  # both ends count: a record on an edge is read twice, unchanged the second time
        )

    def land(self, ctx: Context, records: list[dict[str, Any]]) -> Landed:
        from . import landing

        def with_lines(trade: dict[str, Any]) -> dict[str, Any]:
            if _lines(trade) is None and trade.get("tid"):
                # the increment list came without the lines (an app without the field's permission,
                # an old API version): the full trade is asked for them
                full = call(ctx, "taobao.trade.fullinfo.get", tid=trade["tid"], fields=TRADE_FIELDS).get("trade")
                trade = {**trade, **(full if isinstance(full, dict) else {})}
            return order_record(trade)

        return landing.converted(ctx, records, with_lines, lambda t: str(t.get("tid") or ""), landing.orders)


class Refunds:
    name = "refunds"
    label = _("Refunds")
    window = dt.timedelta(days=1)
    overlap = dt.timedelta(minutes=5)
    first_days = 3

    def pages(self, ctx: Context, start: dt.datetime, end: dt.datetime) -> Iterator[list[dict[str, Any]]]:
        yield from _paged(
            ctx,
            "taobao.refunds.receive.get",
            "refunds",
            "refund",
            fields=REFUND_FIELDS,
            start_modified=top_time(start),
            end_modified=top_time(end),  # both ends count: a record on an edge is read twice, unchanged the second time
        )

    def land(self, ctx: Context, records: list[dict[str, Any]]) -> Landed:
        from . import landing

        out = []
        for r in records:
            record = dict(r)
            if r.get("status") in OPEN_REFUND and isinstance(r.get("refund_id"), str | int):
                # the reply deadline comes only with taobao.refund.get (never hard-coded: FORMATS §2f)
                detail = call(
                    ctx,
                    "taobao.refund.get",
                    refund_id=r["refund_id"],
                    fields="refund_id,cs_status,refund_remind_timeout",
                )
                found = detail.get("refund") or {}
                if found.get("cs_status") not in (None, ""):
                    record["cs_status"] = str(found["cs_status"])
                remind = found.get("refund_remind_timeout")
                if isinstance(remind, dict) and remind.get("exist_timeout", True) and remind.get("timeout"):
                    record["timeout"] = remind["timeout"]
            out.append(record)
        return landing.refunds(ctx, out)


class Ratings:
    """The buyers' ratings of the shop's orders (``taobao.traderates.get``): bad and neutral ones are
    the day's negative reviews (R-AS-13)."""

    name = "ratings"
    label = _("Ratings")
    window = dt.timedelta(days=1)
    overlap = dt.timedelta(hours=1)
    first_days = 3

    def pages(self, ctx: Context, start: dt.datetime, end: dt.datetime) -> Iterator[list[dict[str, Any]]]:
        for result in ("bad", "neutral"):
            page_no = 1
            while True:
                body = call(
                    ctx,
                    "taobao.traderates.get",
                    fields="tid,oid,role,nick,result,created,rated_nick,item_title,content,reply",
                    rate_type="get",
                    role="buyer",
                    result=result,
                    start_date=top_time(start),
                    end_date=top_time(end),
                    page_no=page_no,
                    page_size=RATES_PAGE,
                    use_has_next="true",
                )
                items = _items(body, "trade_rates", "trade_rate")
                if items:
                    yield items
                if not body.get("has_next") or not items:
                    break
                page_no += 1

    def land(self, ctx: Context, records: list[dict[str, Any]]) -> Landed:
        from . import landing

        return landing.reviews(ctx, records)


class Traces:
    """The courier's trace of each shipped, not yet received order of the last two weeks
    (``taobao.logistics.trace.search``, one call an order): a trace silent past the policy's hours
    opens a logistics exception (R-AS-10). Not a window of time: every run asks the parcels on the
    way, the longest on the way first, at most ``TRACES_PER_RUN``."""

    name = "traces"
    label = _("Logistics traces")
    window = dt.timedelta(days=3650)
    overlap = dt.timedelta(0)
    first_days = 1

    def pages(self, ctx: Context, start: dt.datetime, end: dt.datetime) -> Iterator[list[dict[str, Any]]]:
        from kefu.commerce.models import Order
        from kefu.core.policy_store import policy_in_force

        # a parcel can be an exception only once it has been on the way longer than the policy's
        # hours: the younger ones are not asked about
        hours = int(policy_in_force(clock.local_date(end)).aftersales.trace_stall_hours)
        shipped = list(
            Order.objects.filter(
                shop=ctx.connector.shop,
                status="shipped",
                received_at__isnull=True,
                shipped_at__gte=end - dt.timedelta(days=14),
                shipped_at__lte=end - dt.timedelta(hours=hours),
            )
            .order_by("shipped_at", "id")
            .values_list("order_no", flat=True)[:TRACES_PER_RUN]
        )
        page: list[dict[str, Any]] = []
        for order_no in shipped:
            try:
                page.append({"tid": order_no, **call(ctx, "taobao.logistics.trace.search", tid=order_no)})
            except Refused as exc:
                if exc.code not in {"15", "40", "41"}:
                    raise  # the connector's keys or signature: every order would meet it
                page.append({"tid": order_no, "refused": str(exc)})  # this order's trace: one failed record
            if len(page) == PAGE_SIZE:
                yield page
                page = []
        if page:
            yield page

    def land(self, ctx: Context, records: list[dict[str, Any]]) -> Landed:
        from . import landing

        traces, refused = [], []
        for r in records:
            if r.get("refused"):
                refused.append((str(r.get("tid")), str(r["refused"])))
                continue
            if not isinstance(r.get("trace_list", {}), dict):
                refused.append((str(r.get("tid")), malformed(TypeError())))
                continue
            steps = []
            for step in _items(r, "trace_list", "transit_step_info"):
                try:
                    at = dt.datetime.strptime(str(step.get("status_time")), "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA)
                except ValueError:
                    continue  # a step without a readable time says nothing about when the parcel moved
                steps.append((at, str(step.get("status_desc") or step.get("action") or "")))
            traces.append(
                {
                    "order_no": str(r.get("tid")),
                    "steps": steps,
                    "company": str(r.get("company_name") or ""),
                    "tracking_no": str(r.get("out_sid") or ""),
                }
            )
        landed = landing.traces(ctx, traces)
        landed.failures += refused
        return landed


def memo_update(ctx: Context, order_no: str, memo: str, flag: int | None = None) -> dict[str, Any]:
    """R-COM-1's write-back: the remark Kefu built becomes the platform's seller memo."""
    return call(ctx, "taobao.trade.memo.update", tid=order_no, memo=memo, flag=flag)


ADAPTER = Adapter(
    platform="taobao",
    streams=(Orders(), Refunds(), Ratings(), Traces()),
    default_gateway=GATEWAY,
    needs_shop=True,
)
register(ADAPTER)
