"""Connector jobs: every minute the due connectors are synced, each in its own task (a slow platform
holds one worker thread, not the others); "sync now" queues the same task."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from kefu.core.errors import ApplicationError

log = logging.getLogger(__name__)


@db_task()
def connector_sync_task(connector_id: int, trigger: str = "schedule", user_id: int | None = None) -> int:
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


@db_periodic_task(crontab(minute="*"))
def connectors_due_periodic() -> int:
    from .selectors import due_connectors

    due = due_connectors()
    for connector_id in due:
        connector_sync_task(connector_id)
    return len(due)
