"""R-WFM-1, the forecast of new conversation sessions per team and hour, pure: no Django.

* A **session** starts at a buyer message after at least ``silence`` seconds in which the
  conversation had no message (preset 30 minutes), or at the conversation's first buyer message. It
  ends at the last human reply before the next such silence; its duration (first buyer message → last
  human reply) is the handle time R-WFM-2 uses. A session with no human reply has no duration.
* The **forecast** for an hour of a date is the weighted mean of the same hour on the same weekday
  in the last N weeks with history (the weights, most recent first, from the policy; for a date more
  than a week ahead, the last N such weekdays before today), each past count first
  divided by its own date's campaign multiplier (a past 11-11 does not inflate an ordinary week),
  then times the target date's multiplier. A past date with no history at all (before the desk
  existed) is left out and the weights of the others renormalised.
* The **backtest error** is the MAPE of a whole week forecast from the weeks before it: the mean of
  |forecast − actual| / actual over the hours with actual > 0.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

HOURS = 24
IN, OUT = "in", "out"
HUMAN_KINDS = frozenset({"text", "image"})


class Event(NamedTuple):
    conversation: Any
    at: dt.datetime  # aware
    direction: str
    kind: str
    agent: str | None


class Session(NamedTuple):
    conversation: Any
    start: dt.datetime
    end: dt.datetime | None  # the last human reply; None: never answered

    @property
    def seconds(self) -> float | None:
        return None if self.end is None else (self.end - self.start).total_seconds()


def sessions(events: Iterable[Event], silence_seconds: int) -> list[Session]:
    """Every session in the given messages (any number of conversations), in start order."""
    by_conversation: dict[Any, list[Event]] = {}
    for e in events:
        by_conversation.setdefault(e.conversation, []).append(e)
    out: list[Session] = []
    gap = dt.timedelta(seconds=silence_seconds)
    for conversation, items in by_conversation.items():
        items.sort(key=lambda e: (e.at, 0 if e.direction == IN else 1))
        start: dt.datetime | None = None
        end: dt.datetime | None = None
        last: dt.datetime | None = None
        for e in items:
            if e.direction not in (IN, OUT):
                continue  # internal notes are not the buyer's conversation
            if start is not None and last is not None and e.at - last >= gap:
                out.append(Session(conversation, start, end))
                start = end = None
            buyer = e.direction == IN and e.kind in HUMAN_KINDS
            if start is None and buyer:
                start, end = e.at, None
            elif start is not None and e.direction == OUT and e.kind in HUMAN_KINDS and e.agent:
                end = e.at
            last = e.at
        if start is not None:
            out.append(Session(conversation, start, end))
    out.sort(key=lambda s: (s.start, str(s.conversation)))
    return out


@dataclass
class DayHistory:
    """One team-day of history: sessions started in each local hour, and the handled ones' seconds."""

    sessions: list[int]
    handled: list[int]
    handle_seconds: list[float]

    @classmethod
    def empty(cls) -> DayHistory:
        return cls([0] * HOURS, [0] * HOURS, [0.0] * HOURS)


def day_history(found: Iterable[Session], day: dt.date, tz: ZoneInfo) -> DayHistory:
    """The sessions of ``found`` that start on local ``day``, by hour."""
    h = DayHistory.empty()
    for s in found:
        local = s.start.astimezone(tz)
        if local.date() != day:
            continue
        h.sessions[local.hour] += 1
        if s.seconds is not None:
            h.handled[local.hour] += 1
            h.handle_seconds[local.hour] += s.seconds
    return h


def multiplier(campaigns: Mapping[str, Any], day: dt.date) -> Decimal:
    """The campaign multiplier of a date (policy keys "MM-DD" for every year, or "YYYY-MM-DD")."""
    value = campaigns.get(day.isoformat(), campaigns.get(day.strftime("%m-%d"), 1))
    return Decimal(str(value))


def same_weekdays(day: dt.date, weeks: int, before: dt.date | None = None) -> list[dt.date]:
    """The ``weeks`` dates on ``day``'s weekday that the forecast reads, most recent first: the
    weeks before ``day`` — or, for a day further ahead than a week, the last ones before ``before``
    (today: history ends there), so a date two months ahead is forecast from the latest weeks."""
    limit = min(day, before) if before is not None else day
    first = day - dt.timedelta(days=7)
    if first >= limit:
        first -= dt.timedelta(days=7 * ((first - limit).days // 7 + 1))
    return [first - dt.timedelta(days=7 * k) for k in range(weeks)]


def forecast_day(
    history: Mapping[dt.date, Sequence[int]],
    day: dt.date,
    weights: Sequence[float | Decimal | str],
    campaigns: Mapping[str, Any],
    *,
    before: dt.date | None = None,
) -> list[Decimal] | None:
    """The expected sessions in each hour of ``day`` (R-WFM-1), or None with no history at all.
    ``before``: the first day without history (today)."""
    total = Decimal(0)
    sums = [Decimal(0)] * HOURS
    for past, weight in zip(same_weekdays(day, len(weights), before), weights, strict=True):
        counts = history.get(past)
        if counts is None:
            continue
        w = Decimal(str(weight))
        m = multiplier(campaigns, past) or Decimal(1)
        total += w
        for hour in range(HOURS):
            sums[hour] += w * Decimal(counts[hour]) / m
    if total <= 0:
        return None
    target = multiplier(campaigns, day)
    return [s / total * target for s in sums]


def mape(forecast: Sequence[Decimal], actual: Sequence[int]) -> Decimal | None:
    """Mean absolute percentage error over the hours with actual > 0 (None when there are none)."""
    errors = [abs(f - Decimal(a)) / Decimal(a) for f, a in zip(forecast, actual, strict=True) if a > 0]
    if not errors:
        return None
    return (sum(errors, Decimal(0)) / len(errors)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def mean_handle_seconds(days: Iterable[DayHistory]) -> float | None:
    """The mean session duration over the given days (R-WFM-2's handle time)."""
    handled = 0
    seconds = 0.0
    for d in days:
        handled += sum(d.handled)
        seconds += sum(d.handle_seconds)
    return seconds / handled if handled else None
