"""Kefu → the platform (issue 21 §2): the R-COM-1 remark an agent sets becomes the order's seller memo
on the shop's platform. Queued in the remark's transaction (the outbox), sent after commit by the
worker, retried by the outbox when the platform fails; a shop without a connector that writes memos
has nothing to send."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy

from kefu.commerce.services import REMARK_WRITE_BACK
from kefu.core.events import event_record
from kefu.core.outbox import outbox_handler

from . import crypto
from .base import Context
from .rules import Verb
from .transport import Backoff, client


@outbox_handler(REMARK_WRITE_BACK, gettext_lazy("Order remark to the platform's seller memo"))
def _remark(payload: dict[str, Any]) -> None:
    from kefu.commerce.models import Order

    from . import taobao
    from .models import Connector
    from .services import _actor_for

    order = Order.objects.select_related("shop").filter(pk=int(payload.get("order") or 0)).first()
    if order is None:
        return
    connector = Connector.objects.filter(shop=order.shop, platform="taobao", enabled=True).order_by("pk").first()
    if connector is None:
        return  # this shop's platform is not connected: the remark stays in Kefu
    memo = str(payload.get("memo") or "")
    with client() as http:
        ctx = Context(connector, crypto.unseal(connector.sealed), http, Backoff(attempts=3), _actor_for(connector))
        answer = taobao.memo_update(ctx, order.order_no, memo)
    event_record(
        actor=ctx.actor,
        verb=Verb.MEMO_WRITTEN,
        subject=order,
        data={"connector": connector.name, "modified": str((answer.get("trade") or {}).get("modified", ""))},
    )
