"""Accepted messages placed in their conversations (in the request, or by the worker after commit)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q

from kefu.core import clock
from kefu.core.actions import OPERATOR, action
from kefu.core.actors import Actor
from kefu.core.bulk import insert_new
from kefu.core.events import SystemActor, event_record_bulk
from kefu.desk.rules import Verb
from kefu.workflow import services as wf

from .. import live
from ..models import (
    Conversation,
    Direction,
    InboundMessage,
    KpiDay,
    Message,
    Queue,
)
from ..workflow import CONVERSATIONS
from .base import PLACE_BATCH, IngestResult
from .routing import _refresh, _route


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
            actor: Actor = sender if sender is not None else SystemActor(label=label or "desk")
            _store(actor, channel_id, members, result)
        InboundMessage.objects.filter(pk__in=[r[0] for r in rows]).update(placed_at=clock.now())
        touched = set(result.conversations)
        if touched:
            ordered = sorted(touched)
            transaction.on_commit(lambda: live.publish(ordered))
            transaction.on_commit(lambda: _announce(ordered))
    return len(rows), touched


def _announce(conversations: list[int]) -> None:
    """Tell the modules that read placed messages (quality inspection); a listener's failure never
    undoes or fails the placing."""
    from kefu.core.signals import messages_placed

    messages_placed.send_robust(sender=None, conversations=conversations)


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


def _store(actor: Actor, channel_id: int, good: list[_Inbound], result: IngestResult) -> None:
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
        from kefu.core.signals import late_messages

        late_messages.send(sender=None, shop_days=late)
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
    actor: Actor, keys: set[tuple[int, str]], now: dt.datetime
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
            verb=Verb.CONVERSATION_OPENED,
            model=Conversation,
            entries=[(c.pk, str(c), None, {"buyer": c.buyer}) for c in new],
        )
        _route(conversations=new, actor=actor)
    return found, opened
