"""R-WFM-1's history: each closed team-day's sessions by hour, computed from the desk's messages
once and kept (``TeamDay``); the forecast reads these rows, never the messages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from kefu.core import clock
from kefu.core.policy_store import policy_in_force
from kefu.desk.models import Message
from kefu.policies import forecast as rules

from .models import TeamDay

LATE_REPLY_HOURS = 6  # a session's replies are read this far past midnight


def compute(team_id: int, day: dt.date) -> rules.DayHistory:
    """The team's sessions that start on ``day`` (local), by hour."""
    silence = int(policy_in_force(day).staffing.session_silence_minutes) * 60
    low = clock.day_start(day) - dt.timedelta(seconds=silence)
    high = clock.day_start(day + dt.timedelta(days=1)) + dt.timedelta(hours=LATE_REPLY_HOURS)
    from kefu.org.selectors import team_shop_ids

    # the team's conversations in its shops, read by shop and time (the (shop, sent time) index)
    shops = team_shop_ids(team_id)
    events = [
        rules.Event(c, at, d, k, str(a) if a else None)
        for c, at, d, k, a in Message.objects.filter(
            shop_id__in=shops, conversation__team_id=team_id, sent_at__gte=low, sent_at__lt=high
        )
        .order_by()
        .values_list("conversation_id", "sent_at", "direction", "kind", "agent_id")
    ]
    return rules.day_history(rules.sessions(events, silence), day, clock.local_tz())


def ensure(team_id: int, days: Iterable[dt.date]) -> dict[dt.date, rules.DayHistory]:
    """The history of the given days that have ended (today and later have none yet). Missing days
    are computed now and kept."""
    wanted = sorted(set(days))
    today = clock.today()
    have = {
        t.day: rules.DayHistory(list(t.sessions), list(t.handled), [float(s) for s in t.handle_seconds])
        for t in TeamDay.objects.filter(team_id=team_id, day__in=wanted)
    }
    rows = []
    for day in wanted:
        if day in have or day >= today:
            continue
        h = compute(team_id, day)
        have[day] = h
        rows.append(
            TeamDay(
                team_id=team_id,
                day=day,
                sessions=h.sessions,
                handled=h.handled,
                handle_seconds=[round(s, 1) for s in h.handle_seconds],
                computed_at=clock.now(),
            )
        )
    if rows:
        TeamDay.objects.bulk_create(rows, ignore_conflicts=True)
    return have


def forget(shop_days: Iterable[tuple[dt.date, int]]) -> int:
    """Drop the stored days of the teams serving these shops (messages of an ended day arrived late:
    a chat-log import): they are computed again when next read."""
    from django.db.models import Q

    from kefu.org.models import Team

    pairs = list(shop_days)
    if not pairs:
        return 0
    teams: dict[int, set[int]] = {}
    for team_id, shop_id in Team.shops.through.objects.filter(shop_id__in={s for _d, s in pairs}).values_list(
        "team_id", "shop_id"
    ):
        teams.setdefault(shop_id, set()).add(team_id)
    cond = Q()
    for day, shop_id in pairs:
        for team_id in teams.get(shop_id, ()):
            cond |= Q(team_id=team_id, day=day)
    return TeamDay.objects.filter(cond).delete()[0] if cond else 0
