"""The state of a conversation after its messages, and routing (R-DESK-1 / R-ORG-1): the team
that serves the shop, the queue by shipping state, the lightest online agent."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.db.models import Count, F, Q, prefetch_related_objects
from django.utils.translation import gettext as _

from kefu.commerce.models import Order, OrderStatus
from kefu.core import clock
from kefu.core.actors import Actor
from kefu.core.bulk import update_rows
from kefu.core.policy_store import policy_in_force
from kefu.desk.rules import Verb
from kefu.org.models import Staff, Team
from kefu.workflow import services as wf

from ..models import (
    Conversation,
    ConversationCategory,
    Presence,
    PresenceState,
    Queue,
)
from ..workflow import CONVERSATIONS

# --- state of a conversation ------------------------------------------------------------------


STATE_COLUMNS = [
    "message_count",
    "last_message_at",
    "last_text",
    "waiting_since",
    "sla_due_at",
    "updated_at",
    "escalated_at",
    "breached",
]


_THREAD_STATE = """
SELECT x.id, x.replied,
    (SELECT MIN(m.sent_at) FROM desk_message m
     WHERE m.conversation_id = x.id AND m.direction = 'in' AND m.kind IN ('text', 'image')
       AND (x.replied IS NULL OR m.sent_at > x.replied)) AS waiting,
    x.last_at, x.last_body, x.n
FROM (
    SELECT c.id,
        (SELECT MAX(m.sent_at) FROM desk_message m
         WHERE m.conversation_id = c.id AND m.direction = 'out' AND m.kind IN ('text', 'image')
           AND m.agent_id IS NOT NULL) AS replied,
        (SELECT MAX(m.sent_at) FROM desk_message m WHERE m.conversation_id = c.id) AS last_at,
        (SELECT m.text FROM desk_message m WHERE m.conversation_id = c.id AND m.direction <> 'note'
         ORDER BY m.sent_at DESC, m.id DESC LIMIT 1) AS last_body,
        (SELECT COUNT(*) FROM desk_message m WHERE m.conversation_id = c.id) AS n
    FROM desk_conversation c WHERE c.id IN ({ids})
) x
"""


def _thread_state(ids: list[int]) -> dict[int, tuple[Any, ...]]:
    """Per conversation, from its stored messages in one statement (plain SQL: the ORM spent longer
    compiling the five correlated subqueries than the database spent running them): the last human
    reply, the first buyer message after it (waiting since), the last message's time and text
    (notes aside) and the count. The kinds and directions are ``HUMAN`` and ``Direction``'s values."""
    with connection.cursor() as cursor:
        cursor.execute(_THREAD_STATE.format(ids=", ".join(["%s"] * len(ids))), ids)
        return {
            int(pk): (clock.stored(replied), clock.stored(waiting), clock.stored(last_at), last_body or "", int(n or 0))
            for pk, replied, waiting, last_at, last_body, n in cursor.fetchall()
        }


