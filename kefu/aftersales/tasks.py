"""Scheduled after-sales job: the Monday report to the supervisor (deadlines: ``kefu.workflow.tasks``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from kefu.core import clock

from .report import weekly_report_send


@db_periodic_task(crontab(minute="*/15"))
def monday_report() -> dict[str, Any] | None:
    """R-AS-15: on Monday from 09:00 (Asia/Shanghai) send last week's report to the supervisors, once."""
    now = clock.now().astimezone(clock.local_tz())
    if now.weekday() != 0 or now.hour < 9:
        return None
    return weekly_report_send(monday=now.date() - dt.timedelta(days=7))
