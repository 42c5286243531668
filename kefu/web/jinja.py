"""Jinja2 for the rows of the hot lists (ADR 0023).

The page around a list stays a Django template; only its rows — fifty times the same few cells —
are a Jinja2 template, compiled to Python once, rendered from plain rows (``values()``) with labels
looked up in dicts. A Django template includes them with ``{% rows "app/x_rows.html" %}``
(``kefu.web.templatetags.kefu``). Autoescaping is on; ``{{ _("…") }}`` is Django's gettext, so
``make messages`` finds the words as it finds them in Django templates.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext, ngettext
from jinja2 import Environment


def local(moment: dt.datetime | None, fmt: str = "%m-%d %H:%M") -> str:
    """A stored time in the actor's time zone (Asia/Shanghai), "" for none."""
    if moment is None:
        return ""
    return timezone.localtime(moment).strftime(fmt)


def environment(**options: Any) -> Environment:
    options["autoescape"] = True  # whatever the settings say: the rows show what customers typed
    env = Environment(**options)  # noqa: S701 - autoescape is set on the line above
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["local"] = local
    return env
