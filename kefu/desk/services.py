"""Service-desk writes: the one message pipeline (API, signed webhook, chat-log import, agents'
replies), routing (R-DESK-1 / R-ORG-1), transfers and presence. Every write is an action; live
notifications leave only after commit."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.utils.translation import gettext as _

from kefu.commerce.models import Order, OrderStatus
from kefu.core import clock
from kefu.core.actions import OPERATOR, OWN, action, is_operator, require
from kefu.core.bulk import insert_new, insert_new_flagged, update_rows
from kefu.core.errors import ApplicationError, PermissionDenied
from kefu.core.events import SystemActor, event_record, event_record_bulk
from kefu.core.params import parse_moment, utf8_storable
from kefu.core.policy_store import policy_in_force
from kefu.core.scoping import access_object, scope_for
from kefu.org.models import Shop, Staff, Team
from kefu.org.permissions import has_capability, holders, staff_holds
from kefu.org.selectors import staff_of
from kefu.policies import desk as desk_rules
from kefu.workflow import services as wf

from . import live
from .models import (
    Channel,
    ChannelKind,
    ChaseState,
    Conversation,
    ConversationCategory,
    Direction,
    FollowUp,
    InboundMessage,
    KpiDay,
    Message,
    MessageKind,
    PaymentChase,
    Presence,
    PresenceState,
    Question,
    Queue,
    Script,
    ScriptStatus,
)
from .workflow import CONVERSATIONS

log = logging.getLogger(__name__)

MAX_BATCH = 500
# who answers buyers: a conversation is transferred only to them
MAX_TEXT = 5000
HUMAN = (MessageKind.TEXT, MessageKind.IMAGE)


@dataclass
class IngestResult:
    created: int = 0
    duplicates: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)
    conversations: set[int] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        return {"created": self.created, "duplicates": self.duplicates, "failed": self.failed}


@dataclass(frozen=True)
class _Parsed:
    index: int
    external_id: str
    shop: str
    buyer: str
    direction: str
    agent: str | None
    kind: str
    sent_at: dt.datetime
    text: str


def _text(value: Any, limit: int, what: str, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError(_("%(field)s must be text") % {"field": what})
    value = value.strip()
    if required and not value:
        raise ValueError(_("%(field)s is missing") % {"field": what})
    if len(value) > limit:
        raise ValueError(_("%(field)s is longer than %(n)s characters") % {"field": what, "n": limit})
    if not text_storable(value):
        raise ValueError(_("%(field)s contains a character that is not allowed") % {"field": what})
    return value


def text_storable(value: str) -> bool:
    return "\x00" not in value and utf8_storable(value)


def _parse(index: int, item: Any) -> _Parsed:
    if not isinstance(item, Mapping):
        raise ValueError(_("a message must be an object"))
    direction = item.get("direction")
    if direction not in (Direction.IN, Direction.OUT):
        raise ValueError(_('direction must be "in" or "out"'))
    kind = item.get("kind", MessageKind.TEXT)
    if kind not in MessageKind.values:
        raise ValueError(_("kind must be one of text, image, auto, system"))
    agent = item.get("agent")
    if direction == Direction.OUT and kind in HUMAN:
        agent = _text(agent, 32, "agent")
    elif agent is not None:
        agent = _text(agent, 32, "agent", required=False) or None
    raw_time = item.get("sent_at")
    if not isinstance(raw_time, str):
        raise ValueError(_("sent_at must be an ISO 8601 time with its offset"))
    try:
        sent_at = parse_moment(raw_time, require_offset=True)
    except ValueError as exc:
        raise ValueError(_("sent_at: %(problem)s") % {"problem": exc}) from exc
    if sent_at > clock.now() + dt.timedelta(minutes=5):
        raise ValueError(_("sent_at lies in the future"))
    return _Parsed(
        index=index,
        external_id=_text(item.get("external_id"), 128, "external_id"),
        shop=_text(item.get("shop"), 64, "shop"),
        buyer=_text(item.get("buyer"), 100, "buyer"),
        direction=direction,
        agent=agent,
        kind=kind,
        sent_at=sent_at,
        text=_text(item.get("text"), MAX_TEXT, "text", required=False),
    )


def _serves(agent: Staff, shop: Shop, teams_of: dict[int, set[int]]) -> bool:
    """An agent answers for a shop their team serves; the supervisor and deputy for every shop."""
    if agent.position in holders("org.manage"):
        return True
    return agent.position in holders("desk.take") and agent.team_id in teams_of[shop.pk]


def _may_send_as(actor: Any, agent: Staff) -> bool:
    """A person's token names as senders only the people of their own scope: a team lead their
    team, never the supervisor or the deputy (signed sources and the department name anyone)."""
    if not getattr(actor, "is_authenticated", False):
        return True
    scope = scope_for(actor)
    return scope.all or agent.team_id in scope.team_ids


def _shops(actor: Any, channel: Channel, keys: set[str]) -> tuple[dict[str, Shop], dict[int, set[int]]]:
    """Shops by code or name, inside what the sender may write to (an API token's user sees their
    scope; a channel bound to a shop, a widget, only writes to it), with the teams serving each.
    Operators (webhooks, imports) read the remembered directory; users one scoped query."""
    from . import selectors

    teams_of: dict[int, set[int]] = defaultdict(set)
    found: dict[str, Shop] = {}
    if not keys:
        return found, teams_of
    if is_operator(actor):
        every, serving = selectors.shop_directory()
        for key in keys:
            shop = every.get(key)
            if shop is not None and (channel.shop_id is None or shop.pk == channel.shop_id):
                found[key] = shop
                teams_of[shop.pk] = serving.get(shop.pk, set())
        return found, teams_of
    qs = Shop.objects.filter(Q(code__in=keys) | Q(name__in=keys)).restrict(actor)
    if channel.shop_id is not None:
        qs = qs.filter(pk=channel.shop_id)
    return selectors.shops_indexed(qs)


@action(capability="desk.integrate", atomic=False)
def messages_ingest(*, actor: Any, channel: Channel, items: list[Any], place: bool | None = None) -> IngestResult:
    """The one pipeline for messages from any source: each bad message is reported by index and the
    rest kept; a message is accepted once per (channel, external id) whatever the order, number or
    concurrency of deliveries (the unique constraint decides, in the INSERT itself).

    Accepted messages are placed in their conversations right away (``place``; the embedded
    default) or by the worker, woken after commit (``KEFU_DESK_QUEUED``, production) — ADR 0013."""
    if not channel.active:
        raise ApplicationError("channel_inactive", _("This channel is switched off."), status=403)
    if getattr(actor, "is_authenticated", False):  # a person's token (signed sources are system actors)
        require(
            actor, "desk.integrate", _("Pushing messages needs a team lead's, the deputy's or the supervisor's token.")
        )
    if len(items) > MAX_BATCH:
        raise ApplicationError(
            "batch_too_large", _("At most %(n)s messages per request.") % {"n": MAX_BATCH}, status=413
        )
    result = IngestResult()
    parsed: list[_Parsed] = []
    for index, item in enumerate(items):
        try:
            parsed.append(_parse(index, item))
        except ValueError as exc:
            result.failed.append({"index": index, "reason": str(exc)})
    shops, teams_of = _shops(actor, channel, {p.shop for p in parsed})
    wanted = {p.agent for p in parsed if p.agent}
    from . import selectors

    directory = selectors.agent_directory() if wanted else {}
    agents = {no: directory[no] for no in wanted if no in directory}
    good: list[tuple[_Parsed, Shop]] = []
    seen: set[str] = set()
    for p in parsed:
        shop = shops.get(p.shop)
        if shop is None:
            result.failed.append({"index": p.index, "reason": _("unknown shop %(shop)s") % {"shop": p.shop}})
        elif p.agent and p.agent not in agents:
            result.failed.append({"index": p.index, "reason": _("unknown agent %(no)s") % {"no": p.agent}})
        elif p.agent and not _serves(agents[p.agent], shop, teams_of):
            result.failed.append(
                {"index": p.index, "reason": _("agent %(no)s does not answer for this shop") % {"no": p.agent}}
            )
        elif p.agent and not _may_send_as(actor, agents[p.agent]):
            result.failed.append({"index": p.index, "reason": _("this token may not send as %(no)s") % {"no": p.agent}})
        elif p.external_id in seen:
            result.duplicates += 1  # the same message twice in one delivery
        else:
            seen.add(p.external_id)
            good.append((p, shop))
    result.failed.sort(key=lambda f: f["index"])
    accepted = _accept(actor, channel, good, agents, result) if good else []
    if accepted:
        if settings.KEFU_DESK_QUEUED if place is None else not place:
            transaction.on_commit(lambda: _wake_or_place(accepted))
        else:
            try:
                result.conversations |= messages_place(ids=accepted)
            except Exception:
                # accepted is accepted: the sender is told so, and the worker's minute job places
                # them (and logs again) once whatever failed is put right
                log.exception("placing %s accepted messages failed; left for the worker", len(accepted))
    return result


def _accept(
    actor: Any, channel: Channel, good: list[tuple[_Parsed, Shop]], agents: dict[str, Staff], result: IngestResult
) -> list[int]:
    """One INSERT for the whole delivery; what comes back was new — unless it was stored as a
    message before the inbound table's window (a very late redelivery): that is a duplicate too,
    and its inbound row is marked placed at once."""
    now = clock.now()
    sender = actor if getattr(actor, "is_authenticated", False) else None
    label = "" if sender else str(getattr(actor, "label", "") or "")[:64]
    rows = [
        (
            channel.pk,
            p.external_id,
            shop.pk,
            p.buyer,
            p.direction,
            p.kind,
            agents[p.agent].pk if p.agent else None,
            p.sent_at,
            p.text,
            now,
            sender.pk if sender else None,
            label,
        )
        for p, shop in good
    ]
    inserted = insert_new_flagged(
        InboundMessage, INBOUND_COLUMNS, rows, already_in=Message, keys=["channel_id", "external_id"]
    )
    stale = [pk for pk, already in inserted if already]
    if stale:
        InboundMessage.objects.filter(pk__in=stale).update(placed_at=now)
    fresh = [pk for pk, already in inserted if not already]
    result.created = len(fresh)
    result.duplicates += len(good) - len(fresh)
    return fresh


INBOUND_COLUMNS = [
    "channel_id",
    "external_id",
    "shop_id",
    "buyer",
    "direction",
    "kind",
    "agent_id",
    "sent_at",
    "text",
    "received_at",
    "sender_id",
    "sender_label",
]
PLACE_BATCH = 1000
PLACE_FLAG = "kefu:desk:place-pending"


def _redis(huey: Any) -> Any:
    from huey.storage import RedisStorage

    return huey.storage.conn if isinstance(huey.storage, RedisStorage) else None


def wake_placer() -> None:
    """After a commit that accepted messages: queue one placing job unless one is already waiting
    (many requests a second share one job; the job clears the flag before it reads). With Redis the
    flag is one ``SET NX`` on the queue's own connection; otherwise the cache's ``add``."""
    from huey.contrib.djhuey import HUEY

    from .tasks import place_task

    conn = _redis(HUEY)
    if conn is not None:
        first = bool(conn.set(PLACE_FLAG, 1, nx=True, px=10_000))
    else:
        from django.core.cache import cache

        first = cache.add(PLACE_FLAG, 1, timeout=10)
    if first:
        place_task()


def _wake_or_place(accepted: list[int]) -> None:
    """Wake the worker; when the queue (Redis) cannot be reached, place the request's own messages
    here instead (issue 16 §5: they are accepted and stored, and must not wait for Redis)."""
    try:
        wake_placer()
    except Exception:
        log.warning("the desk queue is unreachable; placing %s messages in the request", len(accepted), exc_info=True)
        try:
            messages_place(ids=accepted)
        except Exception:
            log.exception("placing %s accepted messages failed; left for the worker", len(accepted))


def place_flag_clear() -> None:
    from huey.contrib.djhuey import HUEY

    conn = _redis(HUEY)
    if conn is not None:
        conn.delete(PLACE_FLAG)
    else:
        from django.core.cache import cache

        cache.delete(PLACE_FLAG)


@action(capability=OPERATOR, atomic=False)
def messages_place(*, ids: Iterable[int] | None = None, limit: int = PLACE_BATCH) -> set[int]:
    """The conversations touched by placing ``ids`` (see ``_place``)."""
    return _place(ids, limit)[1]


def _place(ids: Iterable[int] | None, limit: int) -> tuple[int, set[int]]:
    """Put accepted messages into their conversations (created and routed when new) and refresh
    their state — ``ids`` (inline, the request's own) or the oldest waiting (the worker; several
    workers share the queue with SKIP LOCKED). Returns the conversations touched; the live stream
    hears of them after commit."""
    touched: set[int] = set()
    with transaction.atomic():
        qs = InboundMessage.objects.filter(placed_at__isnull=True)
        if ids is not None:
            qs = qs.filter(pk__in=list(ids))
        rows = list(
            qs.order_by("id")
            .select_for_update(skip_locked=True)
            .values_list("id", "channel_id", "sender_id", "sender_label", *(f.name for f in fields(_Inbound)))[:limit]
        )
        if not rows:
            return 0, touched
        groups: dict[tuple[int, int | None, str], list[_Inbound]] = defaultdict(list)
        for _pk, channel_id, sender_id, label, *rest in rows:
            groups[(channel_id, sender_id, label)].append(_Inbound(*rest))
        senders = {u.pk: u for u in get_user_model().objects.filter(pk__in={k[1] for k in groups if k[1] is not None})}
        result = IngestResult()
        for (channel_id, sender_id, label), members in groups.items():
            sender = senders.get(sender_id) if sender_id is not None else None
            actor: Any = sender if sender is not None else SystemActor(label=label or "desk")
            _store(actor, channel_id, members, result)
        InboundMessage.objects.filter(pk__in=[r[0] for r in rows]).update(placed_at=clock.now())
        touched = set(result.conversations)
        if touched:
            ordered = sorted(touched)
            transaction.on_commit(lambda: live.publish(ordered))
    return len(rows), touched


@action(capability=OPERATOR, atomic=False)
def messages_place_pending(*, rounds: int = 100) -> int:
    """The worker's job: place everything waiting, a batch at a time. Returns messages placed."""
    placed = 0
    for _round in range(rounds):
        count, _touched = _place(None, PLACE_BATCH)
        placed += count
        if count < PLACE_BATCH:
            break
    return placed


