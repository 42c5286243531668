"""A fake of Pinduoduo's POP router: JSON (or form) POSTs signed with MD5, orders and after-sales by
update time in windows of at most 30 minutes, ``total_count`` and pages of at most 100. Refusals as
the platform's ``error_response``: 10019 expired access token, 70031 rate limit, 50001 service error,
10001/10002 missing or invalid parameters, 10016 bad signature (the fake's own check)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import random
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from kefu.core import clock

CHINA = ZoneInfo("Asia/Shanghai")


def _time(at: dt.datetime) -> str:
    return at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def _sign(params: dict[str, str], secret: str) -> str:
    text = "".join(k + v for k, v in sorted(params.items()) if k != "sign" and v != "")
    return hashlib.md5((secret + text + secret).encode("utf-8")).hexdigest().upper()  # noqa: S324


def make_order(n: int, updated: dt.datetime) -> dict[str, Any]:
    rng = random.Random(n)
    price = rng.choice((39.9, 59.0, 129.0, 19.9))
    count = rng.randint(1, 3)
    created = updated - dt.timedelta(minutes=rng.randint(5, 300))
    status = rng.choice((1, 2, 3))
    order = {
        "order_sn": f"{created:%y%m%d}-{700000000000 + n:012d}",
        "order_status": status,
        "refund_status": 1,
        "created_time": _time(created),
        "pay_time": _time(created + dt.timedelta(minutes=1)),
        "updated_at": _time(updated),
        "goods_amount": round(price * count, 2),
        "pay_amount": round(price * count, 2),
        "postage": 0,
        "receiver_name": "张**",
        "receiver_phone": "138****0000",
        "province": "广东省",
        "city": "广州市",
        "town": "天河区",
        "address": "体育西路***号",
        "remark": "",
        "buyer_memo": "",
        "item_list": [
            {
                "goods_id": 500 + n % 7,
                "sku_id": 9000 + n % 7,
                "outer_id": f"PDD-SKU-{n % 7}",
                "goods_name": rng.choice(("304不锈钢保温杯 500ml", "家用硅胶锅铲套装", "厨房置物架 免打孔")),
                "goods_price": price,
                "goods_spec": "白色",
                "goods_count": count,
            }
        ],
    }
    if status >= 2:
        order["shipping_time"] = _time(created + dt.timedelta(hours=3))
        order["tracking_number"] = f"YT{7000000000 + n}"
    if status == 3:
        order["receive_time"] = _time(updated)
    return order


@dataclass
class PddFake:
    client_id: str = "pdd-sandbox"
    client_secret: str = "pdd-sandbox-secret"
    tokens: set[str] = field(default_factory=lambda: {"pdd-token"})
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[int, dict[str, Any]] = field(default_factory=dict)
    faults: list[str] = field(default_factory=list)
    calls: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_orders(
        self, count: int, at: dt.datetime | None = None, spread: dt.timedelta = dt.timedelta(hours=2)
    ) -> list[dict[str, Any]]:
        at = (at or clock.now()).replace(microsecond=0)
        made = [make_order(len(self.orders) + n, at - spread * (n / max(1, count))) for n in range(count)]
        with self.lock:
            self.orders.update({o["order_sn"]: o for o in made})
        return made

    def add_refund(
        self, order_sn: str, status: int = 2, kind: int = 3, at: dt.datetime | None = None
    ) -> dict[str, Any]:
        order = self.orders[order_sn]
        rid = 880000 + len(self.refunds)
        refund = {
            "id": rid,
            "order_sn": order_sn,
            "after_sales_type": kind,
            "after_sales_status": status,
            "after_sale_reason": "不想要了",
            "order_amount": str(order["pay_amount"]),
            "refund_amount": str(order["pay_amount"]),
            "goods_name": order["item_list"][0]["goods_name"],
            "created_time": _time(at or clock.now()),
            "updated_time": _time((at or clock.now()).replace(microsecond=0)),
        }
        with self.lock:
            self.refunds[rid] = refund
        return refund

    def respond(
        self, method: str, path: str, query: dict[str, str], body: bytes, headers: dict[str, str]
    ) -> tuple[int, Any]:
        params: dict[str, Any] = dict(query)
        if body:
            try:
                params.update(json.loads(body) if body.lstrip().startswith(b"{") else dict(parse_qsl(body.decode())))
            except ValueError:
                return 200, self._error(10001, "公共参数错误")
        params = {k: str(v) for k, v in params.items()}
        with self.lock:
            self.calls.append(params)
        if params.get("client_id") != self.client_id:
            return 200, self._error(10016, "client_id不存在")
        if not hmac.compare_digest(params.get("sign", ""), _sign(params, self.client_secret)):
            return 200, self._error(10016, "签名错误")
        try:
            stamp = int(params.get("timestamp", ""))
        except ValueError:
            return 200, self._error(10001, "timestamp错误")
        if abs(clock.now().timestamp() - stamp) > 600:
            return 200, self._error(10001, "timestamp已过期")
        if params.get("access_token") not in self.tokens:
            return 200, self._error(10019, "access_token已过期")
        if self.faults:
            kind = self.faults.pop(0)
            if kind == "rate_limit":
                return 200, self._error(70031, "调用过于频繁")
            if kind == "server_error":
                return 200, self._error(50001, "业务服务错误")
        try:
            if params.get("type") == "pdd.order.number.list.increment.get":
                return 200, {
                    "order_sn_increment_get_response": self._list(
                        params, self.orders.values(), "updated_at", "order_sn_list"
                    )
                }
            if params.get("type") == "pdd.refund.list.increment.get":
                return 200, {
                    "refund_increment_get_response": self._list(
                        params, self.refunds.values(), "updated_time", "refund_list"
                    )
                }
        except (KeyError, ValueError) as exc:
            return 200, self._error(10002, f"业务参数错误: {exc}")
        return 200, self._error(10001, "type不存在")

    def _list(self, params: dict[str, str], items: Any, stamp: str, key: str) -> dict[str, Any]:
        start, end = int(params["start_updated_at"]), int(params["end_updated_at"])
        page, size = int(params.get("page") or 1), int(params.get("page_size") or 100)
        if end < start or end - start > 1800 or not 1 <= size <= 100:
            raise ValueError("start_updated_at/end_updated_at: at most 30 minutes; page_size ≤ 100")
        low, high = dt.datetime.fromtimestamp(start, CHINA), dt.datetime.fromtimestamp(end, CHINA)
        with self.lock:
            found = [
                x
                for x in items
                if low <= dt.datetime.strptime(x[stamp], "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA) <= high
            ]
        found.sort(key=lambda x: x[stamp], reverse=True)
        return {"total_count": len(found), key: json.loads(json.dumps(found[(page - 1) * size : page * size]))}

    @staticmethod
    def _error(code: int, msg: str) -> dict[str, Any]:
        return {
            "error_response": {
                "error_code": code,
                "error_msg": msg,
                "sub_code": "",
                "sub_msg": "",
                "request_id": "fake",
            }
        }
