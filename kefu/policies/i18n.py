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
