"""KPI rollups (derived data the worker writes) and the team lead's daily summary (R-DESK-3, R-DESK-7)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction

from kefu.core import clock
from kefu.core.events import event_record
from kefu.core.policy_store import policy_in_force
from kefu.desk.rules import Verb
from kefu.org.models import Shop, Team

from ..models import (
    KpiDay,
)

# --- KPI rollups (derived data, written by the worker) --------------------------------------------


def kpi_rollup(*, day: dt.date, shop_ids: Iterable[int] | None = None) -> int:
    """Store the R-DESK-3 sums of a closed day per shop (all shops by default); returns rows written.
    Not an action: derived data with no timeline, recomputable at any time."""
    from kefu.policies.desk import to_sums

    from .. import selectors

    if day >= clock.today():
        return 0
    ids = list(shop_ids) if shop_ids is not None else list(Shop.objects.values_list("pk", flat=True))
    now = clock.now()
    for shop_id in ids:
        figures = to_sums(selectors.day_figures(shop_id=shop_id, day=day))
        KpiDay.objects.update_or_create(
            day=day, shop_id=shop_id, defaults={"figures": figures, "stale": False, "computed_at": now}
        )
    return len(ids)


def kpi_days_paid_into(*, shop_id: int, paid_at: list[dt.datetime], **_kwargs: Any) -> int:
    """Payments recorded after a day's KPIs were stored change that day's conversion (a buyer who
    consulted counts as paid within the policy's window): the stored days they reach are marked
    stale, read live until the worker stores them again. Returns rows marked."""
    days: set[dt.date] = set()
    for paid_on in {clock.local_date(moment) for moment in paid_at}:  # an import's thousands: a few days
        # the window of the policy in force then (the days it reaches back are that policy's too)
        window = int(policy_in_force(paid_on).desk.conversion_window_days)
        days |= {paid_on - dt.timedelta(days=back) for back in range(window + 1)}
    return KpiDay.objects.filter(shop_id=shop_id, day__in=days, stale=False).update(stale=True)


def kpi_rollup_due(*, days_back: int = 3) -> int:
    """The worker's sweep: the last few closed days, plus every day marked stale by a late message
    or a late payment."""
    today = clock.today()
    written = 0
    for back in range(1, days_back + 1):
        day = today - dt.timedelta(days=back)
        have = set(KpiDay.objects.filter(day=day, stale=False).values_list("shop_id", flat=True))
        missing = set(Shop.objects.values_list("pk", flat=True)) - have
        if missing:
            written += kpi_rollup(day=day, shop_ids=missing)
    for day, shop_id in KpiDay.objects.filter(stale=True).values_list("day", "shop_id")[:200]:
        written += kpi_rollup(day=day, shop_ids=[shop_id])
    return written


def daily_summaries_due(*, now: dt.datetime | None = None) -> list[str]:
    """At the end of each shift (the policy's shift types), the summary of each team goes to the
    DingTalk group robot once: the outbox key (team, day, shift) makes a second run do nothing."""
    from kefu.core.outbox import outbox_put
    from kefu.core.scoping import DEPARTMENT

    from .. import selectors
    from ..delivery import SUMMARY

    now = (now or clock.now()).astimezone(clock.local_tz())
    sent = []
    for shift in policy_in_force(now.date()).attendance.shift_types:
        start = dt.time.fromisoformat(shift.start)
        end = dt.time.fromisoformat(shift.end)
        day = now.date() - dt.timedelta(days=1) if end <= start and now.time() < start else now.date()
        end_at = dt.datetime.combine(day + dt.timedelta(days=1 if end <= start else 0), end, tzinfo=clock.local_tz())
        if not end_at <= now < end_at + dt.timedelta(hours=2):
            continue
        for team in Team.objects.order_by("pk"):
            key = f"{SUMMARY}:{team.pk}:{day.isoformat()}:{shift.code}"
            with transaction.atomic():
                data = selectors.daily_summary(actor=DEPARTMENT, team=team, day=day)
                text = selectors.daily_summary_text(data)
                if outbox_put(SUMMARY, {"title": f"{team.name} 组长日报", "text": text}, key=key) is not None:
                    event_record(
                        actor=None, verb=Verb.DESK_SUMMARY_SENT, subject=team, data={"day": day, "shift": shift.code}
                    )
                    sent.append(key)
    return sent
