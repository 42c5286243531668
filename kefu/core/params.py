"""Lenient parsing of query and form parameters: a malformed value reads as absent, never as an error page."""

from __future__ import annotations

import datetime as dt

INT_LIMIT = 2**63 - 1  # what a database id or integer column holds


def int_param(value: str | None) -> int | None:
    """An integer query/form parameter, or None when absent, malformed or beyond a 64-bit id."""
    try:
        number = int(value) if value else None
    except (ValueError, TypeError):
        return None
    return number if number is not None and -INT_LIMIT <= number <= INT_LIMIT else None


EARLIEST, LATEST = dt.date(1970, 1, 1), dt.date(2100, 12, 31)


def date_param(value: str | None) -> dt.date | None:
    """A date parameter, or None when absent, malformed or outside 1970–2100 (day arithmetic safe)."""
    try:
        day = dt.date.fromisoformat(value[:10]) if value else None
    except (ValueError, TypeError):
        return None
    return day if day is not None and EARLIEST <= day <= LATEST else None
