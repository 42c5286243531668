"""Scheduled workforce jobs."""

from __future__ import annotations

from typing import Any

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from kefu.core import clock

from .publication import publication_due, weekly_publish
from .services import red_packets_double_overdue


@db_periodic_task(crontab(minute="*/5"))
def weekly_publication() -> dict[str, Any] | None:
    """R-WF-14: on the policy's publication day and time (Monday 09:00, Asia/Shanghai) publish once."""
    now = clock.now().astimezone(clock.local_tz())
    red_packets_double_overdue(today=now.date())  # R-WF-5, as soon as a due date has passed
    if not publication_due(now):
        return None
    return weekly_publish(today=now.date())


@db_periodic_task(crontab(minute="5"))
def leavers_deactivate() -> int:
    """R-WF-18: every hour, people past their leaving date (Asia/Shanghai) become inactive."""
    from kefu.org.services import staff_leavers_deactivate

    return staff_leavers_deactivate(today=clock.now().astimezone(clock.local_tz()).date())