def inbound_prune(*, now: dt.datetime | None = None) -> int:
    """Forget accepted messages placed more than ``KEEP_DAYS`` ago (their stored message still
    answers for a late redelivery)."""
    cutoff = (now or clock.now()) - dt.timedelta(days=InboundMessage.KEEP_DAYS)
    deleted, _detail = InboundMessage.objects.filter(placed_at__isnull=False, received_at__lt=cutoff).delete()
    return deleted


@dataclass(frozen=True)
class _Inbound:
    external_id: str
    shop_id: int
    buyer: str
    direction: str
    kind: str
    agent_id: int | None
    sent_at: dt.datetime
    text: str


def _store(actor: Any, channel_id: int, good: list[_Inbound], result: IngestResult) -> None:
    now = clock.now()
    conversations, opened = _conversations(actor, {(m.shop_id, m.buyer) for m in good}, now)
    rows = [
        (
            conversations[(m.shop_id, m.buyer)].pk,
            m.shop_id,
            channel_id,
            m.external_id,
            m.direction,
            m.kind,
            m.agent_id,
            m.sent_at,
            now,
            m.text,
        )
        for m in good
    ]
    inserted = _insert_messages(rows, returning="external_id")
    new_ids = {r[0] for r in inserted}
    result.created += len(new_ids)
    result.duplicates += len(good) - len(new_ids)
    fresh = [m for m in good if m.external_id in new_ids]
    touched = {conversations[(m.shop_id, m.buyer)].pk for m in fresh}
    # a late message of a closed day makes that day's stored KPIs stale (the worker recomputes them)
    today = clock.today()
    late = {(clock.local_date(m.sent_at), m.shop_id) for m in fresh}
    late = {(day, shop_id) for day, shop_id in late if day < today}
    if late:
        cond = Q()
        for day, shop_id in late:
            cond |= Q(day=day, shop_id=shop_id)
        KpiDay.objects.filter(cond, stale=False).update(stale=True)
    buyer_wrote = {conversations[(m.shop_id, m.buyer)].pk for m in fresh if m.direction == Direction.IN}
    if touched:
        _refresh(conversation_ids=touched, reroute=buyer_wrote - opened, actor=actor)
    result.conversations |= touched


