"""Lenient parsing of query and form parameters: a malformed value reads as absent, never as an error page."""

from __future__ import annotations

import datetime as dt


def int_param(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def date_param(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None
