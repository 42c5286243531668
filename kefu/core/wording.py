"""How records and events read to people: labels for codes, sentences for timeline verbs, labels
for changed fields, and the handbook rule behind each rule id (shown on hover).

Apps register their words from their AppConfig (``register``); templates use the ``kefu`` tag
library (``{{ code|label }}``, ``{{ id|rule }}``, ``{% timeline_entry e %}``). Nothing here is
stored: events keep stable codes, people read labels.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import get_language, gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

LABELS: dict[str, Any] = {}  # any code → label ("orders" → "订单", "taobao_order_details" → …)
FIELDS: dict[str, Any] = {}  # a changed field's key → its label
VERBS: dict[str, Any] = {}  # "case.opened" → "opened the case"; "*.status_changed" matches any prefix
RULES: dict[str, Any] = {}  # "R-WF-4" → the rule in one line
_NAMES: list[Callable[[Iterable[int]], dict[int, str]]] = []  # user ids → people's names


def register(
    *,
    labels: Mapping[str, Any] | None = None,
    fields: Mapping[str, Any] | None = None,
    verbs: Mapping[str, Any] | None = None,
    rules: Mapping[str, Any] | None = None,
) -> None:
    for target, source in ((LABELS, labels), (FIELDS, fields), (VERBS, verbs), (RULES, rules)):
        for key, value in (source or {}).items():
            target.setdefault(key, value)


def register_models(*models: Any) -> None:
    """Field labels (verbose names) and choice labels of models, so their events read in words."""
    for model in models:
        for f in model._meta.get_fields():
            # a label the model declares (a translatable string), not the name Django derives ("created at")
            if isinstance(getattr(f, "verbose_name", None), Promise) and not getattr(f, "auto_created", False):
                FIELDS.setdefault(f.name, f.verbose_name)
                if f.name.endswith("_id") is False and getattr(f, "attname", "").endswith("_id"):
                    FIELDS.setdefault(f.attname, f.verbose_name)
            for value, text in getattr(f, "choices", None) or ():
                LABELS.setdefault(str(value), text)
                # the field's own reading wins over another model's same code ("paid": a repair's
                # charge, not an order's status)
                LABELS.setdefault(f"{f.name}:{value}", text)


def register_choices(*choices: Any) -> None:
    for enum in choices:
        for value, text in enum.choices:
            LABELS.setdefault(str(value), text)


def choice_labels(choices: Any) -> Mapping[Any, str]:
    """Each code of a ``Choices`` enum → its label in the current language, made once per enum and
    language for the process (read-only): a list's rows and a page's fields look codes up in it
    instead of translating a lazy label again for each (Django's ``get_FOO_display`` translates every
    label of the field on every call)."""
    return _choice_labels(choices, get_language() or "")


@functools.lru_cache(maxsize=512)
def _choice_labels(choices: Any, _language: str) -> Mapping[Any, str]:
    return MappingProxyType({code: str(text) for code, text in choices.choices})


def register_names(resolver: Callable[[Iterable[int]], dict[int, str]]) -> None:
    """The org app tells how a user id reads as a person's name (the staff name)."""
    if resolver not in _NAMES:
        _NAMES.append(resolver)


def names_of(user_ids: Iterable[int]) -> dict[int, str]:
    ids = {i for i in user_ids if i is not None}
    found: dict[int, str] = {}
    for resolver in _NAMES:
        if ids:
            found.update(resolver(ids))
    return found


# Who acted when no person did: the server's own parts read as what they are, never as a code.
_SYSTEM_ACTORS = {
    "": _("System"),
    "system": _("System"),
    "worker": _("System"),
    "imports": _("System (import)"),
    "org": _("System"),
    "workforce": _("System"),
    "desk": _("System"),
    "demo": _("Demo data"),
    "cli": _("Command line"),
    "api-token": _("API token"),
}


def system_actor(actor_label: str | None) -> Any:
    """The name of a non-person actor: the system, the command line, a chat source ("webhook:qianniu"
    → 聊天来源 qianniu), the web chat; any other label is a name someone typed (a failed sign-in)."""
    text = actor_label or ""
    if text in _SYSTEM_ACTORS:
        return _SYSTEM_ACTORS[text]
    kind, sep, code = text.partition(":")
    if sep and kind == "webhook":
        return gettext("chat source %(code)s") % {"code": code}
    if sep and kind == "widget":
        return gettext("web chat %(code)s") % {"code": code}
    if sep and kind == "connector":
        return gettext("connector %(code)s") % {"code": code}
    return text


def label(code: Any) -> Any:
    """The label of a code, or the value itself when it is not a code (a name, a number)."""
    if code is None or code == "":
        return "—"
    if isinstance(code, bool):
        return gettext("Yes") if code else gettext("No")
    return LABELS.get(str(code), code)


def verb(code: str) -> Any:
    if code in VERBS:
        return VERBS[code]
    suffix = "*." + code.split(".", 1)[-1]
    if suffix in VERBS:
        return VERBS[suffix]
    return gettext("made a change")