MESSAGE_COLUMNS = [
    "conversation_id",
    "shop_id",
    "channel_id",
    "external_id",
    "direction",
    "kind",
    "agent_id",
    "sent_at",
    "received_at",
    "text",
]


def _insert_messages(rows: list[tuple[Any, ...]], returning: str = "id") -> list[tuple[Any, ...]]:
    """Insert message rows (``MESSAGE_COLUMNS`` order); the unique (channel, external id) skips any
    already stored, and only the rows really inserted come back."""
    return insert_new(Message, MESSAGE_COLUMNS, rows, returning=[returning])


def _conversations(
    actor: Any, keys: set[tuple[int, str]], now: dt.datetime
) -> tuple[dict[tuple[int, str], Conversation], set[int]]:
    """The conversations of (shop, buyer) pairs, created (and routed) when new; two deliveries that
    create the same one at once meet at the unique constraint."""

    def load() -> dict[tuple[int, str], Conversation]:
        cond = Q()
        by_shop: dict[int, set[str]] = defaultdict(set)
        for shop_id, buyer in keys:
            by_shop[shop_id].add(buyer)
        for shop_id, buyers in by_shop.items():
            cond |= Q(shop_id=shop_id, buyer__in=buyers)
        return {(c.shop_id, c.buyer): c for c in Conversation.objects.filter(cond).select_related("status")}

    found = load()
    missing = keys - set(found)
    opened: set[int] = set()
    if missing:
        start = wf.open_fields(CONVERSATIONS, now)
        created = insert_new(
            Conversation,
            [
                "shop_id",
                "buyer",
                "queue",
                "status_id",
                "opened_at",
                "updated_at",
                "checklist",
                "message_count",
                "last_text",
                "breached",
            ],
            [
                (shop_id, buyer, Queue.PRESALES, start["status"].pk, now, now, {}, 0, "", False)
                for shop_id, buyer in missing
            ],
            returning=["id"],
        )
        found = load()
        opened = {row[0] for row in created}  # a concurrent delivery may have created some first
        new = [found[key] for key in sorted(missing) if found[key].pk in opened]
        event_record_bulk(
            actor=actor,
            verb="conversation.opened",
            model=Conversation,
            entries=[(c.pk, str(c), None, {"buyer": c.buyer}) for c in new],
        )
        _route(conversations=new, actor=actor)
    return found, opened


