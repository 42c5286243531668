"""Field-service jobs: R-SVC-4's replacement flag for requests still open past the policy's days."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .services import replacements_sweep


@db_periodic_task(crontab(minute="20", hour="*/6"))
def replacements_due() -> int:
    return replacements_sweep()
