"""The only place that reads the wall clock, so tests can freeze time."""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

_FIXED: contextvars.ContextVar[dt.datetime | None] = contextvars.ContextVar("kefu_clock_fixed", default=None)


def now() -> dt.datetime:
    fixed = _FIXED.get()
    return fixed if fixed is not None else timezone.now()


@contextlib.contextmanager
def at(moment: dt.datetime) -> Iterator[None]:
    """Act as if it were ``moment`` (the demo replays a past week through the real services)."""
    token = _FIXED.set(moment)
    try:
        yield
    finally:
        _FIXED.reset(token)


def local_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def today() -> dt.date:
    return timezone.localdate(now())


def day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of a local (Asia/Shanghai) calendar day, as an aware datetime."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=local_tz())


def stored(value: Any) -> Any:
    """A timestamp as raw SQL or a text cast returns it — aware already, text with its offset
    (PostgreSQL), or UTC text without one (SQLite) — as an aware datetime (None stays None)."""
    if value is None or isinstance(value, dt.datetime):
        return value
    parsed = dt.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def local_date(value: dt.datetime) -> dt.date:
    """The local (Asia/Shanghai) calendar date of an aware datetime."""
    return value.astimezone(local_tz()).date()


EARLIEST_YEAR, LATEST_YEAR = 2000, 2100  # times outside are malformed input, never stored
MAX_UTC_OFFSET = dt.timedelta(hours=14)  # the widest offset in use; PostgreSQL refuses beyond ±15:59


def offset_ok(value: dt.datetime | dt.date) -> bool:
    """Whether an aware time's UTC offset is one a place on earth uses (naive times and dates pass)."""
    offset = value.utcoffset() if isinstance(value, dt.datetime) else None
    return offset is None or abs(offset) <= MAX_UTC_OFFSET


def local_text(moment: dt.datetime | None) -> str:
    """A stored time as people read it (exports, timelines): Asia/Shanghai, to the minute; "" for none."""
    return moment.astimezone(local_tz()).strftime("%Y-%m-%d %H:%M") if moment else ""


def make_aware(value: dt.datetime) -> dt.datetime:
    """Interpret a naive datetime as local (Asia/Shanghai) time. A time outside 2000–2100 is refused
    (ValueError): year 1 in Asia/Shanghai's historical offset becomes a BC timestamp PostgreSQL
    stores but cannot return, and year 9999 overflows day arithmetic."""
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"time out of range ({EARLIEST_YEAR}–{LATEST_YEAR}): {value.isoformat()}")
    if not offset_ok(value):
        raise ValueError(f"impossible UTC offset: {value.isoformat()}")
    if value.tzinfo is not None:
        return value
    return value.replace(tzinfo=local_tz())