# --- state of a conversation ------------------------------------------------------------------


def _human_reply() -> Q:
    return Q(direction=Direction.OUT, kind__in=HUMAN, agent__isnull=False)


STATE_COLUMNS = [
    "message_count",
    "last_message_at",
    "last_text",
    "waiting_since",
    "sla_due_at",
    "updated_at",
    "status_id",
    "closed_at",
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


def _refresh(*, conversation_ids: Iterable[int], reroute: Iterable[int] = (), actor: Any = None) -> None:
    """Recompute what a conversation shows from its stored messages (any arrival order): count,
    last message, and ``waiting_since`` = the first buyer message after the last human reply; the
    status follows (waiting / answered; a closed conversation reopens when the buyer writes).
    One query reads the state of every touched conversation, one writes them all."""
    ids = list(conversation_ids)
    if not ids:
        return
    reroute = set(reroute)
    state = _thread_state(ids)
    rows = list(Conversation.objects.filter(pk__in=ids).select_related("status"))
    policy = policy_in_force()
    idle = dt.timedelta(minutes=int(policy.desk.idle_flag_minutes))
    labels = _default_labels()
    now = clock.now()
    changed = []
    routes = []
    for c in rows:
        _replied, waiting, last_at, last_body, count = state.get(c.pk, (None, None, None, "", 0))
        category = c.status.category
        if waiting is not None:
            target = ConversationCategory.WAITING
        elif category == ConversationCategory.CLOSED:
            target = ConversationCategory.CLOSED
        else:
            target = ConversationCategory.ANSWERED
        if category == ConversationCategory.CLOSED and c.pk in reroute and waiting is not None:
            event_record(actor=actor, verb="conversation.reopened", subject=c, before={"status": c.status.name})
        c.message_count = count
        c.last_message_at = last_at
        c.last_text = last_body[:120]
        c.waiting_since = waiting
        c.sla_due_at = waiting + idle if waiting else None
        c.updated_at = now
        if target != category:
            c.status = labels[target]
            c.closed_at = now if target == ConversationCategory.CLOSED else None
        if waiting is None or target != ConversationCategory.WAITING:
            c.escalated_at = None
            c.breached = False
        changed.append(c)
        if c.pk in reroute:
            routes.append((c, category))
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
                c.status_id,
                c.closed_at,
                c.escalated_at,
                c.breached,
            )
            for c in changed
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


def _default_labels() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for label in wf.StatusLabel.objects.filter(workflow=CONVERSATIONS.key).order_by(
        "-default_for_category", "position", "pk"
    ):
        found.setdefault(label.category, label)
    if len(found) < len(ConversationCategory.values):
        return {c: wf.default_label(CONVERSATIONS, c) for c in ConversationCategory.values}
    return found


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


def _route(*, conversations: list[Conversation], actor: Any = None) -> None:
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
    rows, events = [], []
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
        before = {
            "team": conversation.team.name if conversation.team_id and conversation.team else None,
            "owner": conversation.owner.name if conversation.owner_id and conversation.owner else None,
        }
        conversation.team, conversation.queue, conversation.owner = team, queue, agent
        rows.append((conversation.pk, team.pk if team else None, queue, agent.pk if agent else None))
        after = {"team": team.name if team else None, "queue": queue, "owner": agent.name if agent else None}
        events.append((conversation.pk, str(conversation), before, after, {"reason": why}))
    update_rows(Conversation, ["team_id", "queue", "owner_id"], rows)
    event_record_bulk(actor=actor, verb="conversation.routed", model=Conversation, entries=events)


# --- what agents do ---------------------------------------------------------------------------


def _own_staff(actor: Any) -> Staff:
    staff = staff_of(actor)
    if staff is None:
        raise PermissionDenied(_("Only staff members can do this."))
    return staff


def _reply_key(conversation_id: int, idempotency_key: str) -> str:
    """A reply's external id: the form's key within its conversation (a key reused elsewhere is a
    different reply)."""
    return f"kefu-{conversation_id}-{idempotency_key}"[:128]


@action(capability="desk.handle", scope=("conversation",))
def reply_send(*, actor: Any, conversation: Conversation, text: str, idempotency_key: str | None = None) -> Message:
    """An agent answers from Kefu (R-DESK-2: any agent may answer any waiting buyer in their scope).
    The message joins the thread through the same store as everything else; an unowned conversation
    becomes the replier's. A repeated idempotency key (double click) sends once."""
    staff = _own_staff(actor)
    text = (text or "").strip()
    if not text:
        raise ApplicationError("reply_empty", _("Write a reply first."))
    if len(text) > MAX_TEXT:
        raise ApplicationError("reply_too_long", _("A reply has at most %(n)s characters.") % {"n": MAX_TEXT})
    last_in = (
        Message.objects.filter(conversation=conversation, direction=Direction.IN)
        .select_related("channel")
        .order_by("-sent_at")
        .first()
    )
    channel = last_in.channel if last_in else Channel.objects.filter(active=True).order_by("pk").first()
    if channel is None:
        raise ApplicationError("no_channel", _("This conversation has no channel to answer through."))
    key = _reply_key(conversation.pk, idempotency_key or uuid.uuid4().hex)
    now = clock.now()
    inserted = _insert_messages(
        [
            (
                conversation.pk,
                conversation.shop_id,
                channel.pk,
                key,
                Direction.OUT,
                MessageKind.TEXT,
                staff.pk,
                now,
                now,
                text,
            )
        ]
    )
    message = Message.objects.get(channel=channel, external_id=key)
    message.sent_now = bool(inserted)  # type: ignore[attr-defined]  # False: the same click again
    if inserted:
        if conversation.owner_id is None:
            Conversation.objects.filter(pk=conversation.pk, owner__isnull=True).update(owner=staff)
            event_record(actor=actor, verb="conversation.assigned", subject=conversation, after={"owner": staff.name})
        _refresh(conversation_ids=[conversation.pk], actor=actor)
        from kefu.core.outbox import outbox_put

        outbox_put("desk.deliver", {"message": message.pk, "channel": channel.code}, key=f"desk-deliver-{message.pk}")
        ids = [conversation.pk]
        transaction.on_commit(lambda: live.publish(ids))
    return message


