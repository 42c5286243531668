"""Core background jobs: the outbox drain (after each commit that queued a message, and every minute),
the imports' sweep and the expired counters (every minute)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import counters, imports
from .outbox import outbox_drain


@db_task()
def outbox_drain_task() -> dict[str, int]:
    return outbox_drain()


@db_periodic_task(crontab(minute="*"))
def outbox_drain_periodic() -> dict[str, int]:
    return outbox_drain()


@db_periodic_task(crontab(minute="*"))
def imports_sweep_periodic() -> dict[str, int]:
    return {**imports.sweep(), "counters_deleted": counters.sweep()}
