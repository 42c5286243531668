"""Staffing's job: each night, yesterday's history of every team (R-WFM-1), so the forecast pages
read stored rows and never wait for a day of messages to be counted."""

from __future__ import annotations

import datetime as dt

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from kefu.core import clock
from kefu.org.models import Team

from .history import ensure


@db_periodic_task(crontab(hour="0", minute="20"))
def history_nightly() -> int:
    yesterday = clock.today() - dt.timedelta(days=1)
    teams = list(Team.objects.values_list("pk", flat=True))
    for team_id in teams:
        ensure(team_id, [yesterday])
    return len(teams)
