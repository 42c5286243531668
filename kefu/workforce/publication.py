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
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext_lazy

from kefu.core import clock
from kefu.core.actions import action
from kefu.core.actors import Actor
from kefu.core.events import event_record
from kefu.core.models import OutboxMessage
from kefu.core.outbox import outbox_handler, outbox_put
from kefu.core.scoping import DEPARTMENT
from kefu.org.models import Staff
from kefu.workforce.rules import Verb

from .selectors import month_statements, weekly_attendance
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


# The DingTalk group reads the publication in Chinese (the robot's message, R-WF-14).
PUBLICATION_LABELS = {
    "late": "迟到",
    "early": "早退",
    "missing": "缺卡",
    "absent": "旷工",
    "makeup": "补卡",
    "makeup_pending": "补卡待核实际时间",
}


def publication_text(rows: list[dict[str, Any]], monday: dt.date, due: list[Any]) -> str:
    sunday = monday + dt.timedelta(days=6)
    lines = [f"### 上周考勤公布 {monday:%m-%d} ~ {sunday:%m-%d}", ""]
    for row in rows:
        incidents = row["incidents"]
        if not incidents:
            continue
        parts = []
        for inc in incidents:
            label = PUBLICATION_LABELS.get(inc.kind, inc.kind)
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


def latest_slot(now: dt.datetime) -> dt.date:
    """The day of the latest publication slot at or before ``now`` (local): this week's publication
    day once its time has come, else last week's."""
    from kefu.core.policy_store import policy_in_force

    att = policy_in_force(now.date()).attendance
    hour, minute = (int(x) for x in att.publication_time.split(":"))
    back = (now.weekday() - att.publication_weekday) % 7
    slot = now.date() - dt.timedelta(days=back)
    if back == 0 and (now.hour, now.minute) < (hour, minute):
        slot -= dt.timedelta(days=7)
    return slot


def week_before(slot: dt.date) -> dt.date:
    """The Monday of the Mon–Sun week a publication on ``slot`` covers (the last full week before it)."""
    return slot - dt.timedelta(days=slot.weekday() + 7)


def published(monday: dt.date) -> bool:
    from kefu.core.models import Event

    return Event.objects.filter(verb=Verb.ATTENDANCE_PUBLISHED, data__week=monday.isoformat()).exists()


def publication_due(now: dt.datetime) -> bool:
    """R-WF-5 (clarified): whether the latest publication slot's week is still unpublished — on the
    Monday at its time, or as soon as the worker is up again after a missed Monday."""
    return not published(week_before(latest_slot(now)))


CATCH_UP_DAYS = 35  # incidents recorded late (a late import) this far back still become packets


