"""The one deadline job for every registered workflow (escalation before, breach after)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .services import deadlines_sweep


@db_periodic_task(crontab(minute="*/5"))
def escalate_deadlines() -> dict[str, int]:
    return deadlines_sweep()
