"""Messages in: the one pipeline for every source (API, signed webhook, chat-log import, the
widget); each bad message reported by index, each good one accepted once (ADR 0012, 0013)."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from kefu.core import clock
from kefu.core.actions import action, is_operator, require
from kefu.core.actors import Actor, user_of
from kefu.core.bulk import insert_new_flagged
from kefu.core.errors import ApplicationError
from kefu.core.params import parse_moment, utf8_storable
from kefu.core.scoping import scope_for
from kefu.org.models import Shop, Staff
from kefu.org.permissions import holders

from ..models import (
    Channel,
    Direction,
    InboundMessage,
    Message,
    MessageKind,
)
from .base import HUMAN, MAX_BATCH, MAX_TEXT, IngestResult
from .placement import messages_place

log = logging.getLogger(__name__)


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


def _may_send_as(actor: Actor, agent: Staff) -> bool:
    """A person's token names as senders only the people of their own scope: a team lead their
    team, never the supervisor or the deputy (signed sources and the department name anyone)."""
    if not getattr(actor, "is_authenticated", False):
        return True
    scope = scope_for(actor)
    return scope.all or agent.team_id in scope.team_ids


def _shops(actor: Actor, channel: Channel, keys: set[str]) -> tuple[dict[str, Shop], dict[int, set[int]]]:
    """Shops by code or name, inside what the sender may write to (an API token's user sees their
    scope; a channel bound to a shop, a widget, only writes to it), with the teams serving each.
    Operators (webhooks, imports) read the remembered directory; users one scoped query."""
    from .. import selectors

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
def messages_ingest(*, actor: Actor, channel: Channel, items: list[Any], place: bool | None = None) -> IngestResult:
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
    from .. import selectors

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
    actor: Actor, channel: Channel, good: list[tuple[_Parsed, Shop]], agents: dict[str, Staff], result: IngestResult
) -> list[int]:
    """One INSERT for the whole delivery; what comes back was new — unless it was stored as a
    message before the inbound table's window (a very late redelivery): that is a duplicate too,
    and its inbound row is marked placed at once."""
    now = clock.now()
    sender = user_of(actor)
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
PLACE_FLAG = "kefu:desk:place-pending"


def _redis(huey: Any) -> Any:
    from huey.storage import RedisStorage

    return huey.storage.conn if isinstance(huey.storage, RedisStorage) else None


def wake_placer() -> None:
    """After a commit that accepted messages: queue one placing job unless one is already waiting
    (many requests a second share one job; the job clears the flag before it reads). With Redis the
    flag is one ``SET NX`` on the queue's own connection; otherwise the cache's ``add``."""
    from huey.contrib.djhuey import HUEY

    from ..tasks import place_task

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