def _refresh(*, conversation_ids: Iterable[int], reroute: Iterable[int] = (), actor: Actor = None) -> None:
    """Recompute what a conversation shows from its stored messages (any arrival order): count,
    last message, and ``waiting_since`` = the first buyer message after the last human reply; the
    status follows (waiting / answered; a closed conversation reopens when the buyer writes).
    One query reads the state of every touched conversation, one writes them all."""
    ids = sorted(set(conversation_ids))
    if not ids:
        return
    reroute = set(reroute)
    # The rows first, in id order (FOR NO KEY UPDATE: it waits for another refresh of the same
    # conversation, not for the message inserts that only share its key): the state is read after,
    # so replies and buyer messages committed meanwhile are counted (100 parallel replies left
    # 40 of 107 counted when each refresh saw only its own transaction). The rows alone: with the
    # status joined, a refresh that waited for one that changed the status found no row once granted
    # (PostgreSQL re-checks the join against the new row) and wrote nothing — CI saw 47 of 51 counted.
    rows = list(Conversation.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk"))
    prefetch_related_objects(rows, "status")  # read after the lock, in one query
    state = _thread_state(ids)
    policy = policy_in_force()
    idle = dt.timedelta(minutes=int(policy.desk.idle_flag_minutes))
    now = clock.now()
    moves, routes = [], []
    for c in rows:
        _replied, waiting, last_at, last_body, count = state.get(c.pk, (None, None, None, "", 0))
        category = c.status.category
        # the status follows the thread: a buyer waiting → waiting (a closed one reopens), else
        # answered; a closed conversation stays closed while nobody writes
        if waiting is not None:
            moves.append((c, ConversationCategory.WAITING))
        elif category != ConversationCategory.CLOSED:
            moves.append((c, ConversationCategory.ANSWERED))
        c.message_count = count
        c.last_message_at = last_at
        c.last_text = last_body[:120]
        c.waiting_since = waiting
        c.sla_due_at = waiting + idle if waiting else None
        c.updated_at = now
        if waiting is None:
            c.escalated_at = None
            c.breached = False
        if c.pk in reroute:
            routes.append((c, category))
    # the one write path of a status: the workflow core (its categories' rules, the reopening's event)
    wf.statuses_follow(actor=actor, flow=CONVERSATIONS, moves=moves)
    update_rows(
        Conversation,
        STATE_COLUMNS,
        [
            (
                c.pk,
                c.message_count,
                c.last_message_at,
                c.last_text,
                c.waiting_since,
                c.sla_due_at,
                c.updated_at,
                c.escalated_at,
                c.breached,
            )
            for c in rows
        ],
    )
    if routes:
        # the buyer writes again: a closed conversation, or one whose order has shipped since
        # (R-ORG-1: pre-sales hands over to after-sales), is routed afresh; an unassigned one
        # waits for the next agent of its queue who comes online
        queues = queues_for([c for c, _category in routes])
        _route(
            conversations=[
                c for c, category in routes if category == ConversationCategory.CLOSED or queues[c.pk] != c.queue
            ],
            actor=actor,
        )


def _latest_orders(conversations: Iterable[Conversation]) -> dict[tuple[int, str], tuple[Any, ...]]:
    """Each (shop, buyer)'s latest order as (order no., status, shipped at), in one query."""
    by_shop: dict[int, set[str]] = defaultdict(set)
    for c in conversations:
        by_shop[c.shop_id].add(c.buyer)
    if not by_shop:
        return {}
    cond = Q()
    for shop_id, buyers in by_shop.items():
        cond |= Q(shop_id=shop_id, buyer_nick__in=buyers)
    latest: dict[tuple[int, str], tuple[Any, ...]] = {}
    for shop_id, buyer, order_no, status, shipped_at, ordered_at, pk in Order.objects.filter(cond).values_list(
        "shop_id", "buyer_nick", "order_no", "status", "shipped_at", "ordered_at", "id"
    ):
        key = (shop_id, buyer)
        if key not in latest or (ordered_at, pk) > latest[key][3:]:
            latest[key] = (order_no, status, shipped_at, ordered_at, pk)
    return latest


def queues_for(conversations: list[Conversation]) -> dict[int, str]:
    """The queue each conversation's buyer belongs in, from their orders, in one query."""
    latest = _latest_orders(conversations)
    return {c.pk: _queue_after(latest.get((c.shop_id, c.buyer))) for c in conversations}


# --- routing (R-DESK-1, R-ORG-1) --------------------------------------------------------------


def _shipped(status: str, shipped_at: Any) -> bool:
    return shipped_at is not None or status in (OrderStatus.SHIPPED, OrderStatus.FINISHED)


def _queue_after(latest: tuple[Any, ...] | None) -> str:
    """Pre-sales until the buyer's latest order in the shop has shipped; after-sales from then on."""
    shipped = latest is not None and _shipped(latest[1], latest[2])
    return Queue.AFTERSALES if shipped else Queue.PRESALES


def _workload(staff_ids: list[int]) -> dict[int, int]:
    open_ids = [
        label.pk
        for label in wf.StatusLabel.objects.filter(workflow=CONVERSATIONS.key).exclude(
            category=ConversationCategory.CLOSED
        )
    ]
    rows = (
        Conversation.objects.filter(owner_id__in=staff_ids, status_id__in=open_ids)
        .values("owner_id")
        .annotate(n=Count("id"))
    )
    return {r["owner_id"]: r["n"] for r in rows}


def _lightest_online(team: Any, queue: str) -> tuple[Staff | None, int]:
    """The online agent of ``queue``'s role in ``team`` with the fewest open conversations (ties:
    the earliest record), and that number; (None, 0) when nobody of that role is online."""
    return _lightest(*_online_with_load(team, queue))


def _lightest(candidates: list[Staff], load: dict[int, int]) -> tuple[Staff | None, int]:
    """Of ``candidates``, the one with the fewest open conversations (ties: the earliest record)."""
    if not candidates:
        return None, 0
    agent = min(candidates, key=lambda s: (load.get(s.pk, 0), s.pk))
    return agent, load.get(agent.pk, 0)


def _online_with_load(team: Any, queue: str) -> tuple[list[Staff], dict[int, int]]:
    """The online agents of ``queue``'s role in ``team`` and their open conversations."""
    candidates = list(
        Staff.objects.filter(
            team=team,
            active=True,
            position=queue,
            pk__in=Presence.objects.filter(state=PresenceState.ONLINE).values("staff_id"),
        ).order_by("pk")
    )
    return candidates, _workload([s.pk for s in candidates]) if candidates else {}


def _route(*, conversations: list[Conversation], actor: Actor = None) -> None:
    """Send each conversation to the team serving its shop, to the queue its buyer's orders call
    for, and to the online agent of that role with the fewest open conversations; each decision and
    its reason go on the timeline. A batch is routed as if one by one (each conversation given
    counts towards its agent's load for the next), in a handful of queries whatever its size."""
    if not conversations:
        return
    first_team: dict[int, Team] = {}
    for serving in (
        Team.objects.filter(shops__id__in={c.shop_id for c in conversations})
        .annotate(shop_id=F("shops__id"))
        .order_by("pk")
    ):
        first_team.setdefault(serving.shop_id, serving)
    latest = _latest_orders(conversations)
    pools: dict[tuple[int, str], tuple[list[Staff], dict[int, int]]] = {}
    assignments: list[wf.Assignment] = []
    for conversation in conversations:
        team = first_team.get(conversation.shop_id)
        order = latest.get((conversation.shop_id, conversation.buyer))
        queue = _queue_after(order)
        if order is None:
            why = _("no order from this buyer in the shop → pre-sales")
        elif queue == Queue.AFTERSALES:
            why = _("latest order %(no)s has shipped → after-sales") % {"no": order[0]}
        else:
            why = _("latest order %(no)s has not shipped → pre-sales") % {"no": order[0]}
        agent = None
        if team is not None:
            if (team.pk, queue) not in pools:
                pools[(team.pk, queue)] = _online_with_load(team, queue)
            candidates, load = pools[(team.pk, queue)]
            agent, open_count = _lightest(candidates, load)
            if agent is not None:
                why += "; " + _("%(name)s is online with the fewest open conversations (%(n)s)") % {
                    "name": agent.name,
                    "n": open_count,
                }
                load[agent.pk] = open_count + 1  # the next of the batch sees this one given
            else:
                why += "; " + _("no %(queue)s agent of %(team)s is online: waiting in the queue") % {
                    "queue": Queue(queue).label,
                    "team": team.name,
                }
        else:
            why += "; " + _("no team serves this shop")
        assignments.append((conversation, agent, {"team": team, "queue": queue}, {"reason": why}))
    # the one write path of an owner: the workflow core, one UPDATE and one insert of events
    wf.assign_many(actor=actor, flow=CONVERSATIONS, assignments=assignments, verb=Verb.CONVERSATION_ROUTED)
