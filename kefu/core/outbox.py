"""The outbox: side effects (robot posts, mail) recorded in the action's transaction and delivered
by the worker after commit, with retries (ADR 0008).

An app registers a handler per kind (``@outbox_handler("dingtalk.robot")``); an action calls
``outbox_put(kind, payload, key=…)`` inside its transaction. ``key`` makes a message unique (the
Monday publication of one week is queued once however often the job runs). After commit the drain
task is scheduled; a periodic task drains whatever a crash or a failed delivery left behind.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F

from kefu.core.rules import Verb

from . import clock
from .actions import action
from .actors import Actor
from .events import event_record, jsonable
from .models import OutboxMessage

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], Any]
_handlers: dict[str, Handler] = {}
MAX_ATTEMPTS = 8


def outbox_handler(kind: str, label: Any) -> Callable[[Handler], Handler]:
    """Register the handler of a kind, with what people call its messages (the outbox page)."""

    def register(fn: Handler) -> Handler:
        from . import wording

        _handlers[kind] = fn
        wording.register(labels={kind: label})
        return fn

    return register


def outbox_put(kind: str, payload: dict[str, Any], *, key: str | None = None) -> OutboxMessage | None:
    """Queue a side effect; must be called inside the action's transaction. Returns None when a
    message with the same key already exists (the effect is queued once)."""
    if not connection.in_atomic_block:
        raise RuntimeError("outbox_put must run inside the action's transaction")
    try:
        with transaction.atomic():
            message = OutboxMessage.objects.create(
                kind=kind, payload=jsonable(payload), key=key, created_at=clock.now(), next_attempt_at=clock.now()
            )
    except IntegrityError:
        return None
    transaction.on_commit(_schedule_drain)
    return message


def _schedule_drain() -> None:
    from .tasks import outbox_drain_task

    try:
        outbox_drain_task()
    except Exception:  # the periodic drain picks it up
        log.exception("could not schedule the outbox drain")


def outbox_drain(*, limit: int = 50) -> dict[str, int]:
    """Deliver due messages. Each message is claimed with a conditional UPDATE (a lease), so two
    workers never deliver the same message at the same time."""
    now = clock.now()
    sent = failed = 0
    due = list(
        OutboxMessage.objects.filter(sent_at__isnull=True, dead=False, next_attempt_at__lte=now)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    for pk in due:
        lease_until = now + dt.timedelta(minutes=5)
        claimed = OutboxMessage.objects.filter(pk=pk, sent_at__isnull=True, next_attempt_at__lte=now).update(
            next_attempt_at=lease_until, attempts=F("attempts") + 1
        )
        if not claimed:
            continue
        message = OutboxMessage.objects.get(pk=pk)
        handler = _handlers.get(message.kind)
        try:
            if handler is None:
                raise LookupError(f"no outbox handler for {message.kind!r}")
            handler(message.payload)
        except Exception as exc:
            failed += 1
            delay = dt.timedelta(seconds=min(3600, 30 * 2 ** (message.attempts - 1)))
            OutboxMessage.objects.filter(pk=pk).update(
                last_error=f"{type(exc).__name__}: {exc}"[:1000],
                next_attempt_at=clock.now() + delay,
                dead=message.attempts >= MAX_ATTEMPTS,
            )
            log.warning("outbox %s #%s failed (attempt %s): %s", message.kind, pk, message.attempts, exc)
        else:
            sent += 1
            OutboxMessage.objects.filter(pk=pk).update(sent_at=clock.now(), last_error="")
    return {"sent": sent, "failed": failed}


@action(capability="outbox.manage")
def outbox_retry(*, actor: Actor, message_id: int) -> bool:
    """Send a failed or given-up message again at the next drain (once per click: only a message not
    sent yet is reset); the retry is on the audit trail."""
    message = OutboxMessage.objects.filter(pk=message_id, sent_at__isnull=True).first()
    done = OutboxMessage.objects.filter(pk=message_id, sent_at__isnull=True).update(
        dead=False, next_attempt_at=clock.now(), attempts=0
    )
    if done and message is not None:
        event_record(
            actor=actor,
            verb=Verb.OUTBOX_RETRIED,
            subject=message,
            before={"attempts": message.attempts},
            data={"message": message_id},
        )
        _schedule_drain()
    return bool(done)
