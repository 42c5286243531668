"""Translation for the pure modules (policies, file readers) without importing Django.

Messages are written in English and marked with ``_()`` so that ``makemessages`` collects them;
at run time ``_`` asks the translator the web process installed (Django's gettext, in the
request's language; ``kefu.core`` installs it when it starts). Outside Django — a unit test of a
pure rule — messages stay in English.
"""

from __future__ import annotations

from collections.abc import Callable

_translate: Callable[[str], str] = str


def install(translate: Callable[[str], str]) -> None:
    global _translate
    _translate = translate


def _(message: str) -> str:
    return _translate(message)


def gettext_noop(message: str) -> str:
    """Mark a message in a table built at import time; it is translated where it is shown."""
    return message


def days(value: object) -> str:
    """A count of days as a phrase, singular only for exactly one ("1 day", "0.5 days", "3 days");
    Chinese has one form ("1 天"). ``value`` is an int or a Decimal; a Decimal is shown without
    trailing zeros."""
    text = format(value.normalize(), "f") if hasattr(value, "normalize") else str(value)
    if text == "1":
        return _("%(n)s day") % {"n": text}
    return _("%(n)s days") % {"n": text}
