"""What each module declares about itself, in one place per module (issue 19).

Every app has a ``rules.py`` that builds one :class:`ModuleRules` and registers it from its plug-in
(``register``): its section of the handbook policy as a typed schema (code reads
``policy.desk.idle_flag_minutes``, never a string key; the policy editor's fields and tables are
generated from the schema), its capabilities with the positions that hold them by default, its rule
ids with their one-line texts, and its event verbs as an enum with the sentence each reads as.

Adding a policy number, a capability or a rule text is one line in the module's ``rules.py``.
Core knows no app: the registry is plain data.

Policy values are validated here by pydantic models built from the field types below. Each type
raises the department's own message (translated), so a refused version names each field with a
sentence, e.g. ``desk.idle_flag_minutes: must be a whole number from 0 to 1440 (got -1)``.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, ClassVar

from django.db import models
from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationError

from kefu.policies import handbook
from kefu.policies.money import MONEY_MAX

from . import wording

log = logging.getLogger(__name__)

GENERIC_MAX = 100_000  # a count of days, hours or minutes beyond this makes no sense for the department
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


# --- declarations -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Capability:
    """Who may do something: the positions that hold it by default, and what it allows."""

    positions: frozenset[str]
    description: Any = ""


class Verbs(models.TextChoices):
    """A module's event verbs: ``CASE_OPENED = "case.opened", _("opened the case")``."""


@dataclass(frozen=True)
class ModuleRules:
    module: str
    order: int = 100
    policy: Mapping[str, type[Section]] = field(default_factory=dict)  # policy section → schema
    capabilities: Mapping[str, Capability] = field(default_factory=dict)
    rules: Mapping[str, Any] = field(default_factory=dict)  # rule id → its text
    verbs: type[models.TextChoices] | None = None


@dataclass
class _Registry:
    modules: dict[str, ModuleRules] = field(default_factory=dict)
    sections: dict[str, type[Section]] = field(default_factory=dict)
    capabilities: dict[str, Capability] = field(default_factory=dict)
    rules: dict[str, Any] = field(default_factory=dict)
    verbs: dict[str, Any] = field(default_factory=dict)
    owner: dict[str, str] = field(default_factory=dict)  # "capability:x" / "rule:R-…" / "section:x" → module


REGISTRY = _Registry()


def register(declared: ModuleRules) -> None:
    """Take a module's declarations. A name two modules declare is a programming error."""
    if declared.module in REGISTRY.modules:
        return
    REGISTRY.modules[declared.module] = declared
    for kind, source, target in (
        ("section", declared.policy, REGISTRY.sections),
        ("capability", declared.capabilities, REGISTRY.capabilities),
        ("rule", declared.rules, REGISTRY.rules),
        ("verb", _verbs_of(declared), REGISTRY.verbs),
    ):
        for key, value in source.items():
            owner = REGISTRY.owner.get(f"{kind}:{key}")
            if owner is not None and owner != declared.module:
                raise ValueError(f"{kind} {key!r} is declared by both {owner} and {declared.module}")
            REGISTRY.owner[f"{kind}:{key}"] = declared.module
            target[key] = value  # type: ignore[assignment]
    wording.register(verbs=_verbs_of(declared), rules=declared.rules)


def _verbs_of(declared: ModuleRules) -> dict[str, Any]:
    return {v.value: v.label for v in declared.verbs} if declared.verbs else {}


def capability(name: str) -> Capability:
    found = REGISTRY.capabilities.get(name)
    if found is None:
        raise KeyError(f"unknown capability {name!r}")
    return found


def capabilities() -> dict[str, Capability]:
    return dict(REGISTRY.capabilities)


def rule_texts() -> dict[str, Any]:
    return dict(REGISTRY.rules)


def verbs() -> dict[str, Any]:
    return dict(REGISTRY.verbs)


def verb_declared(verb: str) -> bool:
    """Declared by a module, or one of the patterns every workflow records ("*.status_changed")."""
    if verb in REGISTRY.verbs:
        return True
    return any(key.startswith("*.") and verb.endswith(key[1:]) for key in REGISTRY.verbs)


def sections() -> list[tuple[str, type[Section]]]:
    """Every policy section with its schema, in the modules' order."""
    out = []
    for declared in sorted(REGISTRY.modules.values(), key=lambda m: m.order):
        out += list(declared.policy.items())
    return out


def section_schema(name: str) -> type[Section] | None:
    return REGISTRY.sections.get(name)


# --- field types ---------------------------------------------------------------------------------


def _shown(value: Any) -> str:
    """A value as the supervisor typed it, for an error message: a list as "a、b", at most 40 characters."""
    text = "、".join(_shown(v) for v in value) if isinstance(value, list | tuple) else str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _refuse(message: str, value: Any) -> ValueError:
    return ValueError(f"{message} " + _("(got %(value)s)") % {"value": _shown(value)})


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def whole(low: int = 0, high: int = GENERIC_MAX) -> Any:
    """A whole number from ``low`` to ``high``: ``Annotated[int, whole(1, 6)]``."""

    def check(value: Any) -> int:
        if not (_is_int(value) and low <= value <= high):
            if low == 0:
                raise _refuse(_("must be a whole number from 0 to %(max)s") % {"max": high}, value)
            raise _refuse(_("must be a whole number from %(min)s to %(max)s") % {"min": low, "max": high}, value)
        return int(value)

    return PlainValidator(check)


