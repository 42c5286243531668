"""The only place that reads the wall clock, so tests can freeze time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


def now() -> dt.datetime:
    return timezone.now()


def local_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def today() -> dt.date:
    return timezone.localdate(now())


def day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of a local (Asia/Shanghai) calendar day, as an aware datetime."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=local_tz())


def local_date(value: dt.datetime) -> dt.date:
    """The local (Asia/Shanghai) calendar date of an aware datetime."""
    return value.astimezone(local_tz()).date()


def make_aware(value: dt.datetime) -> dt.datetime:
    """Interpret a naive datetime as local (Asia/Shanghai) time."""
    if value.tzinfo is not None:
        return value
    return value.replace(tzinfo=local_tz())
