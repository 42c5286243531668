"""Service-desk reads: the inbox, a thread (paged), presence and the KPIs of R-DESK-3."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import F, Q

from kefu.commerce.models import Order
from kefu.core import clock, plugins, wording
from kefu.core.actors import Actor
from kefu.core.memory import collector_paused
from kefu.core.models import Event
from kefu.core.pagination import Page, keyset_page
from kefu.core.policy_store import policy_in_force
from kefu.core.remembered import ProcessMemory
from kefu.core.scoping import access_object
from kefu.desk.rules import Verb
from kefu.org.models import Shop, Staff
from kefu.org.permissions import holders, staff_holds
from kefu.policies import desk as rules

from .models import (
    Channel,
    ChaseState,
    Conversation,
    ConversationCategory,
    Direction,
    FollowUp,
    KpiDay,
    Message,
    PaymentChase,
    Presence,
    PresenceState,
    Question,
    Script,
    ScriptStatus,
)
from .workflow import CONVERSATIONS

# what a row of the desk inbox shows (ADR 0023)
INBOX_ROW = (
    "id",
    "buyer",
    "shop__name",
    "queue",
    "owner__name",
    "last_text",
    "last_message_at",
    "status__name",
    "waiting_since",
)


def inbox(
    *,
    actor: Actor,
    mine: Any = None,
    waiting: bool = False,
    shop: int | None = None,
    queue: str | None = None,
    closed: bool = False,
    cursor: str | None = None,
    limit: int = 50,
    values: tuple[str, ...] = (),
) -> Page[Any]:
    """Conversations in the actor's scope: buyers waiting for an answer first, the longest wait on
    top (all of them on the first page, up to ``WAITING_CAP``), then the others, most recent first
    (keyset-paged; constant queries). With ``values`` (``INBOX_ROW`` for the page) the rows are
    plain values instead of conversations."""
    qs = Conversation.objects.restrict(actor).select_related("shop", "owner", "status", "team")
    if values:
        qs = qs.values(*values)
    if not closed:
        qs = qs.exclude(status__category=ConversationCategory.CLOSED)
    if mine is not None:
        qs = qs.filter(owner=mine)
    if shop:
        qs = qs.filter(shop_id=shop)
    if queue:
        qs = qs.filter(queue=queue)
    qs = qs.filter(last_message_at__isnull=False)
    waiting_rows = qs.filter(waiting_since__isnull=False).order_by("waiting_since", "id")
    if waiting:
        return keyset_page(waiting_rows, key="waiting_since", descending=False, cursor=cursor, limit=limit)
    page = keyset_page(qs.filter(waiting_since__isnull=True), key="last_message_at", cursor=cursor, limit=limit)
    if cursor:
        return page
    return Page(items=[*waiting_rows[:WAITING_CAP], *page.items], next_cursor=page.next_cursor)


WAITING_CAP = 200  # buyers waiting at once in one person's scope: all on the first page


def conversation_visible(*, actor: Actor, conversation_id: int) -> Conversation | None:
    """The conversation when the actor may see it, else None (for links from other modules)."""
    return Conversation.objects.restrict(actor).filter(pk=conversation_id).first()


def thread(*, conversation: Conversation, before: int | None = None, limit: int = 100) -> tuple[list[Message], bool]:
    """The newest ``limit`` messages (before message id ``before``), oldest first; and whether older exist."""
    qs = Message.objects.filter(conversation=conversation).select_related("agent")
    if before:
        anchor = qs.filter(pk=before).values("sent_at").first()
        if anchor:
            qs = qs.filter(Q(sent_at__lt=anchor["sent_at"]) | Q(sent_at=anchor["sent_at"], pk__lt=before))
    rows = list(qs.order_by("-sent_at", "-id")[: limit + 1])
    return list(reversed(rows[:limit])), len(rows) > limit


def messages_since(*, actor: Actor, conversation_ids: list[int], after_id: int) -> list[Message]:
    return list(
        Message.objects.restrict(actor)
        .filter(conversation_id__in=conversation_ids, pk__gt=after_id)
        .select_related("agent")
        .order_by("pk")[:200]
    )


def last_message_id() -> int:
    row = Message.objects.order_by("-pk").values("pk").first()
    return int(row["pk"]) if row else 0


GAP_CAP = 5000  # ids of the look-back gap a stream reads at most (late commits are among the newest)


def message_refs_between(
    *, actor: Actor, low: int, high: int, conversation_id: int | None = None
) -> list[tuple[int, int]]:
    """(message id, conversation id) in scope with ``low < id <= high``, newest first, capped — a
    stream's look-back for messages that committed after higher ids."""
    if high <= low:
        return []
    qs = Message.objects.restrict(actor).filter(pk__gt=low, pk__lte=high)
    if conversation_id:
        qs = qs.filter(conversation_id=conversation_id)
    return list(qs.order_by("-pk").values_list("pk", "conversation_id")[:GAP_CAP])