@action(capability="desk.handle", scope=("conversation", "to_staff"))
def conversation_transfer(
    *, actor: Any, conversation: Conversation, to_staff: Staff | None = None, to_team: Any = None, note: str = ""
) -> Conversation:
    """Hand a conversation to another agent or team: the thread stays, a note says why."""
    if to_staff is None and to_team is None:
        raise ApplicationError("transfer_target", _("Choose an agent or a team to transfer to."))
    if to_staff is not None and not staff_holds(to_staff, "desk.take"):
        raise ApplicationError("transfer_target", _("A conversation goes to a desk agent or a team lead."))
    serving = set(conversation.shop.teams.values_list("pk", flat=True))
    if (to_staff is not None and to_staff.team_id not in serving) or (
        to_team is not None and to_team.pk not in serving
    ):
        raise ApplicationError("transfer_target", _("That agent or team does not serve this conversation's shop."))
    if to_team is not None and to_staff is None:
        # another team: into its queue, to its lightest online agent, as routing would
        to_staff, _load = _lightest_online(to_team, conversation.queue)
    team = to_team or (to_staff.team if to_staff else None)
    me = staff_of(actor)
    before = {
        "owner": conversation.owner.name if conversation.owner else None,
        "team": conversation.team.name if conversation.team else None,
    }
    Conversation.objects.filter(pk=conversation.pk).update(owner=to_staff, team=team, updated_at=clock.now())
    text = _("Transferred to %(to)s") % {"to": to_staff.name if to_staff else team.name if team else "—"}
    if note.strip():
        text += ": " + note.strip()[:300]
    now = clock.now()
    channel = Channel.objects.filter(active=True).order_by("pk").first()
    if channel is not None:
        _insert_messages(
            [
                (
                    conversation.pk,
                    conversation.shop_id,
                    channel.pk,
                    f"note-{uuid.uuid4().hex}",
                    Direction.NOTE,
                    MessageKind.SYSTEM,
                    me.pk if me else None,
                    now,
                    now,
                    text,
                )
            ]
        )
    event_record(
        actor=actor,
        verb="conversation.transferred",
        subject=conversation,
        before=before,
        after={"owner": to_staff.name if to_staff else None, "team": team.name if team else None},
        data={
            "note": note[:300],
            "from": conversation.owner.employee_no if conversation.owner else (me.employee_no if me else None),
        },
    )
    conversation.refresh_from_db()
    ids = [conversation.pk]
    transaction.on_commit(lambda: live.publish(ids))
    return conversation


@action(capability="desk.handle", scope=("conversation",))
def conversation_close(*, actor: Any, conversation: Conversation) -> Conversation:
    label = wf.default_label(CONVERSATIONS, ConversationCategory.CLOSED)
    return wf.transition(actor=actor, item=conversation, label=label)  # type: ignore[no-any-return]


@action(capability=OWN)
def presence_set(*, actor: Any, state: str) -> Presence:
    """An agent sets their own desk state (R-DESK-2)."""
    if state not in PresenceState.values:
        raise ApplicationError("presence_state", _("Choose online, away or offline."))
    staff = _own_staff(actor)
    now = clock.now()
    current = Presence.objects.filter(staff=staff).first()
    before = current.state if current else PresenceState.OFFLINE
    presence, _created = Presence.objects.update_or_create(staff=staff, defaults={"state": state, "changed_at": now})
    if before != state:
        event_record(
            actor=actor, verb="presence.changed", subject=staff, before={"presence": before}, after={"presence": state}
        )
        # an agent coming online picks up their team's unassigned waiting buyers of their role
        if state == PresenceState.ONLINE and staff.team_id:
            waiting = Conversation.objects.filter(
                team_id=staff.team_id, owner__isnull=True, queue=staff.position, waiting_since__isnull=False
            ).select_related("shop", "team", "owner")[:50]
            _route(conversations=list(waiting), actor=actor)
        ids = [0]
        transaction.on_commit(lambda: live.publish(ids))
    return presence


def access_conversation_by_id(actor: Any, conversation_id: Any) -> Conversation:
    return access_object(
        actor, Conversation.objects.select_related("shop", "team", "owner", "status"), pk=conversation_id
    )


@action(capability="org.manage")
def channel_create(
    *,
    actor: Any,
    code: str,
    name: str,
    kind: str = "platform",
    shop: Shop | None = None,
    origins: list[str] | None = None,
) -> Channel:
    import re

    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{1,39}", code or ""):
        raise ApplicationError("channel_code", _("A channel code is 2–40 lower-case letters, digits or dashes."))
    if Channel.objects.filter(code=code).exists():
        raise ApplicationError("channel_code", _("A channel with this code exists."))
    if kind not in ChannelKind.values:
        raise ApplicationError("validation_error", _("Choose the kind of channel."))
    if kind == ChannelKind.WIDGET and shop is None:
        raise ApplicationError("channel_shop", _("A web chat widget belongs to one shop."))
    name = (name or code).strip()[:60]
    channel = Channel.objects.create(code=code, name=name, kind=kind, shop=shop, origins=origins or [])
    event_record(actor=actor, verb="channel.created", subject=channel, after={"code": code, "name": name})
    return channel


@action(capability="org.manage", scope=("channel",))
def channel_update(
    *, actor: Any, channel: Channel, name: str, active: bool, origins: list[str], rotate_secret: bool = False
) -> Channel:
    """Rename, switch on or off, set a widget's allowed origins, or issue a new signing secret."""
    import secrets as _secrets

    clean = []
    for origin in origins:
        origin = origin.strip().rstrip("/")
        if not origin:
            continue
        if not origin.startswith(("https://", "http://")) or " " in origin or len(origin) > 200:
            raise ApplicationError("channel_origin", _("An origin looks like https://shop.example.com."))
        clean.append(origin)
    before = {"name": channel.name, "active": channel.active, "origins": channel.origins}
    fields: dict[str, Any] = {"name": (name or channel.name).strip()[:60], "active": active, "origins": clean}
    if rotate_secret:
        fields["secret"] = _secrets.token_hex(32)
    Channel.objects.filter(pk=channel.pk).update(**fields)
    channel.refresh_from_db()
    from .selectors import directory_forget

    transaction.on_commit(directory_forget)  # this process at once; others within the TTL
    event_record(
        actor=actor,
        verb="channel.updated",
        subject=channel,
        before=before,
        after={"name": channel.name, "active": channel.active, "origins": channel.origins},
        data={"note": "secret rotated" if rotate_secret else ""},
    )
    return channel


