"""Jinja2 for the rows of the hot lists (ADR 0023) and the case page's body (ADR 0025).

The page around a list stays a Django template; only its rows — fifty times the same few cells —
are a Jinja2 template, compiled to Python once, rendered from plain rows (``values()``) with labels
looked up in dicts. A Django template includes them with ``{% rows "app/x_rows.html" %}``
(``kefu.web.templatetags.kefu``). Autoescaping is on; ``{{ _("…") }}`` is Django's gettext, so
``make messages`` finds the words as it finds them in Django templates.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django import forms
from django.template.defaultfilters import date as django_date
from django.template.defaultfilters import filesizeformat, floatformat
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext, ngettext
from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from kefu.core import wording
from kefu.web.templatetags.kefu import cny, rule


@pass_context
def local(context: Context, moment: dt.datetime | None, fmt: str = "%m-%d %H:%M") -> str:
    """A stored time in the request's time zone (Asia/Shanghai), "" for none. The zone comes with
    the context (``{% rows %}`` puts it there once: asking Django for it was a third of a cell)."""
    if moment is None:
        return ""
    zone = context.get("local_zone") or timezone.get_current_timezone()
    return moment.astimezone(zone).strftime(fmt)


def filter_fields(form: forms.Form) -> list[dict[str, Any]]:
    """A GET filter form's fields as plain values for ``web/filter_fields.html``: the same inputs
    Django's widgets write (name, type, value, the widget's attributes, choices with the chosen one
    marked), without a widget template per field (eight of them were a quarter of the order list).
    Text, date and number inputs, single selects of flat choices and checkboxes only: any other
    widget is refused here rather than written wrong."""
    fields = []
    for bound in form:
        widget = bound.field.widget
        if isinstance(widget, forms.SelectMultiple | forms.RadioSelect | forms.NullBooleanSelect) or (
            isinstance(widget, forms.Select) and not isinstance(bound.field, forms.ChoiceField)
        ):
            raise TypeError(f"filter_fields does not write a {type(widget).__name__} ({bound.name})")
        attrs = bound.build_widget_attrs(dict(widget.attrs))
        value = bound.value()
        if bound.auto_id:
            attrs.setdefault("id", bound.auto_id)  # as Django's widgets write it (id_q, id_shop …)
        entry: dict[str, Any] = {"name": bound.html_name, "label": bound.label, "attrs": attrs}
        if isinstance(widget, forms.CheckboxInput):
            entry.update(kind="check", checked=bool(widget.check_test(value)))
        elif isinstance(widget, forms.Select):
            chosen = "" if value is None else str(value)
            options = []
            for code, label in bound.field.choices:  # type: ignore[attr-defined]
                if isinstance(label, list | tuple):
                    raise TypeError(f"filter_fields does not write grouped choices ({bound.name})")
                options.append((str(code), label, str(code) == chosen))
            entry.update(kind="select", options=options)
        else:
            entry.update(kind="input", type=getattr(widget, "input_type", "text"), value=widget.format_value(value))
        fields.append(entry)
    return fields


_PLAIN = (str, int, Decimal, type(None))


def per_language(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` remembered by its arguments and the active language: a filter whose answer depends on
    nothing else (a code's label, a rule's tag, a number's format), asked a thousand times by one
    page for a handful of distinct values."""

    @functools.lru_cache(maxsize=4096, typed=True)
    def remembered(language: str, *args: Any) -> Any:
        return fn(*args)

    @functools.wraps(fn)
    def call(*args: Any) -> Any:
        # only plain values are remembered: True and 1, or a safe string and the same plain text,
        # are equal keys with different answers
        if all(type(a) in _PLAIN for a in args):
            return remembered(get_language() or "", *args)
        return fn(*args)

    return call


# Django's date format letters that are plain numbers, as strftime writes them (no language in them)
_NUMERIC = {"Y": "%Y", "y": "%y", "m": "%m", "d": "%d", "H": "%H", "i": "%M", "s": "%S"}


@functools.lru_cache(maxsize=64)
def _strftime(fmt: str) -> str | None:
    """A Django date format as a strftime one, or None when it names something (a weekday, a month)."""
    out = []
    for ch in fmt:
        if ch.isalpha():
            if ch not in _NUMERIC:
                return None
            out.append(_NUMERIC[ch])
        else:
            out.append(ch.replace("%", "%%"))
    return "".join(out)


@functools.lru_cache(maxsize=4096)
def _named_date(value: dt.date, fmt: str, _language: str) -> str:
    return str(django_date(value, fmt))


def date(value: Any, fmt: str) -> str:
    """Django's ``date`` filter (its format letters, a weekday's name in the request's language), an
    aware time first put in the request's time zone as Django's templates put it; "" for none.
    Numeric formats are written by strftime, and a day's named format is remembered per language
    (a month's statement asks for a hundred of them)."""
    if value in (None, ""):
        return ""
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    plain = _strftime(fmt)
    if plain is not None and isinstance(value, dt.date):
        return value.strftime(plain)
    if type(value) is dt.date:
        return _named_date(value, fmt, get_language() or "")
    return str(django_date(value, fmt))


def url(name: str, *args: Any) -> str:
    """``{% url name arg … %}``: the address of a named route."""
    return reverse(name, args=args)


def _label(code: Any) -> str:
    return str(wording.label(code))


def per_request(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A filter whose answer depends on the request (its language, its time zone). Jinja2 works out a
    filter applied to a literal once, when it compiles the template, unless the filter takes the
    context: ``{{ "R-AS-8"|rule }}`` kept the language of the first page that compiled it (the
    fresh-clone review's find). Taking the context keeps it a call on every render."""

    @pass_context
    @functools.wraps(fn)
    def call(_context: Context, *args: Any) -> Any:
        return fn(*args)

    return call


def environment(**options: Any) -> Environment:
    options["autoescape"] = True  # whatever the settings say: the rows show what customers typed
    env = Environment(**options)  # noqa: S701 - autoescape is set on the line above
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["local"] = local
    env.filters["cny"] = cny
    env.filters["label"] = per_request(per_language(_label))
    env.filters["rule"] = per_request(per_language(rule))
    env.filters["floatformat"] = per_request(per_language(floatformat))
    env.filters["date"] = per_request(date)
    env.filters["filesizeformat"] = per_request(filesizeformat)  # Django's (KB, translated), not Jinja2's (kB)
    env.globals["filter_fields"] = filter_fields
    env.globals["url"] = url
    return env
