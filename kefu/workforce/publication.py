"""R-WF-14: the Monday publication of last week's attendance and the red packets due, and the
DingTalk group robot (FORMATS.md §1d) it is sent to when configured."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import time
import urllib.parse
import urllib.request
from typing import Any

from django.conf import settings

from kefu.core import clock
from kefu.core.actions import action
from kefu.core.events import event_record
from kefu.core.models import OutboxMessage
from kefu.core.outbox import outbox_handler, outbox_put
from kefu.core.scoping import DEPARTMENT
from kefu.org.models import Staff

from .selectors import weekly_attendance
from .services import red_packets_double_overdue, red_packets_from_incidents


def signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    """DingTalk robot signing: HMAC-SHA256 of ``timestamp\\nsecret``, base64, URL-encoded."""
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest).decode())
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}timestamp={timestamp_ms}&sign={sign}"


def robot_send(*, url: str, secret: str, title: str, text: str, timeout: float = 10.0) -> dict[str, Any]:
    """POST a markdown message to a DingTalk custom robot; returns the robot's JSON answer."""
    target = signed_url(url, secret, int(time.time() * 1000)) if secret else url
    body = json.dumps({"msgtype": "markdown", "markdown": {"title": title, "text": text}}, ensure_ascii=False)
    request = urllib.request.Request(  # noqa: S310 (the URL is the configured robot webhook)
        target, data=body.encode("utf-8"), headers={"Content-Type": "application/json; charset=utf-8"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        answer: dict[str, Any] = json.loads(response.read().decode("utf-8") or "{}")
    if answer.get("errcode", 0) != 0:
        raise RuntimeError(f"DingTalk robot refused the message: {answer}")
    return answer


def publication_text(rows: list[dict[str, Any]], monday: dt.date, due: list[Any]) -> str:
    sunday = monday + dt.timedelta(days=6)
    lines = [f"### 上周考勤公布 {monday:%m-%d} ~ {sunday:%m-%d}", ""]
    for row in rows:
        incidents = row["incidents"]
        if not incidents:
            continue
        parts = []
        for inc in incidents:
            label = {"late": "迟到", "early": "早退", "missing": "缺卡", "absent": "旷工", "makeup": "补卡"}[inc.kind]
            detail = f"{inc.minutes}分钟" if inc.minutes else ""
            money = f" 红包¥{inc.red_packet}" if inc.red_packet else ""
            parts.append(f"{inc.date:%m-%d} {label}{detail}{money}")
        lines.append(f"- **{row['staff'].name}**:" + ";".join(parts))
    if len(lines) == 2:
        lines.append("上周全员考勤正常。")
    if due:
        lines += ["", "#### 应发红包(发红包者自己不能抢;漏发者补发双倍)"]
        for packet in due:
            lines.append(
                f"- {packet.staff.name} ¥{packet.amount} × {packet.packets}个(R-WF-5,{packet.incident_date:%m-%d})"
            )
    return "\n".join(lines)


def publication_due(now: dt.datetime) -> bool:
    """Whether the publication of the week before ``now`` (local) is due and not yet made."""
    from kefu.core.models import Event
    from kefu.core.policy_store import policy_in_force

    att = policy_in_force(now.date()).document["attendance"]
    hour, minute = (int(x) for x in att["publication_time"].split(":"))
    if now.weekday() != int(att["publication_weekday"]) or (now.hour, now.minute) < (hour, minute):
        return False
    monday = now.date() - dt.timedelta(days=now.weekday() + 7)
    return not Event.objects.filter(verb="attendance.published", data__week=monday.isoformat()).exists()


@action()
def weekly_publish(*, actor: Any = None, today: dt.date | None = None) -> dict[str, Any]:
    """Publish last week's attendance once: the red-packet obligations, the publication event and the
    robot message are one action; the robot post leaves through the outbox after commit (ADR 0008).
    The outbox key (one per week) is taken first, so a second publication of the same week — a
    second worker, the command line — waits for the first and then finds it done."""
    from .selectors import red_packets_open

    today = today or clock.today()
    monday = today - dt.timedelta(days=today.weekday() + 7)
    guard = outbox_put(PUBLICATION, {"week": monday}, key=f"{PUBLICATION}:{monday.isoformat()}")
    if guard is None:
        return {"week": monday.isoformat(), "already": True, "robot": False, "doubled": 0, "text": ""}
    staff = list(Staff.objects.filter(active=True).select_related("team").order_by("team__name", "employee_no"))
    rows = weekly_attendance(staff=staff, monday=monday)
    for row in rows:
        red_packets_from_incidents(actor=actor, staff=row["staff"], incidents=row["incidents"])
    doubled = red_packets_double_overdue(today=today)
    due = red_packets_open(actor=DEPARTMENT, due_before=today)
    text = publication_text(rows, monday, due)
    robot = bool(getattr(settings, "KEFU_DINGTALK_ROBOT_URL", ""))
    OutboxMessage.objects.filter(pk=guard.pk).update(
        payload={"week": monday.isoformat(), "title": "上周考勤公布", "text": text, "robot": robot}
    )
    event_record(actor=actor, verb="attendance.published", data={"week": monday, "robot": robot, "doubled": doubled})
    return {"week": monday.isoformat(), "text": text, "robot": robot, "doubled": doubled}


PUBLICATION = "attendance.publication"


@outbox_handler(PUBLICATION)
def _deliver_publication(payload: dict[str, Any]) -> None:
    """After commit: post the publication to the DingTalk group robot (when one is configured)."""
    url = getattr(settings, "KEFU_DINGTALK_ROBOT_URL", "")
    if url and payload.get("robot") and payload.get("text"):
        robot_send(
            url=url,
            secret=getattr(settings, "KEFU_DINGTALK_ROBOT_SECRET", ""),
            title=str(payload.get("title") or "上周考勤公布"),
            text=str(payload["text"]),
        )