@action(capability="org.manage")
def weekly_publish(*, actor: Actor = None, today: dt.date | None = None, week: dt.date | None = None) -> dict[str, Any]:
    """Publish a week's attendance once (by default the last full week before ``today``; ``week``:
    the Monday of any past week): the red-packet obligations, the publication event and the robot
    message are one action; the robot post leaves through the outbox after commit (ADR 0008). The
    outbox key (one per week) is taken first, so a second publication of the same week — a second
    worker, the command line — waits for the first and then finds it done.

    R-WF-5 (clarified): a packet is due at the publication that shows it (today), never in the past
    — also for an incident recorded late (a late import: the catch-up looks back
    ``CATCH_UP_DAYS``) — and doubles only if still unsent a week after that."""
    from .selectors import red_packets_open

    today = today or clock.today()
    monday = week if week is not None else week_before(today)
    guard = outbox_put(PUBLICATION, {"week": monday}, key=f"{PUBLICATION}:{monday.isoformat()}")
    if guard is None:
        return {"week": monday.isoformat(), "already": True, "robot": False, "doubled": 0, "text": ""}
    # Someone who left during the week (or the catch-up window) is inactive by now, and their last
    # days are still published (R-WF-18: publications honour the leaving date).
    left_lately = Q(leave_date__gte=min(monday, today) - dt.timedelta(days=CATCH_UP_DAYS))
    staff = list(
        Staff.objects.filter(Q(active=True) | left_lately).select_related("team").order_by("team__name", "employee_no")
    )
    months_of = month_statements(staff)
    rows = weekly_attendance(staff=staff, monday=monday, months_of=months_of)
    shown = 0
    for row in rows:
        shown += red_packets_from_incidents(actor=actor, staff=row["staff"], incidents=row["incidents"], due=today)
    for row in _late_incidents(staff, monday, today, months_of):
        shown += red_packets_from_incidents(actor=actor, staff=row["staff"], incidents=row["incidents"], due=today)
    doubled = red_packets_double_overdue(today=today)
    due = red_packets_open(actor=DEPARTMENT, due_before=today)
    text = publication_text(rows, monday, due)
    robot = bool(getattr(settings, "KEFU_DINGTALK_ROBOT_URL", ""))
    OutboxMessage.objects.filter(pk=guard.pk).update(
        payload={"week": monday.isoformat(), "title": "上周考勤公布", "text": text, "robot": robot}
    )
    event_record(
        actor=actor,
        verb=Verb.ATTENDANCE_PUBLISHED,
        data={"week": monday, "robot": robot, "doubled": doubled, "packets": shown, "on": today},
    )
    return {"week": monday.isoformat(), "text": text, "robot": robot, "doubled": doubled, "packets": shown}


PUBLICATION = "attendance.publication"


CATCH_UP_LIMIT_DAYS = 366


def _oldest_recorded_since_last_publication(staff: list[Staff]) -> dt.date | None:
    from django.db.models import Min

    from kefu.core.models import Event

    from .models import Punch

    last = Event.objects.filter(verb=Verb.ATTENDANCE_PUBLISHED).order_by("-at").values_list("at", flat=True).first()
    if last is None:
        return None  # the first publication looks back CATCH_UP_DAYS only (no history of packets)
    oldest = Punch.objects.filter(staff__in=staff, recorded_at__gte=last).aggregate(oldest=Min("at"))["oldest"]
    return clock.local_date(oldest) if oldest is not None else None


def _late_incidents(
    staff: list[Staff], monday: dt.date, today: dt.date, months_of: Callable[[int, int], list[Any]]
) -> list[dict[str, Any]]:
    """Incidents of the weeks before ``monday`` (up to ``CATCH_UP_DAYS``) that carry a red packet and
    have none yet: recorded after their own week was published (a late import)."""
    from collections import defaultdict

    from .models import RedPacket

    start = min(monday, today) - dt.timedelta(days=CATCH_UP_DAYS)
    # R-WF-5 (clarified): a punch recorded since the last publication, however old its day (a late
    # import), still becomes a packet — the look-back reaches its month (at most a year back).
    oldest = _oldest_recorded_since_last_publication(staff)
    if oldest is not None:
        start = max(min(start, oldest), today - dt.timedelta(days=CATCH_UP_LIMIT_DAYS))
    months = []
    cursor = start.replace(day=1)
    while cursor <= monday:
        months.append((cursor.year, cursor.month))
        cursor = (cursor + dt.timedelta(days=32)).replace(day=1)
    existing = set(
        RedPacket.objects.filter(staff__in=staff, incident_date__gte=start, incident_date__lt=monday).values_list(
            "staff_id", "incident_date", "kind"
        )
    )
    late: dict[int, list[Any]] = defaultdict(list)
    for year, month in months:
        for member, st in zip(staff, months_of(year, month), strict=True):
            late[member.pk] += [
                i
                for i in st.incidents
                if start <= i.date < monday and i.red_packet > 0 and (member.pk, i.date, i.kind) not in existing
            ]
    return [{"staff": member, "incidents": late[member.pk]} for member in staff if late.get(member.pk)]


@outbox_handler(PUBLICATION, gettext_lazy("Attendance publication to the group"))
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
