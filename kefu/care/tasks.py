"""Scheduled customer-care job: members' return visits for the month (R-CARE-3)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .services import member_visits_schedule


@db_periodic_task(crontab(minute="7", hour="*/6"))
def member_visits_periodic() -> int:
    """R-CARE-3 (clarified): members without a return visit this month get one scheduled (idempotent)."""
    return member_visits_schedule()