def field(key: str) -> Any:
    """A changed field's label; a part of a list reads by its number ("lines.2.price" → 订单明细 2 · 单价)."""
    from django.utils.text import capfirst

    head, dot, rest = key.partition(".")
    if dot and head in FIELDS:
        number, _dot, sub = rest.partition(".")
        return f"{capfirst(FIELDS[head])} {number}" + (f" · {field(sub)}" if sub else "")
    return capfirst(FIELDS.get(key) or LABELS.get(key) or key.replace("_", " "))


def rule(rule_id: str) -> Any:
    return RULES.get(rule_id, "")


def value_text(value: Any, key: str = "") -> str:
    """A stored before/after value as people read it: labels for codes (the field's own labels
    first), local times, lists and nested facts as "label: value" pairs."""
    if isinstance(value, Mapping):
        return "; ".join(f"{field(str(k))}: {value_text(v, str(k))}" for k, v in value.items() if v not in (None, ""))
    if isinstance(value, list | tuple):
        return "、".join(value_text(v, key) for v in value)
    for own in (key, key.partition(".")[0]):  # "lines.2" reads as a part of "lines"
        if own and isinstance(value, str) and f"{own}:{value}" in LABELS:
            return str(LABELS[f"{own}:{value}"])
    if key in VALUE_READERS and isinstance(value, str):
        return str(VALUE_READERS[key](value) or value)
    if isinstance(value, str) and len(value) >= 19 and value[4:5] == "-" and value[10:11] == "T":
        try:
            from . import clock

            moment = dt.datetime.fromisoformat(value)
            if moment.tzinfo is not None:
                return clock.local_text(moment)
        except ValueError:
            pass
    if isinstance(value, bool):
        return str(label(value))
    if isinstance(value, int | float) or (isinstance(value, str) and not any(c.isalpha() for c in value)):
        return str(value)  # an id, an amount or a count: never looked up as a code
    return str(label(value))


def unlabelled(*parts: Mapping[str, Any] | None) -> list[str]:
    """The keys of an event's before/after (nested facts included) that a history would show as
    they are written, with no label: the test settings refuse them (issue 19 §6)."""
    missing = []
    for part in parts:
        for key, value in (part or {}).items():
            head = str(key).partition(".")[0]
            if not str(key).isascii():
                continue  # a person's own word (a product parameter's name), shown as they wrote it
            if key not in HIDDEN_FIELDS and key not in FIELDS and key not in LABELS and head not in FIELDS:
                missing.append(str(key))
            if isinstance(value, Mapping) and key not in FREE_FORM:
                missing += unlabelled(value)
    return missing


# kept on the event for the audit, not shown in a history: a 64-digit fingerprint, a money line's or
# a points entry's id (the event shows its amount, kind or item beside it)
HIDDEN_FIELDS = {"sha256", "line", "entry"}
# fields whose value is a mapping of a person's own words (a product's parameters): shown as written
FREE_FORM = {"parameters"}
# a field whose stored value is a code of the policy or of another module: (field → reader)
VALUE_READERS: dict[str, Callable[[str], Any]] = {}


def register_value_reader(key: str, reader: Callable[[str], Any]) -> None:
    """How a stored code of a field reads (a point item's code → its name in the policy)."""
    VALUE_READERS.setdefault(key, reader)


def changes(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[tuple[Any, str, str]]:
    """(field label, before, after) for each key of an event, values as people read them."""
    before = before or {}
    after = after or {}
    keys = [k for k in list(after) + [k for k in before if k not in after] if k not in HIDDEN_FIELDS]
    # a value that did not change is not a change ("队列 售前 → 售前" when only the owner moved)
    keys = [k for k in keys if not (k in before and k in after and before[k] == after[k])]
    return [
        (field(k), value_text(before[k], k) if k in before else "", value_text(after[k], k) if k in after else "")
        for k in keys
    ]


# --- words every module shares -------------------------------------------------------------------

register(
    fields={
        "status": _("Status"),
        "category": pgettext_lazy("status", "Category"),
        "owner": _("Owner"),
        "step": _("Step"),
        "note": _("Note"),
        "name": _("Name"),
        "kind": _("Kind"),
        "size": _("Size (bytes)"),
        "sha256": _("Fingerprint"),
        "prefix": _("Token prefix"),
        "days": pgettext_lazy("count", "Days"),
        "due": _("Due on"),
        "position": _("Position"),
        "platform_deadline": _("Platform deadline"),
        "sla_due_at": _("SLA due"),
        "escalated_at": _("Escalated at"),
        "breached": _("Deadline missed"),
    },
)


def percent(value: Any) -> str:
    """A rate as the KPIs give it ("0.5769") shown as people read it ("57.7%"); "—" when none."""
    from decimal import Decimal, InvalidOperation

    if value in (None, ""):
        return "—"
    try:
        return f"{Decimal(str(value)) * 100:.1f}%"
    except InvalidOperation:
        return "—"