def _signed(value: Any) -> int:
    if not _is_int(value) or abs(value) > GENERIC_MAX:
        raise _refuse(_("must be a whole number"), value)
    return int(value)


def plain_decimal(value: Any) -> Decimal | None:
    """A number as a handbook writes it (a string or an integer like "10.00" or 3), or None."""
    if isinstance(value, bool | float) or not isinstance(value, str | int):
        return None
    text = str(value).strip()
    if not _PLAIN_NUMBER.fullmatch(text):
        return None  # "2E+2", "1e9", "NaN": not how a handbook writes a number
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def _money(value: Any) -> Decimal:
    number = plain_decimal(value) if isinstance(value, str) else None
    if number is None or not 0 <= number <= MONEY_MAX or number != number.quantize(Decimal("0.01")):
        raise _refuse(_('must be an amount like "10.00"'), value)
    return number


def _amount(value: Any) -> Decimal:
    number = plain_decimal(value)
    if number is None or not 0 <= number <= MONEY_MAX:
        raise _refuse(_("must be a number ≥ 0 written as a string"), value)
    return number


def _percent(value: Any) -> Decimal:
    number = plain_decimal(value)
    if number is None or not 0 <= number <= 100:
        raise _refuse(_("must be a percentage 0–100"), value)
    return number


def _clock(value: Any) -> str:
    if not (isinstance(value, str) and _CLOCK.match(value)):
        raise _refuse(_("must be HH:MM"), value)
    return value


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _refuse(_("must be true or false"), value)
    return value


