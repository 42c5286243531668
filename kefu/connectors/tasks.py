"""Connector jobs. Every minute the due connectors are queued; "sync now" queues one.

A sync can take minutes (a platform that rate-limits, a first sync of months of orders), so it never
runs on the task worker's own threads, which place desk messages and deliver the outbox: the task
hands it to a thread of its own in the worker process (at most ``KEFU_CONNECTOR_THREADS``, 4, run
at once) and returns. The connector's lease keeps one run per connector however often it is queued. With
the embedded queue's immediate mode (the tests) the sync runs in place.
"""

from __future__ import annotations

import logging
import os
import threading

from django.conf import settings
from django.db import close_old_connections, connections
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from kefu.core.errors import ApplicationError

log = logging.getLogger(__name__)
# at most this many syncs at once in a worker; their threads are daemons, so stopping the worker
# never waits for a platform (a run cut short is read again: its window's cursor had not moved)
_SLOTS = threading.BoundedSemaphore(int(os.environ.get("KEFU_CONNECTOR_THREADS", "4")))
_QUEUED: set[int] = set()  # connectors with a thread waiting or running in this process
_QUEUED_LOCK = threading.Lock()


def _sync(connector_id: int, trigger: str, user_id: int | None) -> int:
    from django.contrib.auth import get_user_model

    from .models import Connector
    from .services import connector_sync

    connector = Connector.objects.filter(pk=connector_id).first()
    if connector is None:
        return 0
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    try:
        return len(connector_sync(connector=connector, trigger=trigger, user=user))
    except ApplicationError as exc:  # busy: another run holds it
        log.info("connector %s: %s", connector.name, exc.message)
        return 0


def _sync_in_thread(connector_id: int, trigger: str, user_id: int | None) -> None:
    try:
        with _SLOTS:
            close_old_connections()
            try:
                _sync(connector_id, trigger, user_id)
            except Exception:
                log.exception("connector %s: the sync stopped", connector_id)
            finally:
                connections.close_all()  # this thread's own connections
    finally:
        with _QUEUED_LOCK:
            _QUEUED.discard(connector_id)


def sync_soon(connector_id: int, trigger: str = "schedule", user_id: int | None = None) -> None:
    if settings.HUEY.get("immediate"):
        _sync(connector_id, trigger, user_id)
        return
    with _QUEUED_LOCK:
        if connector_id in _QUEUED:
            return  # already waiting for a slot or running here: once is enough
        _QUEUED.add(connector_id)
    threading.Thread(
        target=_sync_in_thread, args=(connector_id, trigger, user_id), name="kefu-connector", daemon=True
    ).start()


@db_task()
def connector_sync_task(connector_id: int, trigger: str = "schedule", user_id: int | None = None) -> None:
    sync_soon(connector_id, trigger, user_id)


@db_periodic_task(crontab(minute="*"))
def connectors_due_periodic() -> int:
    from .selectors import due_connectors

    due = due_connectors()
    for connector_id in due:
        sync_soon(connector_id)
    return len(due)
