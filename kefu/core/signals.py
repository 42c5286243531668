"""Audit of sign-ins and sign-in failures; signals one module sends for others it must not import."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import Signal, receiver

from kefu.core.rules import Verb

from .events import SystemActor, event_record

# Orders with a payment were recorded for a shop (new, or their payment time or amount changed),
# inside the transaction that records them: ``shop_id`` and ``paid_at`` (the payment times). The desk
# marks the stored KPI days those payments count for as stale (R-DESK-3's conversion window).
payments_recorded = Signal()
# A staff member's leaving date was set (R-WF-18), inside the transaction: ``staff`` and ``leave_date``
# (None when it was taken back). The workforce ends their roster after it.
staff_leave_date_set = Signal()
# Messages were placed in their conversations, sent after the commit: ``conversations`` (their ids).
# Quality inspection reads them a few seconds behind (R-QA-1).
messages_placed = Signal()
# Messages of a day that has ended arrived (a chat-log import, a late delivery), inside the placing
# transaction: ``shop_days`` (a set of (local date, shop id)). Derived history of those days is stale.
late_messages = Signal()


@receiver(user_logged_in)
def _on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    event_record(actor=user, verb=Verb.AUTH_LOGIN, subject=user)


@receiver(user_logged_out)
def _on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        event_record(actor=user, verb=Verb.AUTH_LOGOUT, subject=user)


@receiver(user_login_failed)
def _on_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    username = str(credentials.get("username", ""))[:150]
    event_record(actor=SystemActor(label=username or "?"), verb=Verb.AUTH_LOGIN_FAILED, data={"username": username})
