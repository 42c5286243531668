"""A fake of DingTalk's server API (oapi): a token from the app's keys, then JSON POSTs with
``?access_token=``. It answers the documented shapes and refusals: ``errcode`` 40089 for wrong app
keys, 40014 for an unknown token, 42001 for an expired one, 90018 for the rate limit, -1 busy; and it
enforces the documented limits (50 people and 50 records per /attendance/list call, seven days)."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


@dataclass
class DingTalkFake:
    app_key: str = "ding-sandbox"
    app_secret: str = "ding-sandbox-secret"
    users: list[dict[str, Any]] = field(default_factory=list)  # {userid, name, job_number, dept}
    departments: list[dict[str, Any]] = field(
        default_factory=lambda: [{"dept_id": 2, "name": "客服部", "parent_id": 1}]
    )
    records: list[dict[str, Any]] = field(default_factory=list)  # /attendance/list records
    leave: list[dict[str, Any]] = field(default_factory=list)  # getleavestatus rows
    # punches the results do not list (a second punch, one on a rest day): only /attendance/listRecord
    extra_records: list[dict[str, Any]] = field(default_factory=list)
    leave_types: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {"leave_code": "lc-personal", "leave_name": "事假"},
            {"leave_code": "lc-sick", "leave_name": "病假"},
            {"leave_code": "lc-annual", "leave_name": "年假"},
        ]
    )
    processes: dict[str, dict[str, Any]] = field(default_factory=dict)  # approval instances by id
    trip_process_code: str = "PROC-TRIP"
    tokens: set[str] = field(default_factory=set)
    faults: list[tuple[str, str]] = field(default_factory=list)  # (path, errcode kind)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_user(self, userid: str, name: str, job_number: str = "", dept: int = 2) -> None:
        self.users.append({"userid": userid, "name": name, "job_number": job_number, "dept": dept})

    def punch(
        self, userid: str, at: dt.datetime, check: str = "OnDuty", result: str = "Normal", source: str = "ATM"
    ) -> None:
        local = at.astimezone(CHINA)
        day = local.replace(hour=0, minute=0, second=0, microsecond=0)
        self.records.append(
            {
                "id": len(self.records) + 1,
                "userId": userid,
                "workDate": int(day.timestamp() * 1000),
                "checkType": check,
                "timeResult": result,
                "locationResult": "Normal",
                "baseCheckTime": int(local.timestamp() * 1000),
                "userCheckTime": int(local.timestamp() * 1000) if result != "NotSigned" else None,
                "sourceType": source,
                "recordId": len(self.records) + 1000,
            }
        )

    def extra_punch(self, userid: str, at: dt.datetime, check: str = "OnDuty") -> None:
        stamp = int(at.astimezone(CHINA).timestamp() * 1000)
        self.extra_records.append(
            {"userId": userid, "checkType": check, "timeResult": "Normal", "sourceType": "ATM",
             "userCheckTime": stamp, "baseCheckTime": stamp}
        )  # fmt: skip

    def add_leave(
        self, userid: str, start: dt.datetime, end: dt.datetime, code: str = "lc-personal", percent: int = 100
    ) -> None:
        self.leave.append(
            {
                "userid": userid,
                "start_time": int(start.timestamp() * 1000),
                "end_time": int(end.timestamp() * 1000),
                "duration_unit": "percent_day",
                "duration_percent": percent,
                "leave_code": code,
            }
        )

    def add_trip(
        self, userid: str, start: dt.datetime, end: dt.datetime, result: str = "agree", reason: str = "拜访客户"
    ) -> str:
        pid = f"proc-{len(self.processes) + 1}"
        created = start - dt.timedelta(days=1)
        self.processes[pid] = {
            "title": "出差申请",
            "create_time": created.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S"),
            "originator_userid": userid,
            "status": "COMPLETED",
            "result": result,
            "business_id": f"2026{len(self.processes) + 1:08d}",
            "form_component_values": [
                {"name": "开始时间", "value": start.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")},
                {"name": "结束时间", "value": end.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")},
                {"name": "出差事由", "value": reason},
            ],
        }
        return pid

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def fail(self, path: str, kind: str) -> None:
        self.faults.append((path, kind))

    def respond(
        self, method: str, path: str, query: dict[str, str], body: bytes, headers: dict[str, str]
    ) -> tuple[int, Any]:
        payload: dict[str, Any] = {}
        if body:
            try:
                payload = json.loads(body)
            except ValueError:
                return 200, {"errcode": 40035, "errmsg": "不合法的参数"}
        with self.lock:
            self.calls.append((path, payload))
        if path == "/gettoken":
            if query.get("appkey") != self.app_key or query.get("appsecret") != self.app_secret:
                return 200, {"errcode": 40089, "errmsg": "不合法的corpid或corpsecret"}
            token = secrets.token_hex(8)
            self.tokens.add(token)
            return 200, {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}
        if method != "POST":
            return 200, {"errcode": 404, "errmsg": "请求的URI地址不存在"}
        if query.get("access_token") not in self.tokens:
            return 200, {"errcode": 40014, "errmsg": "不合法的access_token"}
        with self.lock:
            for n, (fpath, kind) in enumerate(self.faults):
                if fpath == path:
                    del self.faults[n]
                    if kind == "rate_limit":
                        return 200, {"errcode": 90018, "errmsg": "当前企业所有的api调用频率超过限制"}
                    if kind == "busy":
                        return 200, {"errcode": -1, "errmsg": "系统繁忙"}
                    if kind == "expired":
                        self.tokens.discard(query.get("access_token", ""))
                        return 200, {"errcode": 42001, "errmsg": "access_token超时"}
        handler = {
            "/topapi/v2/department/listsub": self._listsub,
            "/topapi/v2/user/list": self._user_list,
            "/attendance/list": self._attendance,
            "/attendance/listRecord": self._records,
            "/topapi/attendance/getleavestatus": self._leave,
            "/topapi/attendance/vacation/type/list": self._types,
            "/topapi/processinstance/listids": self._listids,
            "/topapi/processinstance/get": self._process,
        }.get(path)
        if handler is None:
            return 200, {"errcode": 404, "errmsg": "请求的URI地址不存在"}
        try:
            return 200, {"errcode": 0, "errmsg": "ok", **handler(payload)}
        except (KeyError, ValueError, TypeError) as exc:
            return 200, {"errcode": 40035, "errmsg": f"不合法的参数: {exc}"}

    def _listsub(self, p: dict[str, Any]) -> dict[str, Any]:
        parent = int(p["dept_id"])
        return {"result": [d for d in self.departments if d["parent_id"] == parent]}

    def _user_list(self, p: dict[str, Any]) -> dict[str, Any]:
        dept, cursor, size = int(p["dept_id"]), int(p["cursor"]), int(p["size"])
        if not 1 <= size <= 100:
            raise ValueError("size")
        people = [u for u in self.users if u["dept"] == dept]
        chunk = people[cursor : cursor + size]
        more = cursor + size < len(people)
        result: dict[str, Any] = {
            "has_more": more,
            "list": [
                {"userid": u["userid"], "name": u["name"], "job_number": u["job_number"], "dept_id_list": [dept]}
                for u in chunk
            ],
        }
        if more:
            result["next_cursor"] = cursor + size
        return {"result": result}

    def _attendance(self, p: dict[str, Any]) -> dict[str, Any]:
        low = dt.datetime.strptime(p["workDateFrom"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA)
        high = dt.datetime.strptime(p["workDateTo"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA)
        users, offset, limit = list(p["userIdList"]), int(p["offset"]), int(p["limit"])
        if len(users) > 50 or not 1 <= limit <= 50 or high - low > dt.timedelta(days=7) or high < low:
            raise ValueError("userIdList ≤ 50, limit ≤ 50, at most 7 days")
        found = [
            r
            for r in self.records
            if r["userId"] in users and low.timestamp() * 1000 <= r["workDate"] <= high.timestamp() * 1000
        ]
        return {"recordresult": found[offset : offset + limit], "hasMore": offset + limit < len(found)}

    def _leave(self, p: dict[str, Any]) -> dict[str, Any]:
        users = str(p["userid_list"]).split(",")
        start, end, offset, size = int(p["start_time"]), int(p["end_time"]), int(p["offset"]), int(p["size"])
        if len(users) > 100 or not 1 <= size <= 20:
            raise ValueError("userid_list ≤ 100, size ≤ 20")
        rows = [r for r in self.leave if r["userid"] in users and r["end_time"] >= start and r["start_time"] <= end]
        return {
            "result": {"leave_status": rows[offset : offset + size], "has_more": offset + size < len(rows)},
            "success": True,
        }

    def _types(self, p: dict[str, Any]) -> dict[str, Any]:
        if not any(u["userid"] == p.get("op_userid") for u in self.users):
            raise ValueError("op_userid")
        return {"result": self.leave_types}

    def _listids(self, p: dict[str, Any]) -> dict[str, Any]:
        if p.get("process_code") != self.trip_process_code:
            raise ValueError("process_code")
        start, end = int(p["start_time"]), int(p.get("end_time") or 2**62)
        size, cursor = int(p.get("size") or 10), int(p.get("cursor") or 0)
        if not 1 <= size <= 20:
            raise ValueError("size")
        ids = [
            pid
            for pid, proc in self.processes.items()
            if start
            <= dt.datetime.strptime(proc["create_time"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA).timestamp() * 1000
            <= end
        ]
        result: dict[str, Any] = {"list": ids[cursor : cursor + size]}
        if cursor + size < len(ids):
            result["next_cursor"] = cursor + size
        return {"result": result}

    def _process(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"process_instance": self.processes[str(p["process_instance_id"])]}

    def _records(self, p: dict[str, Any]) -> dict[str, Any]:
        low = dt.datetime.strptime(p["checkDateFrom"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA)
        high = dt.datetime.strptime(p["checkDateTo"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA)
        users = list(p["userIds"])
        if len(users) > 50 or high - low > dt.timedelta(days=7) or high < low:
            raise ValueError("userIds ≤ 50, at most 7 days")
        found = [
            {**r, "isLegal": "Y", "userAddress": "扬州市"}
            for r in [*self.records, *self.extra_records]
            if r["userId"] in users
            and r.get("userCheckTime")
            and low.timestamp() * 1000 <= r["userCheckTime"] <= high.timestamp() * 1000
        ]
        return {"recordresult": found}