def messages_by_ids(*, actor: Actor, ids: list[int]) -> list[Message]:
    return list(Message.objects.restrict(actor).filter(pk__in=ids[:200]).select_related("agent").order_by("pk"))


def opening_low(*, after_id: int, seconds: float) -> int:
    """Where a stream opened at ``after_id`` starts its look-back: just before the first message
    received in the last ``seconds`` (among the 5,000 ids before it), else ``after_id``."""
    since = clock.now() - dt.timedelta(seconds=seconds)
    first = (
        Message.objects.filter(pk__lte=after_id, pk__gt=after_id - GAP_CAP, received_at__gte=since)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    return first - 1 if first else after_id


def message_refs_since(*, actor: Actor, after_id: int, limit: int = 500) -> list[tuple[int, int]]:
    """(message id, conversation id) of the messages in scope past ``after_id`` (live updates)."""
    return list(
        Message.objects.restrict(actor)
        .filter(pk__gt=after_id)
        .order_by("pk")
        .values_list("pk", "conversation_id")[:limit]
    )


def presence_board(*, actor: Actor) -> list[dict[str, Any]]:
    """Agents in scope with their state and waiting buyers; 空挂 (R-DESK-2) flagged: online, with a
    buyer waiting longer than the policy threshold."""
    staff = list(
        Staff.objects.restrict(actor)
        .filter(active=True, position__in=holders("desk.staffed"))
        .select_related("team")
        .order_by("team__name", "position", "name")
    )
    states = {p.staff_id: p for p in Presence.objects.filter(staff__in=staff)}
    minutes = int(policy_in_force().desk.idle_flag_minutes)
    now = clock.now()
    waiting: dict[int, list[dt.datetime]] = defaultdict(list)
    for owner_id, since in Conversation.objects.filter(owner__in=staff, waiting_since__isnull=False).values_list(
        "owner_id", "waiting_since"
    ):
        if since is not None:
            waiting[owner_id].append(since)
    rows = []
    for s in staff:
        p = states.get(s.pk)
        state = p.state if p else PresenceState.OFFLINE
        longest = max(((now - t) for t in waiting.get(s.pk, [])), default=None)
        idle = state == PresenceState.ONLINE and longest is not None and longest > dt.timedelta(minutes=minutes)
        rows.append(
            {
                "staff": s,
                "state": state,
                "since": p.changed_at if p else None,
                "waiting": len(waiting.get(s.pk, [])),
                "longest_minutes": int(longest.total_seconds() // 60) if longest else None,
                "idle": idle,
            }
        )
    return rows


def my_presence(staff: Staff | int | None) -> str:
    """The presence of a staff member (or their id)."""
    if staff is None:
        return PresenceState.OFFLINE
    p = Presence.objects.filter(staff=staff).values_list("state", flat=True).first()
    return p or PresenceState.OFFLINE


# --- KPIs (R-DESK-3) --------------------------------------------------------------------------


def served_before(shop_id: int, buyer: str, before: dt.datetime) -> Staff | None:
    """R-AS-8's middle step: the pre-sales agent who last answered the buyer in the shop up to
    ``before`` (the order's payment) — a human reply, never an auto-reply; after-sales replies do
    not take orders. When the last order-taking reply came from a team lead or from a person who has
    left, nobody is named: the agent is chosen on the case, never an earlier colleague by default."""
    conversation = Conversation.objects.filter(shop_id=shop_id, buyer=buyer).values_list("pk", flat=True).first()
    if conversation is None:
        return None
    reply = (
        Message.objects.filter(
            conversation_id=conversation,
            direction=Direction.OUT,
            kind__in=("text", "image"),
            agent__position__in=holders("desk.sell"),
            sent_at__lte=before,
        )
        .select_related("agent")
        .order_by("-sent_at", "-id")
        .first()
    )
    if reply is None or reply.agent is None or not staff_holds(reply.agent, "desk.convert"):
        return None
    return reply.agent


def kpis(*, actor: Actor, day: dt.date, shop: int | None = None, team: int | None = None) -> rules.DayKpis:
    return kpis_period(actor=actor, first=day, last=day, shop=shop, team=team)


def kpis_period(
    *, actor: Actor, first: dt.date, last: dt.date, shop: int | None = None, team: int | None = None
) -> rules.DayKpis:
    """Per agent and in total, each day of each shop computed by the platform rules of the shop and
    the policy in force that day, merged over the period from sums. Closed days come from their
    stored rollup (``KpiDay``) when it is current; today and any stale or missing day are computed
    from the messages."""
    shops = Shop.objects.restrict(actor)
    if shop:
        shops = shops.filter(pk=shop)
    if team:
        shops = shops.filter(teams__id=team)
    shop_rows = list(shops.values_list("pk", "platform"))
    ids = [pk for pk, _p in shop_rows]
    stored = {
        (row.day, row.shop_id): row.figures
        for row in KpiDay.objects.filter(shop_id__in=ids, day__gte=first, day__lte=last, stale=False)
    }
    today = clock.today()
    tz = clock.local_tz()
    days = []
    day = first
    while day <= last:
        document = policy_in_force(day).document
        for pk, platform in shop_rows:
            figures = stored.get((day, pk)) if day < today else None
            if figures is not None:
                days.append(rules.from_sums(figures))
            else:
                with collector_paused():  # tens of thousands of tuples, no cycles
                    days.append(day_figures(shop_id=pk, day=day, r=rules.rules_for(document, platform), tz=tz))
        day += dt.timedelta(days=1)
    return rules.merge(days)


def day_figures(*, shop_id: int, day: dt.date, r: rules.Rules | None = None, tz: Any = None) -> rules.DayKpis:
    """One shop's figures of one day, from its messages."""
    if r is None:
        platform = Shop.objects.filter(pk=shop_id).values_list("platform", flat=True).first() or ""
        r = rules.rules_for(policy_in_force(day).document, platform)
    return _day([shop_id], day, r, tz or clock.local_tz())


def _day(shop_ids: list[int], day: dt.date, r: rules.Rules, tz: Any) -> rules.DayKpis:
    start = clock.day_start(day)
    end = start + dt.timedelta(days=1)
    day_turns, conversations = _day_turns(shop_ids, start, end)
    if not day_turns:
        return rules.DayKpis()
    owners = {pk: owner for pk, (_shop, _buyer, owner) in conversations.items()}
    by_buyer = {(shop_id, buyer): pk for pk, (shop_id, buyer, _owner) in conversations.items()}
    window_end = end + dt.timedelta(days=r.conversion_days)
    buyers = defaultdict(set)
    for s, b in by_buyer:
        buyers[s].add(b)
    cond = Q()
    for s, bs in buyers.items():
        cond |= Q(shop_id=s, buyer_nick__in_array=bs)
    paid_rows = [
        (by_buyer[(s, b)], paid_at, Decimal(amount))
        for s, b, paid_at, amount in Order.objects.filter(cond, paid_at__gte=start, paid_at__lt=window_end).values_list(
            "shop_id", "buyer_nick", "paid_at", "paid_amount"
        )
        if paid_at is not None
    ]
    later = _consulted_later(paid_rows, end)
    payments = [
        rules.Payment(conv, paid_at, amount, consulted_later=(conv, paid_at) in later)
        for conv, paid_at, amount in paid_rows
    ]
    transfers: dict[str, int] = defaultdict(int)
    from django.contrib.contenttypes.models import ContentType

    ct = ContentType.objects.get_for_model(Conversation)
    for subject_id, data in Event.objects.filter(
        verb=Verb.CONVERSATION_TRANSFERRED, subject_type=ct, at__gte=start, at__lt=end
    ).values_list("subject_id", "data"):
        who = (data or {}).get("from")
        if who and int(subject_id) in conversations:
            transfers[who] += 1
    return rules.day_kpis_of_turns(day_turns, payments, r, tz, owners=owners, transfers=transfers, now=clock.now())


def _consulted_later(paid: list[tuple[int, dt.datetime, Decimal]], end: dt.datetime) -> set[tuple[int, dt.datetime]]:
    """(conversation, paid at) of the payments after ``end`` (the day's end) that the buyer consulted
    about again before paying, on a later day (R-DESK-3 clarified: that day's consultation takes
    the payment). One query over the paying conversations' buyer messages after the day."""
    late = [(conv, paid_at) for conv, paid_at, _amount in paid if paid_at >= end]
    if not late:
        return set()
    asked: dict[int, list[dt.datetime]] = defaultdict(list)
    for conv, sent_at in Message.objects.filter(
        conversation_id__in={c for c, _p in late},
        direction=Direction.IN,
        sent_at__gte=end,
        sent_at__lte=max(p for _c, p in late),
    ).values_list("conversation_id", "sent_at"):
        asked[conv].append(sent_at)
    return {(conv, paid_at) for conv, paid_at in late if any(t <= paid_at for t in asked.get(conv, ()))}


# A day's turns (``policies.desk.Turn``) in one query: the human messages of each conversation in the
# rules' order (sent time, the buyer before a reply, channel:external id), a running count of the
# replies before each message numbering the turns, then one row per turn — its first question and the
# reply that ends it. ``rules.turns`` is the same in Python (tests/test_desk_kpi_sql.py holds them
# equal); this makes 8,640 rows of a busy shop's day instead of 17,280 message tuples (issue 20 §3).
_TURNS_SQL = """
WITH human AS (
    SELECT conversation_id AS c, sent_at AS t, agent_id AS a,
           CASE WHEN direction = %s THEN 1 ELSE 0 END AS r, {ident} AS ident
    FROM {table}
    WHERE shop_id IN ({shops}) AND sent_at >= %s AND sent_at < %s AND kind IN ({kinds})
      AND (direction = %s OR (direction = %s AND agent_id IS NOT NULL))
), numbered AS (
    SELECT c, t, a, r, COALESCE(SUM(r) OVER (
        PARTITION BY c ORDER BY t, r, ident ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS turn
    FROM human
), turned AS (
    SELECT c, MIN(CASE WHEN r = 0 THEN t END) AS q, MAX(CASE WHEN r = 1 THEN t END) AS rt,
           MAX(CASE WHEN r = 1 THEN a END) AS a
    FROM numbered GROUP BY c, turn
)
SELECT turned.c, CAST(turned.q AS TEXT), CAST(turned.rt AS TEXT), agent.employee_no
FROM turned LEFT JOIN {staff} agent ON agent.id = turned.a
"""


def _day_turns(
    shop_ids: list[int], start: dt.datetime, end: dt.datetime
) -> tuple[list[rules.Turn], dict[int, tuple[int, str, str | None]]]:
    """The shops' turns of the messages sent in [start, end) (``_TURNS_SQL``), and their
    conversations' (shop, buyer, owner's employee no.). One index range on (shop, sent time); the
    times come as text and are parsed in C (the driver's per-value time zone hook cost more than the
    query), the agents joined to them, the conversations in one more query (their ids as one array)."""
    if connection.vendor == "postgresql":  # the ids compare by code point, as Python's strings do
        ident = "(CAST(channel_id AS TEXT) || ':' || external_id) COLLATE \"C\""
    else:
        ident = "(channel_id || ':' || external_id)"
    sql = _TURNS_SQL.format(
        ident=ident,
        table=Message._meta.db_table,
        staff=Staff._meta.db_table,
        shops=", ".join(["%s"] * len(shop_ids)),
        kinds=", ".join(["%s"] * len(rules.HUMAN_KINDS)),
    )
    # the bounds as the ORM writes them (SQLite compares stored UTC text: an aware local time written
    # as "… +08:00" would read another 24 hours)
    bounds = [connection.ops.adapt_datetimefield_value(start), connection.ops.adapt_datetimefield_value(end)]
    params: list[Any] = [Direction.OUT, *shop_ids, *bounds, *sorted(rules.HUMAN_KINDS), Direction.IN, Direction.OUT]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        raw = cursor.fetchall()
    if not raw:
        return [], {}
    if connection.vendor == "postgresql":  # the text carries its offset: parsed straight in C
        iso = dt.datetime.fromisoformat
        day_turns = [rules.Turn(c, q and iso(q), r and iso(r), a) for c, q, r, a in raw]
    else:
        stored = clock.stored
        day_turns = [rules.Turn(c, stored(q), stored(r), a) for c, q, r, a in raw]
    conversations: dict[int, tuple[int, str, str | None]] = {
        pk: (shop_id, buyer, owner)
        for pk, shop_id, buyer, owner in Conversation.objects.filter(pk__in_array={row[0] for row in raw}).values_list(
            "pk", "shop_id", "buyer", "owner__employee_no"
        )
    }
    return day_turns, conversations


# The message pipeline's hot path reads channels and shops on every delivery: remembered by the
# process (``kefu.core.remembered``; the desk app forgets them on every change to channels, shops or staff).
DIRECTORY = ProcessMemory("desk directory")
_remembered = DIRECTORY.get


def directory_forget(**_kwargs: Any) -> None:
    DIRECTORY.forget()


def channel_by_code(code: str) -> Channel | None:
    code = code[:40]
    return _remembered(("channel", code), lambda: Channel.objects.filter(code=code, active=True).first())  # type: ignore[no-any-return]


def shop_directory() -> tuple[dict[str, Shop], dict[int, set[int]]]:
    """Every shop by code and by name, and the teams serving each (one query, remembered)."""

    return _remembered("shops", lambda: shops_indexed(Shop.objects.order_by("pk")))  # type: ignore[no-any-return]


def agent_directory() -> dict[str, Staff]:
    """Active staff by employee no. — who may be named as the sender of an outgoing message — one
    query, remembered like the shops (a webhook request then makes no query for it)."""
    return _remembered(  # type: ignore[no-any-return]
        "agents", lambda: {s.employee_no: s for s in Staff.objects.filter(active=True).exclude(employee_no="")}
    )


def shops_indexed(shops: Any) -> tuple[dict[str, Shop], dict[int, set[int]]]:
    """Shops of a queryset by code and by name, and the teams serving each (one query)."""
    found: dict[str, Shop] = {}
    teams_of: dict[int, set[int]] = defaultdict(set)
    for shop in shops.annotate(serving=F("teams")):
        serving = teams_of[shop.pk]  # a shop no team serves is still known (an empty set)
        if shop.serving is not None:
            serving.add(shop.serving)
        found.setdefault(shop.code, shop)
        found.setdefault(shop.name, shop)
    return found, teams_of


def channels() -> list[Channel]:
    return list(Channel.objects.select_related("shop").order_by("code"))


def channel_get(channel_id: Any) -> Channel:
    from django.http import Http404

    channel = Channel.objects.filter(pk=channel_id).select_related("shop").first()
    if channel is None:
        raise Http404("no channel")
    return channel


def visitor_messages(*, channel_id: int, shop_id: int, buyer: str, after: int) -> list[Message]:
    """A web visitor's own thread (what the widget shows): their messages and the shop's answers
    that went through this widget's channel — never what reached the conversation another way (a
    push naming the visitor's buyer name), internal notes or system messages."""
    return list(
        Message.objects.filter(
            channel_id=channel_id, conversation__shop_id=shop_id, conversation__buyer=buyer, pk__gt=after
        )
        .exclude(direction=Direction.NOTE)
        .exclude(kind="system")
        .order_by("pk")[:100]
    )


def scripts(
    *, actor: Actor, shop: int | None = None, q: str = "", status: str | None = ScriptStatus.APPROVED, limit: int = 200
) -> list[Script]:
    """Canned replies in scope, searchable by any part of the category, title or text (substring
    match: Chinese needs no word splitting)."""
    qs = Script.objects.restrict(actor).select_related("shop", "proposed_by", "approved_by")
    if status:
        qs = qs.filter(status=status)
    if shop:
        qs = qs.filter(shop_id=shop)
    q = (q or "").strip()[:50]
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(text__icontains=q) | Q(category__icontains=q))
    return list(qs.order_by("-uses", "category", "title")[:limit])


def script_get(*, actor: Actor, script_id: Any) -> Script:
    return access_object(actor, Script.objects.select_related("shop"), pk=script_id)


def questions(*, actor: Actor, open_only: bool = False, limit: int = 200) -> list[Question]:
    qs = Question.objects.restrict(actor).select_related("shop", "recorded_by", "answered_by", "script")
    if open_only:
        qs = qs.filter(answered_at__isnull=True)
    return list(qs.order_by("-asked_at", "-id")[:limit])


def question_get(*, actor: Actor, question_id: Any) -> Question:
    return access_object(actor, Question.objects.select_related("shop"), pk=question_id)


def followups(*, actor: Actor, open_only: bool = True, owner: Any = None, limit: int = 200) -> list[FollowUp]:
    qs = FollowUp.objects.restrict(actor).select_related("shop", "owner")
    if open_only:
        qs = qs.filter(done_at__isnull=True)
    if owner is not None:
        qs = qs.filter(owner=owner)
    return list(qs.order_by("due_at", "id")[:limit])


def followup_get(*, actor: Actor, followup_id: Any) -> FollowUp:
    return access_object(actor, FollowUp.objects.select_related("shop", "owner"), pk=followup_id)


def daily_summary(*, actor: Actor, team: Any, day: dt.date) -> dict[str, Any]:
    """R-DESK-7, the team lead's daily summary of one team and day: difficult questions, buyers who
    consulted and did not pay, after-sales figures to verify, open follow-ups, inspection results
    and the desk figures per agent (空挂 flags among them)."""
    from kefu.aftersales.models import Case, MoneyLine
    from kefu.workforce.models import PointEntry

    start = clock.day_start(day)
    end = start + dt.timedelta(days=1)
    shop_ids = list(Shop.objects.restrict(actor).filter(teams=team).values_list("pk", flat=True))
    members = list(Staff.objects.restrict(actor).filter(team=team, active=True).order_by("name"))
    k = kpis(actor=actor, day=day, team=team.pk)
    names = {s.employee_no: s.name for s in members}
    agents = [{"name": names.get(no, no), "employee_no": no, **f.as_dict()} for no, f in sorted(k.agents.items())]
    questions_today = list(
        Question.objects.restrict(actor)
        .filter(shop_id__in=shop_ids, asked_at__gte=start, asked_at__lt=end)
        .select_related("shop", "recorded_by")
        .order_by("answered_at", "asked_at")
    )
    cases = Case.objects.restrict(actor).filter(shop_id__in=shop_ids, opened_at__gte=start, opened_at__lt=end)
    money = MoneyLine.objects.restrict(actor).filter(
        case__shop_id__in=shop_ids, created_at__gte=start, created_at__lt=end
    )
    refunds = [m for m in money.select_related("case") if m.kind in {"refund", "partial_refund", "compensation"}]
    follow = list(
        FollowUp.objects.restrict(actor)
        .filter(shop_id__in=shop_ids, done_at__isnull=True)
        .select_related("owner", "shop")
        .order_by("due_at")[:50]
    )
    inspections = list(
        PointEntry.objects.filter(staff__in=members, at__gte=start, at__lt=end).select_related("staff").order_by("at")
    )
    if day >= clock.today():  # today: who is online and leaving buyers waiting right now
        idle = [r for r in presence_board(actor=actor) if r["idle"] and r["staff"].team_id == team.pk]
    else:  # a past day: whose buyers waited past the 空挂 threshold that day (the SLA's flags)
        idle = _idle_on(shop_ids, start, end)
    return {
        "team": team,
        "day": day,
        "agents": agents,
        "total": k.total.as_dict(),
        "unpaid_buyers": k.total.consulted_buyers - k.total.paid_buyers,
        "questions": questions_today,
        "cases_opened": cases.count(),
        "refunds": refunds,
        "refund_total": sum((m.amount for m in refunds), Decimal("0")),
        "followups": follow,
        "overdue_followups": sum(1 for f in follow if f.due_at < clock.now()),
        "inspections": inspections,
        "idle": idle,
        "no_sale": no_sale_summary(actor=actor, shop_ids=shop_ids, day=day),
        "chases_open": PaymentChase.objects.restrict(actor).filter(shop_id__in=shop_ids, state=ChaseState.OPEN).count(),
        "alerts": plugins.summary_alerts(actor, team) if day >= clock.today() else [],
        "lines": plugins.summary_lines(actor, team, day),
    }


def _idle_on(shop_ids: list[int], start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
    """R-DESK-2 on a past day: the agents owning conversations whose buyers waited past the 空挂
    threshold then (``conversation.deadline_breached`` on the timeline), with how many."""
    from django.contrib.contenttypes.models import ContentType

    flagged = Event.objects.filter(
        verb=f"{CONVERSATIONS.prefix}.deadline_breached",  # the workflow core records it
        subject_type=ContentType.objects.get_for_model(Conversation),
        at__gte=start,
        at__lt=end,
    ).values_list("subject_id", flat=True)
    owners: dict[int, int] = defaultdict(int)
    for owner_id in Conversation.objects.filter(
        pk__in=list(flagged), shop_id__in=shop_ids, owner__isnull=False
    ).values_list("owner_id", flat=True):
        owners[owner_id] += 1
    staff = Staff.objects.in_bulk(list(owners))
    return [
        {"staff": staff[pk], "idle": True, "waiting": n}
        for pk, n in sorted(owners.items(), key=lambda item: (-item[1], staff[item[0]].name))
    ]


def daily_summary_text(summary: dict[str, Any]) -> str:
    """The summary as the DingTalk robot's markdown (Chinese: the group reads it as it is)."""
    t = summary["total"]
    refunds = f"{len(summary['refunds'])} 笔 ¥{summary['refund_total']}"
    unanswered = sum(1 for q in summary["questions"] if not q.answered_at)
    lines = [
        f"### {summary['team'].name} 组长日报 {summary['day']:%Y-%m-%d}",
        f"- 会话 {t['conversations']},对话轮次 {t['rounds']},3分钟响应率 {wording.percent(t['response_3min_rate'])}",
        f"- 询单 {t['consulted_buyers']} 人,付款 {t['paid_buyers']} 人,未成交 {summary['unpaid_buyers']} 人",
        "- 未成交原因:"
        + ("、".join(f"{label} {n}" for label, n in summary["no_sale"]) or "无记录")
        + f";待催付 {summary['chases_open']}",
        f"- 新建售后工单 {summary['cases_opened']},退款/补偿申请 {refunds}",
        f"- 待跟进 {len(summary['followups'])}(已超时 {summary['overdue_followups']})",
        f"- 疑难问题 {len(summary['questions'])},其中未解答 {unanswered}",
        f"- 检查记录 {len(summary['inspections'])}",
    ]
    if summary["idle"]:
        lines.append("- 空挂:" + "、".join(r["staff"].name for r in summary["idle"]))
    lines += [f"- {line}" for line in summary.get("lines", [])]
    lines += [f"- ⚠ {alert}" for alert in summary.get("alerts", [])]
    return "\n".join(lines)


BUCKETS = [(30, "≤30s"), (60, "≤1m"), (120, "≤2m"), (180, "≤3m"), (300, "≤5m"), (600, "≤10m")]


def response_distribution(
    *, actor: Actor, day: dt.date, shop: int | None = None, team: int | None = None
) -> list[dict[str, Any]]:
    """How a day's counted rounds were answered: by response time bucket, and missed."""
    shops = Shop.objects.restrict(actor)
    if shop:
        shops = shops.filter(pk=shop)
    if team:
        shops = shops.filter(teams__id=team)
    tz = clock.local_tz()
    document = policy_in_force(day).document
    counts = [0] * (len(BUCKETS) + 1)
    start = clock.day_start(day)
    for pk, platform in shops.values_list("pk", "platform"):
        with collector_paused():
            day_turns, _conversations = _day_turns([pk], start, start + dt.timedelta(days=1))
            day_rounds = rules.rounds_of_turns(day_turns, rules.rules_for(document, platform), tz, now=clock.now())
        for r in day_rounds:
            if not r.counted:
                continue
            if r.reply_at is None:
                counts[-1] += 1
                continue
            for i, (limit, _label) in enumerate(BUCKETS):
                if r.seconds <= limit:
                    counts[i] += 1
                    break
            else:
                counts[len(BUCKETS) - 1] += 1
    total = sum(counts) or 1
    labels = [label for _limit, label in BUCKETS] + ["missed"]
    return [{"label": label, "n": n, "pct": round(100 * n / total)} for label, n in zip(labels, counts, strict=True)]


@dataclass
class Trend:
    """The last days' 3-minute response rate in total (bars) and per agent (one row each)."""

    days: list[dict[str, Any]]
    agents: list[tuple[str, list[dict[str, Any]]]]  # (employee no., one cell per day)
    last: rules.DayKpis  # the last day's figures in full


def rate_trend(
    *, actor: Actor, last: dt.date, days: int = 14, shop: int | None = None, team: int | None = None
) -> Trend:
    """The 3-minute response rate and conversion of each of the last ``days`` days, in total and per
    agent, for the same shop and team filters as the day's figures."""

    def cell(day: dt.date, k: rules.Figures | None) -> dict[str, Any]:
        rate = k.response_3min_rate if k is not None else None
        return {
            "day": day,
            "rounds": k.rounds if k is not None else 0,
            "rate": rate,
            "pct": int(rate * 100) if rate is not None else 0,
            "conversion": k.conversion_rate if k is not None else None,
        }

    span = [last - dt.timedelta(days=back) for back in range(days - 1, -1, -1)]
    figures = [kpis_period(actor=actor, first=day, last=day, shop=shop, team=team) for day in span]
    agents = sorted({no for k in figures for no, f in k.agents.items() if f.rounds})
    return Trend(
        days=[cell(day, k.total) for day, k in zip(span, figures, strict=True)],
        agents=[(no, [cell(day, k.agents.get(no)) for day, k in zip(span, figures, strict=True)]) for no in agents],
        last=figures[-1],
    )


def chases(*, actor: Actor, state: str = "open", limit: int = 200) -> list[PaymentChase]:
    """R-DESK-6 tasks in the actor's scope: open ones by due time; settled ones newest first."""
    qs = PaymentChase.objects.restrict(actor).select_related("shop", "order", "owner", "conversation")
    if state in ChaseState.values:
        qs = qs.filter(state=state)
    qs = qs.order_by("due_at", "pk") if state == ChaseState.OPEN else qs.order_by("-settled_at", "-pk")
    return list(qs[:limit])


def chase_get(*, actor: Actor, chase_id: Any) -> PaymentChase:
    return access_object(actor, PaymentChase.objects.select_related("order", "shop"), pk=chase_id)


def no_sale_summary(*, actor: Actor, shop_ids: list[int], day: dt.date) -> list[tuple[str, int]]:
    """R-DESK-7: the day's reasons for no sale, by label, most frequent first."""
    from .services import no_sale_reasons

    start = clock.day_start(day)
    labels = no_sale_reasons(day)
    counts: dict[str, int] = defaultdict(int)
    for reason in (
        PaymentChase.objects.restrict(actor)
        .filter(
            shop_id__in=shop_ids,
            state=ChaseState.LOST,
            settled_at__gte=start,
            settled_at__lt=start + dt.timedelta(days=1),
        )
        .values_list("reason", flat=True)
    ):
        counts[labels.get(reason, reason)] += 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


# --- knowledge (SPEC §8) ------------------------------------------------------------------------

_TERM_SPLIT = re.compile("[\\s,\uff0c\u3001;\uff1b\u3002]+")  # spaces, commas (both widths), 、；。


def knowledge_terms(q: str) -> list[str]:
    """The terms of a query: split only where the agent put a space or a comma — Chinese runs are
    kept whole and matched as substrings, never cut into words."""
    text = (q or "").strip().lower().replace("\uff1a", ":")  # 名称：值 as stored, name:value
    return [t for t in _TERM_SPLIT.split(text) if t][:8]


@dataclass
class KnowledgeHit:
    product: Any
    matched: list[tuple[str, str]]  # the parameters a term matched, shown first
    others: list[tuple[str, str]]


@dataclass
class Knowledge:
    terms: list[str]
    products: list[KnowledgeHit]
    scripts: list[Script]
    questions: list[Question]


def knowledge_search(*, actor: Actor, q: str, shop: int | None = None, limit: int = 20) -> Knowledge:
    """Products by any part of their title, SKU, category or parameters ("these parameters → which
    product", "this product → its parameters"), the approved canned replies and the question log —
    every term must match (as a substring), inside the actor's scope. Products use the trigram index
    on PostgreSQL."""
    from kefu.commerce.models import Product

    terms = knowledge_terms(q)
    if not terms:
        return Knowledge(terms, [], [], [])
    products = Product.objects.restrict(actor).filter(active=True).select_related("shop")
    scripts_qs = Script.objects.restrict(actor).filter(status=ScriptStatus.APPROVED).select_related("shop")
    questions_qs = Question.objects.restrict(actor).select_related("shop")
    if shop:
        products, scripts_qs, questions_qs = (
            products.filter(shop_id=shop),
            scripts_qs.filter(shop_id=shop),
            questions_qs.filter(shop_id=shop),
        )
    for term in terms:
        products = products.filter(search_text__contains=term)
        scripts_qs = scripts_qs.filter(Q(title__icontains=term) | Q(text__icontains=term) | Q(category__icontains=term))
        questions_qs = questions_qs.filter(Q(question__icontains=term) | Q(answer__icontains=term))
    hits = []
    for product in products.order_by("shop_id", "sku")[:limit]:
        pairs = [(str(k), str(v)) for k, v in (product.parameters or {}).items()]
        matched = [(k, v) for k, v in pairs if any(t in f"{k}:{v}".lower() for t in terms)]
        hits.append(KnowledgeHit(product, matched, [p for p in pairs if p not in matched]))
    return Knowledge(
        terms,
        hits,
        list(scripts_qs.order_by("-uses", "pk")[:limit]),
        list(questions_qs.order_by(F("answered_at").desc(nulls_last=True), "-asked_at")[:limit]),
    )