# --- canned replies, question log, follow-ups (R-DESK-4, R-DESK-5) ------------------------------


def _clean(value: str, limit: int, message: str) -> str:
    value = (value or "").strip()
    if not value or len(value) > limit or "\x00" in value:
        raise ApplicationError("validation_error", message)
    return value


@action(capability="desk.handle", scope=("shop",))
def script_propose(*, actor: Any, shop: Shop, category: str, title: str, text: str) -> Script:
    """An agent proposes a canned reply; a team lead's (or above) is approved at once."""
    staff = _own_staff(actor)
    approved = is_operator(actor) or has_capability(actor, "scripts.decide")
    script = Script.objects.create(
        shop=shop,
        category=_clean(category, 40, _("Give the canned reply a category of at most 40 characters.")),
        title=_clean(title, 80, _("Give the canned reply a title of at most 80 characters.")),
        text=_clean(text, 2000, _("Write the canned reply (at most 2,000 characters).")),
        status=ScriptStatus.APPROVED if approved else ScriptStatus.PROPOSED,
        proposed_by=staff,
        approved_by=staff if approved else None,
        created_at=clock.now(),
    )
    event_record(
        actor=actor, verb="script.proposed", subject=script, after={"title": script.title, "status": script.status}
    )
    return script


@action(capability="scripts.decide", scope=("script",))
def script_decide(*, actor: Any, script: Script, approve: bool) -> Script:
    """The team lead approves a proposed canned reply or retires one."""
    status = ScriptStatus.APPROVED if approve else ScriptStatus.RETIRED
    before = script.status
    Script.objects.filter(pk=script.pk).update(
        status=status, approved_by=staff_of(actor) if approve else script.approved_by
    )
    script.refresh_from_db()
    event_record(
        actor=actor, verb="script.decided", subject=script, before={"status": before}, after={"status": status}
    )
    return script


def script_used(*, script_id: int) -> None:
    """Count a use (inserting it into a reply); a counter, not a state change."""
    Script.objects.filter(pk=script_id).update(uses=F("uses") + 1)


@action(capability="desk.handle", scope=("shop", "conversation"))
def question_record(
    *, actor: Any, shop: Shop, question: str, buyer: str = "", conversation: Conversation | None = None
) -> Question:
    staff = _own_staff(actor)
    item = Question.objects.create(
        shop=shop,
        conversation=conversation,
        buyer=(buyer or (conversation.buyer if conversation else ""))[:100],
        question=_clean(question, 2000, _("Write the question (at most 2,000 characters).")),
        asked_at=clock.now(),
        recorded_by=staff,
    )
    event_record(actor=actor, verb="question.recorded", subject=item, after={"question": item.question[:100]})
    return item


@action(capability="desk.handle", scope=("item",))
def question_answer(*, actor: Any, item: Question, answer: str, promote: bool = False, category: str = "") -> Question:
    """Record the answer once known; ``promote`` makes it a canned reply of the shop (approved when
    a team lead answers, proposed otherwise)."""
    staff = _own_staff(actor)
    answer = _clean(answer, 2000, _("Write the answer (at most 2,000 characters)."))
    updated = Question.objects.filter(pk=item.pk, answered_at__isnull=True).update(
        answer=answer, answered_by=staff, answered_at=clock.now()
    )
    if not updated:
        raise ApplicationError("changed", _("This question was answered meanwhile; reload the page."), status=409)
    item.refresh_from_db()
    event_record(actor=actor, verb="question.answered", subject=item, after={"answer": answer[:100]})
    if promote:
        script = script_propose(
            actor=actor, shop=item.shop, category=category or _("Questions"), title=item.question[:80], text=answer
        )
        Question.objects.filter(pk=item.pk).update(script=script)
        item.script = script
    return item


@action(capability="desk.handle", scope=("shop", "owner", "conversation"))
def followup_create(
    *,
    actor: Any,
    shop: Shop,
    buyer: str,
    problem: str,
    owner: Staff,
    due_at: dt.datetime,
    order_no: str = "",
    purchase_date: dt.date | None = None,
    request: str = "",
    conversation: Conversation | None = None,
) -> FollowUp:
    if due_at < clock.now() - dt.timedelta(minutes=10):
        raise ApplicationError("validation_error", _("The follow-up's due time lies in the past."))
    if purchase_date is not None and purchase_date > clock.today():
        raise ApplicationError("validation_error", _("The purchase date lies in the future."))
    if len((order_no or "").strip()) > 64:
        raise ApplicationError("validation_error", _("An order number has at most 64 characters."))
    item = FollowUp.objects.create(
        shop=shop,
        conversation=conversation,
        buyer=_clean(buyer, 100, _("Give the buyer's nick.")),
        order_no=(order_no or "").strip()[:64],
        purchase_date=purchase_date,
        problem=_clean(problem, 300, _("Describe the problem (at most 300 characters).")),
        request=(request or "").strip()[:300],
        owner=owner,
        due_at=due_at,
        created_at=clock.now(),
    )
    event_record(
        actor=actor, verb="followup.created", subject=item, after={"problem": item.problem, "owner": owner.name}
    )
    return item


@action(capability="desk.handle", scope=("item",))
def followup_done(*, actor: Any, item: FollowUp, outcome: str) -> FollowUp:
    outcome = _clean(outcome, 300, _("Say how it was settled (at most 300 characters)."))
    if not FollowUp.objects.filter(pk=item.pk, done_at__isnull=True).update(done_at=clock.now(), outcome=outcome):
        raise ApplicationError("changed", _("This follow-up was closed meanwhile; reload the page."), status=409)
    item.refresh_from_db()
    event_record(actor=actor, verb="followup.done", subject=item, after={"outcome": outcome})
    return item


# --- KPI rollups (derived data, written by the worker) --------------------------------------------


