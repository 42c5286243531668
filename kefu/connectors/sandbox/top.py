"""A fake of Taobao's TOP router (FORMATS §2g): form parameters in, JSON out, signed requests only.

It answers what the real router answers, in its shapes: ``<method>_response`` bodies with lists
wrapped (``trades: {trade: [...]}``), newest first, ``total_results`` or ``has_next``; and the
documented refusals as HTTP 200 ``error_response``: 25 invalid signature, 27 invalid session, 29
invalid app key, 31 a timestamp off by more than ten minutes, 7 "App Call Limited" with its ban
seconds, 15 ``isp.*`` remote errors, 40/41 missing or invalid arguments. ``fail(...)`` schedules a
refusal (or an HTTP 500) for a coming call, so a test can put a rate limit in the middle of a page.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import random
import threading
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from kefu.core import clock

CHINA = ZoneInfo("Asia/Shanghai")
FORMAT = "%Y-%m-%d %H:%M:%S"


def _time(at: dt.datetime) -> str:
    return at.astimezone(CHINA).strftime(FORMAT)


def _parse(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, FORMAT).replace(tzinfo=CHINA)


def _sign(params: dict[str, str], secret: str, method: str) -> str:
    # written apart from the connector's own signing on purpose: a contract, not a copy
    pairs = sorted((k, v) for k, v in params.items() if k != "sign" and v != "")
    text = "".join(k + v for k, v in pairs).encode("utf-8")
    key = secret.encode("utf-8")
    if method == "md5":
        return hashlib.md5(key + text + key).hexdigest().upper()  # noqa: S324
    digest = hashlib.md5 if method == "hmac" else hashlib.sha256
    return hmac.new(key, text, digest).hexdigest().upper()


@dataclass
class Fault:
    kind: str  # rate_limit | server_error | http_500 | bad_session | isv
    method: str | None
    page_no: int | None
    times: int


ERRORS: dict[str, dict[str, Any]] = {
    "rate_limit": {
        "code": 7,
        "msg": "App Call Limited",
        "sub_code": "accesscontrol.limited-by-app-access-count",
        "sub_msg": "This ban will last for 1 more seconds",
    },
    "server_error": {"code": 15, "msg": "Remote service error", "sub_code": "isp.remote-service-timeout"},
    "bad_session": {
        "code": 27,
        "msg": "Invalid session",
        "sub_code": "invalid-sessionkey",
        "sub_msg": "SessionKey非法",
    },
    "isv": {"code": 15, "msg": "Remote service error", "sub_code": "isv.invalid-parameter", "sub_msg": "参数错误"},
}

PROVINCES = (
    ("浙江省", "杭州市", "西湖区"),
    ("广东省", "深圳市", "南山区"),
    ("江苏省", "苏州市", "工业园区"),
    ("上海", "上海市", "浦东新区"),
)
GOODS = (
    ("智能电饭煲 IH 4L", "CF-IH40", Decimal("399.00")),
    ("空气炸锅 5.5L 可视", "AF-55V", Decimal("259.00")),
    ("破壁料理机 静音款", "BL-Q2", Decimal("699.00")),
    ("电热水壶 1.7L 保温", "KT-17", Decimal("129.00")),
    ("不粘炒锅 32cm", "PAN-32", Decimal("189.00")),
)
STATUSES = ("WAIT_SELLER_SEND_GOODS", "WAIT_BUYER_CONFIRM_GOODS", "TRADE_FINISHED", "TRADE_CLOSED", "WAIT_BUYER_PAY")


def make_trade(tid: int, modified: dt.datetime, rng: random.Random | None = None) -> dict[str, Any]:
    """A trade in TOP's shape, with one to three lines."""
    rng = rng or random.Random(tid)
    status = rng.choice(STATUSES)
    created = modified - dt.timedelta(minutes=rng.randint(1, 600))
    province, city, district = rng.choice(PROVINCES)
    orders: list[dict[str, Any]] = []
    total = Decimal("0")
    for n in range(rng.randint(1, 3)):
        title, sku, price = rng.choice(GOODS)
        num = rng.randint(1, 2)
        orders.append(
            {
                "oid": tid * 10 + n + 1,
                "title": title,
                "num": num,
                "price": str(price),
                "payment": str(price * num),
                "outer_iid": sku,
                "outer_sku_id": f"{sku}-{n + 1}",
                "sku_properties_name": "颜色:白色;规格:标准款",
                "status": status,
                "refund_status": "NO_REFUND",
                **(
                    {"logistics_company": "中通快递", "invoice_no": f"7{tid % 10**11:011d}"}
                    if status in {"WAIT_BUYER_CONFIRM_GOODS", "TRADE_FINISHED"}
                    else {}
                ),
            }
        )
        total += price * num
    paid = status != "WAIT_BUYER_PAY"
    trade = {
        "tid": tid,
        "status": status,
        "buyer_nick": f"tb{rng.randint(10**6, 10**7)}",
        "payment": str(total),
        "post_fee": "0.00",
        "total_fee": str(total),
        "created": _time(created),
        "modified": _time(modified),
        "receiver_name": rng.choice(("王芳", "李娜", "张伟", "刘洋", "陈静")),
        "receiver_state": province,
        "receiver_city": city,
        "receiver_district": district,
        "receiver_address": f"文一西路{rng.randint(1, 999)}号",
        "receiver_mobile": f"13{rng.randint(10**8, 10**9 - 1)}",
        "seller_memo": "",
        "seller_flag": 0,
        "num": sum(int(o["num"]) for o in orders),
        "orders": {"order": orders},
    }
    if paid:
        trade["pay_time"] = _time(created + dt.timedelta(minutes=1))
    if status in {"WAIT_BUYER_CONFIRM_GOODS", "TRADE_FINISHED"}:
        trade["consign_time"] = _time(created + dt.timedelta(hours=5))
    if status == "TRADE_FINISHED":
        trade["end_time"] = _time(modified)
    return trade


