"""Scheduled desk job: the KPI rollups of closed days (and of days a late message made stale)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .services import daily_summaries_due, kpi_rollup_due


@db_periodic_task(crontab(minute="*/10"))
def kpi_rollups() -> int:
    return kpi_rollup_due()


@db_periodic_task(crontab(minute="*/10"))
def daily_summaries() -> list[str]:
    """R-DESK-7: the team lead's summary to the DingTalk group at the end of each shift."""
    return daily_summaries_due()