def kpi_rollup(*, day: dt.date, shop_ids: Iterable[int] | None = None) -> int:
    """Store the R-DESK-3 sums of a closed day per shop (all shops by default); returns rows written.
    Not an action: derived data with no timeline, recomputable at any time."""
    from kefu.policies.desk import to_sums

    from . import selectors

    if day >= clock.today():
        return 0
    ids = list(shop_ids) if shop_ids is not None else list(Shop.objects.values_list("pk", flat=True))
    now = clock.now()
    for shop_id in ids:
        figures = to_sums(selectors.day_figures(shop_id=shop_id, day=day))
        KpiDay.objects.update_or_create(
            day=day, shop_id=shop_id, defaults={"figures": figures, "stale": False, "computed_at": now}
        )
    return len(ids)


def kpi_days_paid_into(*, shop_id: int, paid_at: list[dt.datetime], **_kwargs: Any) -> int:
    """Payments recorded after a day's KPIs were stored change that day's conversion (a buyer who
    consulted counts as paid within the policy's window): the stored days they reach are marked
    stale, read live until the worker stores them again. Returns rows marked."""
    days: set[dt.date] = set()
    for paid_on in {clock.local_date(moment) for moment in paid_at}:  # an import's thousands: a few days
        # the window of the policy in force then (the days it reaches back are that policy's too)
        window = int(policy_in_force(paid_on).desk.conversion_window_days)
        days |= {paid_on - dt.timedelta(days=back) for back in range(window + 1)}
    return KpiDay.objects.filter(shop_id=shop_id, day__in=days, stale=False).update(stale=True)


def kpi_rollup_due(*, days_back: int = 3) -> int:
    """The worker's sweep: the last few closed days, plus every day marked stale by a late message
    or a late payment."""
    today = clock.today()
    written = 0
    for back in range(1, days_back + 1):
        day = today - dt.timedelta(days=back)
        have = set(KpiDay.objects.filter(day=day, stale=False).values_list("shop_id", flat=True))
        missing = set(Shop.objects.values_list("pk", flat=True)) - have
        if missing:
            written += kpi_rollup(day=day, shop_ids=missing)
    for day, shop_id in KpiDay.objects.filter(stale=True).values_list("day", "shop_id")[:200]:
        written += kpi_rollup(day=day, shop_ids=[shop_id])
    return written


def daily_summaries_due(*, now: dt.datetime | None = None) -> list[str]:
    """At the end of each shift (the policy's shift types), the summary of each team goes to the
    DingTalk group robot once: the outbox key (team, day, shift) makes a second run do nothing."""
    from kefu.core.outbox import outbox_put
    from kefu.core.scoping import DEPARTMENT
    from kefu.org.models import Team

    from . import selectors
    from .delivery import SUMMARY

    now = (now or clock.now()).astimezone(clock.local_tz())
    sent = []
    for shift in policy_in_force(now.date()).attendance.shift_types:
        start = dt.time.fromisoformat(shift.start)
        end = dt.time.fromisoformat(shift.end)
        day = now.date() - dt.timedelta(days=1) if end <= start and now.time() < start else now.date()
        end_at = dt.datetime.combine(day + dt.timedelta(days=1 if end <= start else 0), end, tzinfo=clock.local_tz())
        if not end_at <= now < end_at + dt.timedelta(hours=2):
            continue
        for team in Team.objects.order_by("pk"):
            key = f"{SUMMARY}:{team.pk}:{day.isoformat()}:{shift.code}"
            with transaction.atomic():
                data = selectors.daily_summary(actor=DEPARTMENT, team=team, day=day)
                text = selectors.daily_summary_text(data)
                if outbox_put(SUMMARY, {"title": f"{team.name} 组长日报", "text": text}, key=key) is not None:
                    event_record(
                        actor=None, verb="desk.summary_sent", subject=team, data={"day": day, "shift": shift.code}
                    )
                    sent.append(key)
    return sent


DEFAULT_CHANNELS = {"api": ("API", ChannelKind.PLATFORM), "import": ("聊天记录导入", ChannelKind.IMPORT)}


def channel_default(code: str) -> Channel | None:
    """The built-in channels (``api`` for token pushes, ``import`` for chat logs) always exist:
    recreated if someone deleted them; any other code is looked up as it is."""
    if code in DEFAULT_CHANNELS:
        name, kind = DEFAULT_CHANNELS[code]
        return _channel_ensure(code, name, kind)
    from . import selectors

    return selectors.channel_by_code(code)


def channel_for_pusher(actor: Any) -> Channel | None:
    """The channel a person's token pushes into: one per team (``api-t<team id>``), so message ids
    are each team's own — one shared ``api`` channel let the Haifeng lead's id silently drop the
    Yangzhou lead's real message, and the duplicate count told which ids existed (issue 16 §5).
    The supervisor and the deputy push into ``api``."""
    from kefu.core.scoping import scope_for

    scope = scope_for(actor)
    if scope.all or not scope.team_ids:
        return channel_default("api")
    team = Team.objects.get(pk=min(scope.team_ids))
    return _channel_ensure(f"api-t{team.pk}", f"API · {team.name}"[:60], ChannelKind.PLATFORM)


def _channel_ensure(code: str, name: str, kind: str) -> Channel | None:
    """A channel the system keeps (built-in or a team's push channel), created on first use with a
    fresh secret; None while an administrator has switched it off."""
    import secrets as _secrets

    channel, _created = Channel.objects.get_or_create(
        code=code, defaults={"name": name, "kind": kind, "secret": _secrets.token_hex(32)}
    )
    return channel if channel.active else None


# --- R-DESK-6 payment urging (催拍催付) ------------------------------------------------------------

URGE_CATEGORY = "催付"


def _urge_settings(desk: Any) -> tuple[dt.timedelta, dt.timedelta, dt.timedelta, dt.timedelta]:
    return (
        dt.timedelta(minutes=desk.urge_after_minutes),
        dt.timedelta(hours=desk.urge_consultation_hours),
        dt.timedelta(minutes=desk.urge_due_minutes),
        dt.timedelta(days=desk.urge_max_days),
    )


def no_sale_reasons(on: dt.date | None = None) -> dict[str, str]:
    """The policy's catalogue of reasons for no sale, code → label, in its order."""
    return {r.code: r.label for r in policy_in_force(on).desk.no_sale_reasons}


