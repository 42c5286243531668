"""Payment urging (催拍催付, R-DESK-6)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import F, Q
from django.utils.translation import gettext as _

from kefu.commerce.models import Order, OrderStatus
from kefu.core import clock
from kefu.core.actions import OPERATOR, action
from kefu.core.actors import Actor
from kefu.core.bulk import insert_new
from kefu.core.errors import ApplicationError
from kefu.core.events import event_record
from kefu.core.policy_store import policy_in_force
from kefu.desk.rules import Verb
from kefu.policies import desk as desk_rules

from ..models import (
    ChaseState,
    Conversation,
    PaymentChase,
    Script,
    ScriptStatus,
)
from .agents import _own_staff, access_conversation_by_id, reply_send

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
def payment_chases_due(*, actor: Actor = None, now: dt.datetime | None = None) -> dict[str, int]:
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
                verb=Verb.CHASE_OPENED,
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
            event_record(actor=actor, verb=Verb.CHASE_PAID, subject=chase, after={"order": chase.order.order_no})
    return {"opened": opened, "paid": paid}


@action(capability="desk.handle", scope=("chase",))
def chase_urge(*, actor: Actor, chase: PaymentChase, text: str, idempotency_key: str | None = None) -> PaymentChase:
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
    event_record(actor=actor, verb=Verb.CHASE_URGED, subject=chase, after={"times": chase.urge_count})
    return chase


@action(capability="desk.handle", scope=("chase",))
def chase_lost(*, actor: Actor, chase: PaymentChase, reason: str, note: str = "") -> PaymentChase:
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
    event_record(actor=actor, verb=Verb.CHASE_LOST, subject=chase, after={"reason": reasons[reason], "note": note})
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


def urge_script(*, actor: Actor, shop_id: int) -> Script | None:
    """The shop's approved urging script (category 催付), the most used first."""
    return (
        Script.objects.restrict(actor)
        .filter(shop_id=shop_id, status=ScriptStatus.APPROVED, category=URGE_CATEGORY)
        .order_by("-uses", "pk")
        .first()
    )
