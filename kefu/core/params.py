"""Parsing of query, form and JSON parameters with one set of bounds.

A date or time anyone means lies in 2000–2100 (``clock.EARLIEST_YEAR``/``LATEST_YEAR``): year 1 or
9999 is malformed input, and letting it through overflows day arithmetic (``date + 1 day``) or
becomes a timestamp the database stores but cannot read back. Query parameters are lenient (a
malformed value reads as absent); form fields and API fields refuse with a message (400).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Annotated, Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from pydantic import AfterValidator, Field

from kefu.policies import money

from . import clock
from .clock import EARLIEST_YEAR, LATEST_YEAR, offset_ok
from .errors import ApplicationError

# JSON batches whose items are validated one by one (a bad item is reported by its index, the rest
# kept): a NUL or an unstorable character there is that item's problem, not the whole request's.
PER_ITEM_PATHS = ("/api/v1/desk/messages", "/api/v1/desk/webhook/", "/desk/widget/")


def utf8_storable(value: str) -> bool:
    """False for text no database can store: a lone UTF-16 surrogate ("\\ud800" is valid JSON)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


INT_LIMIT = 2**63 - 1  # what a database id or integer column holds
EARLIEST, LATEST = dt.date(EARLIEST_YEAR, 1, 1), dt.date(LATEST_YEAR, 12, 31)


def int_param(value: str | None) -> int | None:
    """An integer query/form parameter, or None when absent, malformed or beyond a 64-bit id."""
    try:
        number = int(value) if value else None
    except (ValueError, TypeError):
        return None
    return number if number is not None and -INT_LIMIT <= number <= INT_LIMIT else None


def json_loads(data: bytes | str) -> Any:
    """``json.loads`` that answers ``ValueError`` for anything it cannot read — deep nesting too:
    the standard parser raises ``RecursionError`` past about a thousand levels ("[" * 5000)."""
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError(gettext("The JSON is nested too deeply.")) from None


def amount_param(value: str | None) -> Decimal:
    """A money amount typed into a form (``kefu.policies.money.parse``: full-width digits, a ¥ and
    commas grouping thousands are read as meant); refused otherwise (a 400 with its message, shown
    on the page), never rounded quietly."""
    amount = money.parse(value)
    if amount is None:
        raise ApplicationError("money_amount", gettext("Enter an amount with at most two decimals, like 12.50."))
    return amount


def date_param(value: str | None) -> dt.date | None:
    """A date parameter, or None when absent, malformed or outside 2000–2100 (day arithmetic safe)."""
    try:
        day = dt.date.fromisoformat(value[:10]) if value else None
    except (ValueError, TypeError):
        return None
    return day if day is not None and EARLIEST <= day <= LATEST else None


def id_query(value: str | None) -> int | None:
    """An id in a page's query string: None when absent; a clear 400 when given but not an id (a
    mistyped ``team=abc`` must not silently show every team)."""
    if value is None or not value.strip():
        return None
    number = int_param(value)
    if number is None or number <= 0:
        from django.utils.translation import gettext as _

        from .errors import ApplicationError

        raise ApplicationError("validation_error", _("“%(value)s” is not a valid id.") % {"value": value[:20]})
    return number


def choice_query(value: str | None, choices: tuple[str, ...], default: str) -> str:
    """One of ``choices`` from a page's query string (absent → ``default``); anything else is a 400."""
    if value is None or value == "":
        return default
    if value not in choices:
        from django.utils.translation import gettext as _

        from .errors import ApplicationError

        raise ApplicationError(
            "validation_error",
            _("“%(value)s” is not one of: %(choices)s.") % {"value": value[:20], "choices": ", ".join(choices)},
        )
    return value


def day_query(value: str | None) -> dt.date | None:
    """A date in a page's query string: None when absent; a clear 400 when given but not a date of
    2000–2100 (a mistyped link must not silently show another day)."""
    if value is None or not value.strip():
        return None
    day = date_param(value.strip()) if len(value.strip()) == 10 else None
    if day is None:
        from django.utils.translation import gettext as _

        from .errors import ApplicationError

        raise ApplicationError(
            "validation_error", _("“%(value)s” is not a date; write it as 2026-11-29.") % {"value": value[:20]}
        )
    return day


def in_range(value: Any) -> bool:
    """Whether a date or datetime lies in the years anyone means (2000–2100)."""
    return bool(EARLIEST_YEAR <= value.year <= LATEST_YEAR)


# --- form fields -------------------------------------------------------------------------------

_OUT_OF_RANGE = _("Enter a date between %(earliest)s and %(latest)s.")


class DayField(forms.DateField):
    """A calendar date in 2000–2100 (an ``<input type=date>``); outside is a form error."""

    widget = forms.DateInput(attrs={"type": "date", "min": EARLIEST.isoformat(), "max": LATEST.isoformat()})

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value is not None and not in_range(value):
            raise forms.ValidationError(
                _OUT_OF_RANGE, code="out_of_range", params={"earliest": EARLIEST, "latest": LATEST}
            )


class MomentField(forms.DateTimeField):
    """A local date and time in 2000–2100 (an ``<input type=datetime-local>``)."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"})

    def to_python(self, value: Any) -> dt.datetime | None:
        try:
            return super().to_python(value)
        except OverflowError:  # year 9999 plus the local offset
            raise forms.ValidationError(
                _OUT_OF_RANGE, code="out_of_range", params={"earliest": EARLIEST, "latest": LATEST}
            ) from None

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value is not None and (not in_range(value) or not offset_ok(value)):
            raise forms.ValidationError(
                _OUT_OF_RANGE, code="out_of_range", params={"earliest": EARLIEST, "latest": LATEST}
            )


# --- API (pydantic) types ----------------------------------------------------------------------


def _bounded(value: Any) -> Any:
    if not in_range(value):
        raise ValueError(f"must lie between {EARLIEST} and {LATEST}")
    if not offset_ok(value):
        raise ValueError("the UTC offset is not one in use (at most ±14:00)")
    return value


Day = Annotated[dt.date, AfterValidator(_bounded)]
"""A date in an API parameter or body, 2000–2100 (outside is a 400)."""


def _with_offset(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        raise ValueError("give the time with its UTC offset, e.g. 2026-12-07T10:00:00+08:00")
    return _bounded(value)


Moment = Annotated[dt.datetime, AfterValidator(_with_offset)]
"""A time in an API body, 2000–2100, ISO 8601 with offset."""

Count = Annotated[int, Field(ge=0, le=2_000_000_000)]
"""A non-negative count that fits an integer column."""

Limit = Annotated[int, Field(ge=1, le=200)]
"""How many items an API list page holds: 1–200 (anything else is a 400, never quietly changed)."""


def parse_moment(text: str, *, require_offset: bool = False) -> dt.datetime:
    """An ISO 8601 time from a message body, inside 2000–2100 with a real UTC offset (ValueError
    with a short reason otherwise). ``require_offset``: a time without its offset is refused; else
    it is read as local time."""
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except (ValueError, OverflowError):
        raise ValueError(gettext("not an ISO 8601 time")) from None
    if value.tzinfo is None:
        if require_offset:
            raise ValueError(gettext("the time needs its UTC offset (+08:00)"))
        value = clock.make_aware(value)
    if not in_range(value) or not offset_ok(value):
        raise ValueError(
            gettext("must lie between %(earliest)s and %(latest)s, with an offset of at most ±14:00")
            % {"earliest": EARLIEST, "latest": LATEST}
        )
    return value