def text(limit: int = 200) -> Any:
    """Non-empty text of at most ``limit`` characters: ``Annotated[str, text(20)]``."""

    def check(value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ValueError(_("missing"))
        if len(value) > limit:
            raise ValueError(_("at most %(max)s characters") % {"max": limit})
        return value

    return PlainValidator(check)


def words(limit: int = 40) -> Any:
    """A list of words (places, keywords), each 1 to ``limit`` characters: ``Annotated[tuple[str, ...], words()]``."""

    def check(value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or len(value) > 1000:
            raise ValueError(_("must be a list"))
        if not all(isinstance(w, str) and 0 < len(w.strip()) <= limit for w in value):
            raise ValueError(_("a list of words of 1 to %(max)s characters") % {"max": limit})
        return tuple(value)

    return PlainValidator(check)


def _dates(value: Any) -> tuple[dt.date, ...]:
    message = _("must be a list of distinct dates like 2026-10-01")
    if not isinstance(value, list) or len(value) > 400 or len(set(map(str, value))) != len(value):
        raise _refuse(message, value)
    try:
        days = tuple(dt.date.fromisoformat(d) for d in value if isinstance(d, str))
    except ValueError:
        raise _refuse(message, value) from None
    if len(days) != len(value) or any(d.isoformat() != s for d, s in zip(days, value, strict=True)):
        raise _refuse(message, value)
    return days


def _window(value: Any) -> tuple[str, str]:
    """Two clock times, [from, to]; "24:00" may end a window that runs to midnight."""
    if not (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(t, str) for t in value)
        and _CLOCK.match(value[0])
        and (_CLOCK.match(value[1]) or value[1] == "24:00")
    ):
        raise _refuse(_("must be two times of day, like 08:00、24:00"), value)
    return (value[0], value[1])


Whole = Annotated[int, whole()]
Name = Annotated[str, text(40)]
Words = Annotated[tuple[str, ...], words()]
Signed = Annotated[int, PlainValidator(_signed)]
Money = Annotated[Decimal, PlainValidator(_money)]
Amount = Annotated[Decimal, PlainValidator(_amount)]
Percent = Annotated[Decimal, PlainValidator(_percent)]
Clock = Annotated[str, PlainValidator(_clock)]
Flag = Annotated[bool, PlainValidator(_flag)]
Dates = Annotated[tuple[dt.date, ...], PlainValidator(_dates)]
Window = Annotated[tuple[str, str], PlainValidator(_window)]


def setting(label: Any = "", *, rule: str = "", editable: bool = True, default: Any = ..., **extra: Any) -> Any:
    """A policy value with what the editor shows beside it: its label and the rule it comes from.
    ``editable=False`` keeps it out of the form (it is edited in the TOML text)."""
    return Field(default, json_schema_extra={"label": label, "rule": rule, "editable": editable, **extra})


def table(
    label: Any = "", *, rule: str = "", key: str = "", numbered: str = "", editable: bool = True, min_rows: int = 1
) -> Any:
    """A list of rows (each a :class:`Row`). ``key`` names the column that identifies a row (unique;
    columns the form does not show are kept by it); ``numbered`` a column the form numbers itself."""
    return Field(
        ...,
        min_length=min_rows,
        max_length=1000,
        json_schema_extra={
            "label": label,
            "rule": rule,
            "editable": editable,
            "table": True,
            "key": key,
            "numbered": numbered,
        },
    )


class Row(BaseModel):
    """One row of a policy table."""

    model_config = ConfigDict(extra="allow", frozen=True)


class CodeLabel(Row):
    """A catalogue row: a stable code and the label people read (fault causes, complaint reasons)."""

    code: Name
    label: Name


class Section(BaseModel):
    """One section of the handbook policy (``[desk]``)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    title: ClassVar[Any] = ""

    def cross_checks(self) -> Iterable[tuple[str, str]]:
        """Problems between values, as (path inside the section, message)."""
        return ()


def unique(rows: Iterable[Any], column: str, where: str) -> list[tuple[str, str]]:
    """Rows whose ``column`` repeats an earlier row's, as problems."""
    seen: set[Any] = set()
    out = []
    for i, row in enumerate(rows, start=1):
        value = getattr(row, column)
        if value in seen:
            out.append((f"{where}[{i}].{column}", _("duplicate %(value)s") % {"value": value}))
        seen.add(value)
    return out


# --- validation and typed reading ----------------------------------------------------------------

_BUILT_IN: dict[str, Callable[[], str]] = {
    "missing": lambda: _("missing"),
    "model_type": lambda: _("not a table"),
    "model_attributes_type": lambda: _("not a table"),
    "dict_type": lambda: _("not a table"),
    "list_type": lambda: _("must be a list"),
    "tuple_type": lambda: _("must be a list"),
    "too_short": lambda: _("needs at least one row"),
    "too_long": lambda: _("too many rows"),
    "string_type": lambda: _("must be text"),
}


def _path(section: str, loc: tuple[Any, ...]) -> str:
    out = section
    for part in loc:
        out += f"[{part + 1}]" if isinstance(part, int) else f".{part}"
    return out


def _message(error: Mapping[str, Any]) -> str:
    if error["type"] == "value_error" and "error" in error.get("ctx", {}):
        return str(error["ctx"]["error"])
    made = _BUILT_IN.get(error["type"])
    return made() if made else _("is not valid")


def section_problems(name: str, value: Any) -> list[str]:
    """Every problem with one section's values, each "path: message"."""
    schema = REGISTRY.sections[name]
    value = {} if value is None else value
    try:
        parsed = schema.model_validate(value)
    except ValidationError as exc:
        problems = [f"{_path(name, tuple(e['loc']))}: {_message(e)}" for e in exc.errors()]
        if not isinstance(value, dict):
            return problems
        # The checks between values still run on the fields that are right: the wrong ones take the
        # preset's values for the check, and what the check says of them is left out.
        bad, mended = _with_preset(name, value, exc)
        try:
            parsed = schema.model_validate(mended)
        except ValidationError:
            return problems
        return problems + [
            f"{name}.{where}: {message}"
            for where, message in parsed.cross_checks()
            if re.split(r"[.\[]", where)[0] not in bad
        ]
    return [f"{name}.{where}: {message}" for where, message in parsed.cross_checks()]


def policy_problems(document: Any) -> list[str]:
    """Every problem with a policy document, section by section; empty when it can be saved."""
    if not isinstance(document, dict):
        return ["document: " + _("not a table")]
    problems: list[str] = []
    for name, _schema in sections():
        problems += section_problems(name, document.get(name))
    return problems


def typed_section(name: str, value: Any) -> Section:
    """A section of a saved policy as its typed schema. A version saved before a rule grew stricter
    (a 21-character shift name) still reads: a value the schema refuses takes the preset's, with a
    warning in the log, so no page breaks over it; saving a new version asks for it to be put right."""
    schema = REGISTRY.sections.get(name)
    if schema is None:
        raise AttributeError(name)
    try:
        return schema.model_validate(value)
    except ValidationError as exc:
        bad, mended = _with_preset(name, value if isinstance(value, dict) else {}, exc)
        log.warning("policy section %s: %s refused by the schema, read from the preset", name, sorted(map(str, bad)))
        try:
            return schema.model_validate(mended)
        except ValidationError:
            return schema.model_validate(handbook.load_preset().get(name, {}))


def _with_preset(name: str, value: dict[str, Any], exc: ValidationError) -> tuple[set[str], dict[str, Any]]:
    """The section's fields the schema refused, and the section with the preset's values in their place."""
    bad = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
    preset = handbook.load_preset().get(name, {})
    return bad, {**value, **{k: preset[k] for k in bad if k in preset}}


def field_meta(schema: type[BaseModel], name: str) -> dict[str, Any]:
    extra = schema.model_fields[name].json_schema_extra
    return dict(extra) if isinstance(extra, dict) else {}
