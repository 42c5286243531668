"""Scheduled desk job: the KPI rollups of closed days (and of days a late message made stale)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .services import kpi_rollup_due


@db_periodic_task(crontab(minute="*/10"))
def kpi_rollups() -> int:
    return kpi_rollup_due()
