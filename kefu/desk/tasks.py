"""Desk jobs: placing accepted messages in their conversations (woken after each accepting commit
in production, and every minute as a safety net), the inbound table's pruning, the KPI rollups of
closed days (and of days a late message made stale) and the team leads' daily summaries."""

from __future__ import annotations

import time

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from .services import (
    daily_summaries_due,
    inbound_prune,
    kpi_rollup_due,
    messages_place_pending,
    payment_chases_due,
    place_flag_clear,
)

PLACE_GATHER_SECONDS = 0.1


@db_task()
def place_task() -> int:
    # Let a busy second's messages gather (their requests see the flag and queue nothing), then
    # clear the flag before reading: a message accepted from then on wakes another job.
    time.sleep(PLACE_GATHER_SECONDS)
    place_flag_clear()
    return messages_place_pending()


@db_periodic_task(crontab(minute="*"))
def place_periodic() -> int:
    return messages_place_pending()


@db_periodic_task(crontab(minute="17"))
def inbound_pruning() -> int:
    return inbound_prune()


@db_periodic_task(crontab(minute="*/10"))
def kpi_rollups() -> int:
    return kpi_rollup_due()


@db_periodic_task(crontab(minute="*/10"))
def daily_summaries() -> list[str]:
    """R-DESK-7: the team lead's summary to the DingTalk group at the end of each shift."""
    return daily_summaries_due()


@db_periodic_task(crontab(minute="*/5"))
def payment_chases() -> dict[str, int]:
    """R-DESK-6: unpaid orders after a consultation become urging tasks; paid ones close."""
    return payment_chases_due()