@action(capability=OPERATOR)
def payment_chases_due(*, actor: Any = None, now: dt.datetime | None = None) -> dict[str, int]:
    """The worker's pass (every few minutes): orders unpaid ``urge_after_minutes`` after they were
    placed by a buyer who consulted in the shop within ``urge_consultation_hours`` before become
    tasks (one per order, the unique order decides) for the conversation's agent; tasks whose order
    has since been paid close as paid. Returns the counts."""
    now = now or clock.now()
    after, consult, due, oldest = _urge_settings(policy_in_force(clock.local_date(now)).desk)
    candidates = list(
        Order.objects.filter(
            status=OrderStatus.AWAITING_PAYMENT,
            paid_at__isnull=True,
            ordered_at__lte=now - after,
            ordered_at__gte=now - oldest,
        ).values_list("pk", "shop_id", "buyer_nick", "ordered_at")
    )
    opened = 0
    if candidates:
        by_shop: dict[int, set[str]] = defaultdict(set)
        for _pk, shop_id, buyer, _at in candidates:
            by_shop[shop_id].add(buyer)
        cond = Q()
        for shop_id, buyers in by_shop.items():
            cond |= Q(shop_id=shop_id, buyer__in=buyers)
        conversations = {
            (shop_id, buyer): (pk, owner_id, last_at)
            for pk, shop_id, buyer, owner_id, last_at in Conversation.objects.filter(cond).values_list(
                "pk", "shop_id", "buyer", "owner_id", "last_message_at"
            )
        }
        rows = []
        for pk, shop_id, buyer, ordered_at in candidates:
            conv = conversations.get((shop_id, buyer))
            if conv is None or conv[2] is None or conv[2] < ordered_at - consult:
                continue  # no consultation: not a pre-sales task
            rows.append((shop_id, pk, conv[0], buyer, conv[1], ChaseState.OPEN, now, now + due, 0, "", ""))
        created = insert_new(
            PaymentChase,
            [
                "shop_id",
                "order_id",
                "conversation_id",
                "buyer",
                "owner_id",
                "state",
                "created_at",
                "due_at",
                "urge_count",
                "reason",
                "note",
            ],
            rows,
            returning=["id"],
        )
        opened = len(created)
        for chase in PaymentChase.objects.filter(pk__in=[r[0] for r in created]).select_related("order"):
            event_record(
                actor=actor,
                verb="chase.opened",
                subject=chase,
                after={"order": chase.order.order_no, "buyer": chase.buyer},
            )
    paid = 0
    for chase in PaymentChase.objects.filter(state=ChaseState.OPEN, order__paid_at__isnull=False).select_related(
        "order"
    ):
        if PaymentChase.objects.filter(pk=chase.pk, state=ChaseState.OPEN).update(
            state=ChaseState.PAID, settled_at=chase.order.paid_at or now
        ):
            paid += 1
            event_record(actor=actor, verb="chase.paid", subject=chase, after={"order": chase.order.order_no})
    return {"opened": opened, "paid": paid}


@action(capability="desk.handle", scope=("chase",))
def chase_urge(*, actor: Any, chase: PaymentChase, text: str, idempotency_key: str | None = None) -> PaymentChase:
    """The agent urges the buyer: the script (as edited) goes into the conversation as a reply and
    the task records when and how often it was urged; the task becomes the urger's if unowned."""
    if chase.state != ChaseState.OPEN:
        raise ApplicationError("changed", _("This task is settled already; reload the page."), status=409)
    if chase.conversation_id is None:
        raise ApplicationError("no_conversation", _("This order has no conversation to urge in."))
    staff = _own_staff(actor)
    conversation = access_conversation_by_id(actor, chase.conversation_id)
    message = reply_send(actor=actor, conversation=conversation, text=text, idempotency_key=idempotency_key)
    if not getattr(message, "sent_now", True):
        return chase  # the same click again (the message's unique key decided): urged once
    # counted only while the task is open, in the same statement: a concurrent "no sale" wins or
    # loses as a whole (this action's transaction undoes the reply with it)
    if not PaymentChase.objects.filter(pk=chase.pk, state=ChaseState.OPEN).update(
        urged_at=clock.now(), urge_count=F("urge_count") + 1
    ):
        raise ApplicationError("changed", _("This task is settled already; reload the page."), status=409)
    PaymentChase.objects.filter(pk=chase.pk, owner__isnull=True).update(owner=staff)
    chase.refresh_from_db()
    event_record(actor=actor, verb="chase.urged", subject=chase, after={"times": chase.urge_count})
    return chase


@action(capability="desk.handle", scope=("chase",))
def chase_lost(*, actor: Any, chase: PaymentChase, reason: str, note: str = "") -> PaymentChase:
    """The buyer will not pay: the reason from the policy's catalogue (and a note) is recorded."""
    reasons = no_sale_reasons()
    if reason not in reasons:
        raise ApplicationError("validation_error", _("Choose the reason for no sale."))
    note = (note or "").strip()[:300]
    if not PaymentChase.objects.filter(pk=chase.pk, state=ChaseState.OPEN).update(
        state=ChaseState.LOST, settled_at=clock.now(), reason=reason, note=note
    ):
        raise ApplicationError("changed", _("This task is settled already; reload the page."), status=409)
    chase.refresh_from_db()
    event_record(actor=actor, verb="chase.lost", subject=chase, after={"reason": reasons[reason], "note": note})
    return chase


def urge_text(chase: PaymentChase, script: Script | None) -> str:
    """The message proposed for urging this order's buyer: the shop's approved 催付 script, else the
    policy's (seed 002), with the receiver, platform, shop, order time and item filled in."""
    order = chase.order
    template = script.text if script is not None else str(policy_in_force().desk.urge_script)
    local = clock.local_date(order.ordered_at) if order.ordered_at else None
    values = {
        "称呼": order.receiver_name or chase.buyer,
        "平台": str(chase.shop.get_platform_display()),
        "店铺": chase.shop.name,
        "下单时间": f"{local.month}月{local.day}日" if local else "",
        "商品": (order.items_title or "")[:60] or _("the item"),
    }
    return desk_rules.urge_message(template, values)


def urge_script(*, actor: Any, shop_id: int) -> Script | None:
    """The shop's approved urging script (category 催付), the most used first."""
    return (
        Script.objects.restrict(actor)
        .filter(shop_id=shop_id, status=ScriptStatus.APPROVED, category=URGE_CATEGORY)
        .order_by("-uses", "pk")
        .first()
    )