def make_refund(refund_id: str, trade: dict[str, Any], modified: dt.datetime, status: str) -> dict[str, Any]:
    line = trade["orders"]["order"][0]
    return {
        "refund_id": refund_id,
        "tid": trade["tid"],
        "oid": line["oid"],
        "title": line["title"],
        "buyer_nick": trade["buyer_nick"],
        "total_fee": trade["payment"],
        "refund_fee": line["payment"],
        "status": status,
        "good_status": "BUYER_RECEIVED",
        "has_good_return": True,
        "reason": "7天无理由退换货",
        "desc": "不喜欢",
        "created": _time(modified - dt.timedelta(hours=1)),
        "modified": _time(modified),
        "order_status": trade["status"],
        "cs_status": 1,
        "refund_remind_timeout": {
            "remind_type": 1,
            "exist_timeout": True,
            "timeout": _time(modified + dt.timedelta(days=2)),
        },
    }


class TopFake:
    def __init__(
        self,
        app_key: str = "12345678",
        app_secret: str = "sandbox-secret",  # noqa: S107 (the fake's own sandbox key)
        session: str = "sandbox-session",
        lenient: bool = False,
    ) -> None:
        self.lenient = lenient
        self.apps = {app_key: app_secret}
        self.sessions = {session}
        self.trades: dict[int, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.rates: list[dict[str, Any]] = []
        self.changes = 0
        self.fields_withheld: set[str] = set()  # fields the increment list leaves out (fullinfo has them)
        self._window_cache: tuple[Any, list[dict[str, Any]]] = (None, [])
        self.traces: dict[int, list[dict[str, Any]]] = {}
        self.faults: list[Fault] = []
        self.calls: list[dict[str, str]] = []
        self.lock = threading.Lock()

    # --- what a test arranges ---------------------------------------------------------------------

    def add_trades(
        self,
        count: int,
        *,
        start_tid: int = 3_000_000_000_000_000,
        at: dt.datetime | None = None,
        spread: dt.timedelta = dt.timedelta(hours=2),
    ) -> list[dict[str, Any]]:
        at = at or clock.now()
        made = []
        with self.lock:
            for n in range(count):
                modified = at - spread * (n / max(1, count))
                trade = make_trade(start_tid + n, modified.replace(microsecond=0))
                self.trades[trade["tid"]] = trade
                made.append(trade)
        return made

    def touch(self, tid: int, at: dt.datetime | None = None, **changes: Any) -> dict[str, Any]:
        with self.lock:
            self.changes += 1
            trade = self.trades[tid]
            trade.update(changes)
            trade["modified"] = _time((at or clock.now()).replace(microsecond=0))
            return trade

    def add_refund(
        self, refund_id: str, tid: int, status: str = "WAIT_SELLER_AGREE", at: dt.datetime | None = None
    ) -> dict[str, Any]:
        with self.lock:
            refund = make_refund(refund_id, self.trades[tid], (at or clock.now()).replace(microsecond=0), status)
            self.refunds[refund_id] = refund
            return refund

    def add_rate(self, tid: int, result: str, content: str, at: dt.datetime | None = None) -> dict[str, Any]:
        trade = self.trades[tid]
        rate = {
            "tid": tid,
            "oid": trade["orders"]["order"][0]["oid"],
            "role": "buyer",
            "nick": trade["buyer_nick"],
            "result": result,
            "created": _time((at or clock.now()).replace(microsecond=0)),
            "item_title": trade["orders"]["order"][0]["title"],
            "content": content,
        }
        with self.lock:
            self.rates.append(rate)
        return rate

    def set_trace(self, tid: int, steps: list[tuple[dt.datetime, str]]) -> None:
        with self.lock:
            self.traces[tid] = [
                {"status_time": _time(at), "status_desc": text, "action": "TRANSPORT"} for at, text in steps
            ]

    def fail(self, kind: str, *, method: str | None = None, page_no: int | None = None, times: int = 1) -> None:
        self.faults.append(Fault(kind, method, page_no, times))

    def expire(self) -> None:
        self.sessions.clear()

    # --- the router -------------------------------------------------------------------------------

    def respond(
        self, method: str, path: str, query: dict[str, str], body: bytes, headers: dict[str, str]
    ) -> tuple[int, Any]:
        if method not in {"GET", "POST"}:
            return 200, self._error(9, "Http Action Not Allowed")
        params = dict(query)
        if body:
            params.update(dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True)))
        return self.handle(params)

    def handle(self, params: dict[str, str]) -> tuple[int, Any]:
        with self.lock:
            self.calls.append(dict(params))
        api = params.get("method", "")
        if not api:
            return 200, self._error(21, "Missing Method")
        if params.get("format") != "json":
            return 200, self._error(41, "Invalid Arguments", "isv.invalid-parameter:format")
        secret = self.apps.get(params.get("app_key", ""))
        if secret is None:
            return 200, self._error(29, "Invalid App Key")
        try:
            stamp = _parse(params.get("timestamp", ""))
        except ValueError:
            return 200, self._error(31, "Invalid Timestamp")
        if abs((clock.now() - stamp).total_seconds()) > 600:
            return 200, self._error(31, "Invalid Timestamp")
        sign_method = params.get("sign_method", "md5")
        if sign_method not in {"md5", "hmac", "hmac-sha256"}:
            return 200, self._error(41, "Invalid Arguments", "isv.invalid-parameter:sign_method")
        if not hmac.compare_digest(params.get("sign", ""), _sign(params, secret, sign_method)):
            return 200, self._error(25, "Invalid Signature")
        if params.get("session", "") not in self.sessions:
            return 200, self._error(**ERRORS["bad_session"])
        fault = self._fault(api, params)
        if fault == "http_500":
            return 500, b"<html>502 Bad Gateway</html>"
        if fault:
            return 200, self._error(**ERRORS[fault])
        handler = getattr(self, "_" + api.replace(".", "_"), None)
        if handler is None:
            return 200, self._error(22, "Invalid Method")
        try:
            result = handler(params)
        except KeyError as exc:
            return 200, self._error(40, "Missing Required Arguments", f"isv.missing-parameter:{exc.args[0]}")
        except ValueError as exc:
            return 200, self._error(41, "Invalid Arguments", f"isv.invalid-parameter:{exc}")
        key = api.removeprefix("taobao.").replace(".", "_") + "_response"
        return 200, {key: {**result, "request_id": "fake" + str(len(self.calls))}}

    def _fault(self, api: str, params: dict[str, str]) -> str:
        with self.lock:
            for fault in self.faults:
                if fault.times <= 0 or (fault.method and fault.method != api):
                    continue
                if fault.page_no is not None and params.get("page_no") != str(fault.page_no):
                    continue
                fault.times -= 1
                return fault.kind
        return ""

    @staticmethod
    def _error(code: int, msg: str, sub_code: str = "", sub_msg: str = "") -> dict[str, Any]:
        error: dict[str, Any] = {"code": code, "msg": msg, "request_id": "fake-error"}
        if sub_code:
            error["sub_code"], error["sub_msg"] = sub_code, sub_msg or sub_code
        return {"error_response": error}

    # --- the APIs ---------------------------------------------------------------------------------

    def _window(self, params: dict[str, str]) -> tuple[dt.datetime, dt.datetime, int, int]:
        start, end = _parse(params["start_modified"]), _parse(params["end_modified"])
        if end < start or end - start > dt.timedelta(days=1):
            raise ValueError("start_modified/end_modified: the window is at most one day")
        page_no, page_size = int(params.get("page_no") or 1), int(params.get("page_size") or 40)
        if not 1 <= page_size <= 100 or page_no < 1:
            raise ValueError("page_size")
        return start, end, page_no, page_size

    def _page(
        self, items: list[dict[str, Any]], params: dict[str, str], page_no: int, page_size: int, outer: str, inner: str
    ) -> dict[str, Any]:
        items.sort(key=lambda x: x["modified"], reverse=True)  # newest first, as the router
        chunk = items[(page_no - 1) * page_size : page_no * page_size]
        fields = set(filter(None, params.get("fields", "").split(",")))
        if fields:
            chunk = [{k: v for k, v in item.items() if k in fields} for item in chunk]
        out: dict[str, Any] = {outer: {inner: json.loads(json.dumps(chunk))}} if chunk else {}
        if params.get("use_has_next") == "true":
            out["has_next"] = page_no * page_size < len(items)
        else:
            out["total_results"] = len(items)
        return out

    def _taobao_trades_sold_increment_get(self, params: dict[str, str]) -> dict[str, Any]:
        if not params.get("fields"):
            raise KeyError("fields")
        start, end, page_no, page_size = self._window(params)
        lo, hi = _time(start), _time(end)  # the strings sort as the times do
        if self.fields_withheld:
            params = {
                **params,
                "fields": ",".join(f for f in params["fields"].split(",") if f not in self.fields_withheld),
            }
        with self.lock:
            # one window's list is kept while nothing changes (a benchmark pages 100,000 trades)
            key = (lo, hi, len(self.trades), self.changes)
            if self._window_cache[0] != key:
                self._window_cache = (key, [t for t in self.trades.values() if lo <= t["modified"] <= hi])
            items = list(self._window_cache[1])
        return self._page(items, params, page_no, page_size, "trades", "trade")

    def _taobao_trade_fullinfo_get(self, params: dict[str, str]) -> dict[str, Any]:
        tid = int(params["tid"])
        with self.lock:
            trade = self.trades.get(tid)
        if trade is None:
            raise ValueError("tid")
        return {"trade": json.loads(json.dumps(trade))}

    def _taobao_refunds_receive_get(self, params: dict[str, str]) -> dict[str, Any]:
        start, end, page_no, page_size = self._window(params)
        with self.lock:
            items = [
                {k: v for k, v in r.items() if k not in {"refund_remind_timeout", "cs_status"}}
                for r in self.refunds.values()
                if start <= _parse(r["modified"]) <= end
            ]
        return self._page(items, params, page_no, page_size, "refunds", "refund")

    def _taobao_refund_get(self, params: dict[str, str]) -> dict[str, Any]:
        with self.lock:
            refund = self.refunds.get(params["refund_id"])
        if refund is None:
            raise ValueError("refund_id")
        fields = set(filter(None, params.get("fields", "").split(","))) or set(refund)
        return {"refund": {k: v for k, v in refund.items() if k in fields}}

    def _taobao_traderates_get(self, params: dict[str, str]) -> dict[str, Any]:
        if params.get("rate_type") != "get" or params.get("role") != "buyer":
            raise ValueError("rate_type/role")
        start, end = _parse(params["start_date"]), _parse(params["end_date"])
        page_no, page_size = int(params.get("page_no") or 1), int(params.get("page_size") or 40)
        if not 1 <= page_size <= 150:
            raise ValueError("page_size")
        with self.lock:
            items = [
                r
                for r in self.rates
                if start <= _parse(r["created"]) <= end
                and (not params.get("result") or r["result"] == params["result"])
            ]
        items.sort(key=lambda r: r["created"], reverse=True)
        chunk = items[(page_no - 1) * page_size : page_no * page_size]
        out: dict[str, Any] = {"trade_rates": {"trade_rate": chunk}} if chunk else {}
        out["has_next"] = page_no * page_size < len(items)
        return out

    def _taobao_logistics_trace_search(self, params: dict[str, str]) -> dict[str, Any]:
        tid = int(params["tid"])
        with self.lock:
            trace = self.traces.get(tid)
            trade = self.trades.get(tid)
        if trade is None and self.lenient:  # the sandbox: an order it never sold is simply on its way
            moving = [
                {
                    "status_time": _time(clock.now() - dt.timedelta(hours=2)),
                    "status_desc": "运输中",
                    "action": "TRANSPORT",
                }
            ]
            return {
                "tid": tid,
                "out_sid": "",
                "company_name": "",
                "status": "运输中",
                "trace_list": {"transit_step_info": moving},
            }
        if trade is None:
            raise ValueError("tid")
        line = trade["orders"]["order"][0]
        steps = trace if trace is not None else []
        return {
            "tid": tid,
            "out_sid": line.get("invoice_no", ""),
            "company_name": line.get("logistics_company", ""),
            "status": steps[-1]["status_desc"] if steps else "",
            "trace_list": {"transit_step_info": steps},
        }

    def _taobao_trade_memo_update(self, params: dict[str, str]) -> dict[str, Any]:
        tid = int(params["tid"])
        memo = params.get("memo", "")
        if len(memo.encode("utf-8")) > 1000:
            raise ValueError("memo")
        with self.lock:
            trade = self.trades.get(tid)
            if trade is None:
                raise ValueError("tid")
            self.changes += 1
            trade["seller_memo"] = memo
            if params.get("flag"):
                trade["seller_flag"] = int(params["flag"])
            trade["modified"] = _time(clock.now().replace(microsecond=0))
            return {"trade": {"tid": tid, "modified": trade["modified"]}}
