"""Words in templates: ``{{ code|label }}``, ``{{ "R-WF-4"|rule }}`` (a small tag with the rule's
text on hover), ``{{ key|field_label }}``."""

from __future__ import annotations

from typing import Any

from django import template
from django.template import engines
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from kefu.core import wording

register = template.Library()


@register.filter
def label(code: Any) -> Any:
    return wording.label(code)


@register.filter
def field_label(key: str) -> Any:
    return wording.field(key)


@register.filter
def rule(rule_id: Any) -> SafeString:
    """Each rule id a small tag; its one-line text shows on hover and to screen readers."""
    ids = [part.strip() for part in str(rule_id or "").replace("、", ",").split(",") if part.strip()]
    return SafeString(
        " ".join(
            format_html(
                '<abbr class="rule" title="{}" tabindex="0">{}</abbr>',
                wording.rule(i) or i,
                "§" + i[5:] if i.startswith("SPEC-") else i,  # a section of our reading, not a handbook rule id
            )
            for i in ids
        )
    )


@register.filter
def person(user: Any) -> str:
    """A user as people know them: the staff name, else the username ("" for none)."""
    if user is None:
        return ""
    return wording.names_of([user.pk]).get(user.pk) or user.get_username()


@register.filter
def percent(value: Any) -> str:
    return wording.percent(value)


@register.filter
def cny(value: Any) -> str:
    """An amount as people read it: ``¥1,234.50``, a negative one ``−¥4.00`` (never ``¥-4.00``)."""
    from decimal import Decimal, InvalidOperation

    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    sign = "−" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"


@register.filter
def days(value: Any) -> str:
    """A count of days as a phrase: "1 day", "3 days" (Chinese "1 天")."""
    from decimal import Decimal, InvalidOperation

    from kefu.policies.i18n import days as phrase

    try:
        return phrase(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return str(value)


@register.filter
def duration(seconds: Any) -> str:
    """Seconds as people read a wait: "45 s", "5 min 27 s", "34 h 31 min" (Chinese "5 分 27 秒")."""
    from decimal import Decimal, InvalidOperation

    from django.utils.translation import gettext as _

    if seconds is None or seconds == "":
        return "—"
    try:
        total = int(Decimal(str(seconds)).to_integral_value())
    except (InvalidOperation, ValueError):
        return str(seconds)
    hours, rest = divmod(max(0, total), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return _("%(h)s h %(m)s min") % {"h": hours, "m": minutes}
    if minutes:
        return _("%(m)s min %(s)s s") % {"m": minutes, "s": secs}
    return _("%(s)s s") % {"s": secs}


@register.filter
def minutes_duration(minutes: Any) -> str:
    """Minutes as a readable duration (``duration`` of minutes × 60)."""
    from decimal import Decimal, InvalidOperation

    if minutes is None or minutes == "":
        return "—"
    try:
        return duration(Decimal(str(minutes)) * 60)
    except (InvalidOperation, ValueError):
        return str(minutes)


@register.simple_tag(takes_context=True)
def rows(context: template.Context, name: str) -> SafeString:
    """The rows of a hot list: the Jinja2 template ``name`` (``<app>/jinja2/``, ADR 0023) rendered
    with this template's context. It escapes what it shows, so its output is safe here."""
    env = engines["jinja2"].env  # type: ignore[attr-defined]
    values: dict[Any, Any] = context.flatten()  # type: ignore[assignment]
    values["local_zone"] = timezone.get_current_timezone()
    return SafeString(env.get_template(name).render(values))
