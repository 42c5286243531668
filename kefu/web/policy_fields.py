"""The handbook policy as a form: single values as fields and tables as editable rows, generated
from the typed schema each module declares in its ``rules.py`` (labels and rule ids come with the
schema's fields; a value marked ``editable=False`` is edited in the TOML text only)."""

from __future__ import annotations

import copy
import re
import typing
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from kefu.core import rulebook
from kefu.policies import money


def _sections() -> list[tuple[str, type[Any]]]:
    return rulebook.sections()


def _fields(schema: type[Any], *, tables: bool) -> list[tuple[str, dict[str, Any]]]:
    """The schema's editable fields: single values (``tables=False``) or tables of rows."""
    out = []
    for key in schema.model_fields:
        meta = rulebook.field_meta(schema, key)
        if meta.get("editable") and bool(meta.get("table")) == tables:
            out.append((key, meta))
    return out


def _row_schema(schema: type[Any], key: str) -> type[Any]:
    """The row model of a table field (``tuple[Row, ...]``)."""
    return typing.get_args(schema.model_fields[key].annotation)[0]


def _columns(schema: type[Any], key: str) -> list[tuple[str, Any, str]]:
    """A table's editable columns: (name, label, kind)."""
    row = _row_schema(schema, key)
    return [(name, meta["label"], meta.get("kind", "text")) for name, meta in _fields(row, tables=False)]


def _choices(schema: type[Any], key: str) -> dict[str, list[tuple[str, Any]]]:
    """The columns whose cells are one of a list (a platform): their (code, label) pairs."""
    row = _row_schema(schema, key)
    return {name: list(meta["choices"]) for name, meta in _fields(row, tables=False) if meta.get("choices")}


def _errors_by_path(problems: list[str] | None) -> dict[str, str]:
    """Validation problems ("path: message") as {path: first message}, to show beside each field."""
    errors: dict[str, str] = {}
    for problem in problems or []:
        path, _sep, message = str(problem).partition(": ")
        errors.setdefault(path, message)
    return errors


_MISSING = object()


def _value(schema: type[Any], key: str, values: dict[str, Any]) -> Any:
    """The document's value, else the schema's default (a setting added after the version was
    saved, or one the preset does not carry), else nothing to show."""
    if key in values:
        return values[key]
    info = schema.model_fields[key]
    if info.is_required():
        return _MISSING
    default = info.get_default(call_default_factory=True)
    return str(default) if isinstance(default, Decimal) else default


def field_rows(doc: dict[str, Any], problems: list[str] | None = None) -> list[dict[str, Any]]:
    """Sections with their fields, current values and each field's own problem, for the form."""
    errors = _errors_by_path(problems)
    out = []
    for section, schema in _sections():
        values = doc.get(section, {})
        shown = [(key, meta, _value(schema, key, values)) for key, meta in _fields(schema, tables=False)]
        fields = [
            {
                "name": f"{section}.{key}",
                "label": meta["label"],
                "rule": meta["rule"],
                "value": _field_text(value),
                "error": errors.get(f"{section}.{key}", ""),
                "multiline": isinstance(value, list | tuple),
            }
            for key, meta, value in shown
            if value is not _MISSING
        ]
        if fields:
            out.append({"key": section, "title": schema.title, "fields": fields})
    return out


def _field_text(value: Any) -> Any:
    return "\n".join(str(v) for v in value) if isinstance(value, list) else value


def apply_fields(doc: dict[str, Any], data: Any) -> dict[str, Any]:
    """A copy of ``doc`` with the posted single values applied, typed like the current values.

    A whole number that does not parse is kept as text so validation names the field.
    """
    new = copy.deepcopy(doc)
    for section, schema in _sections():
        for key, _meta in _fields(schema, tables=False):
            name = f"{section}.{key}"
            current = _value(schema, key, new.get(section, {}))
            if name not in data or current is _MISSING:
                continue
            raw = str(data[name]).strip()
            new.setdefault(section, {})
            if isinstance(current, list | tuple):  # a list of dates (or words): lines, commas or 、
                new[section][key] = [part for part in re.split(r"[\s,,、]+", raw) if part]
            elif isinstance(current, bool):
                new[section][key] = raw in {"1", "true", "on", "yes"}
            elif isinstance(current, int):
                try:
                    new[section][key] = int(raw)
                except ValueError:
                    new[section][key] = raw
            elif schema.model_fields[key].annotation is Decimal:
                new[section][key] = _amount_text(raw)
            else:
                new[section][key] = raw
    return new


def _amount_text(raw: str) -> str:
    """An amount as people type it ("¥1,250.00", full-width digits) in the plain form the rules
    read ("1250.00"); anything else as typed, for validation to name."""
    amount = money.parse(raw)
    return raw if amount is None else str(amount)


# --- the handbook's tables as editable rows ---------------------------------------------------

# Cell kinds: text, time, int, money, decimal (a number written as text), bool, list (comma or 、 separated).
BLANK_ROWS = 2  # empty rows under each table to add to it; clearing a row's cells removes it


def _cell_text(value: Any, kind: str) -> str:
    if kind == "list":
        return "、".join(str(v) for v in value or [])
    if kind == "bool":
        return "1" if value else ""
    return "" if value is None else str(value)


def _tables() -> list[tuple[str, str, Any, str, list[tuple[str, Any, str]], dict[str, list[tuple[str, Any]]]]]:
    """(section, key, title, rule id, columns, choices by column) of every editable table."""
    return [
        (section, key, meta["label"], meta["rule"], _columns(schema, key), _choices(schema, key))
        for section, schema in _sections()
        for key, meta in _fields(schema, tables=True)
    ]


def table_rows(doc: dict[str, Any], problems: list[str] | None = None) -> list[dict[str, Any]]:
    """Each handbook table with its rows (plus blank rows to add), each cell with its own error."""
    errors = _errors_by_path(problems)
    out = []
    for section, key, title, rule, columns, choices in _tables():
        rows = list(doc.get(section, {}).get(key, []) or [])
        body = []
        for i in range(len(rows) + BLANK_ROWS):
            row = rows[i] if i < len(rows) and isinstance(rows[i], dict) else {}
            where = f"{section}.{key}[{i + 1}]"
            cells = [
                {
                    "name": f"{where}.{col}",
                    "kind": kind,
                    "label": label,
                    "value": _cell_text(row.get(col), kind),
                    "error": errors.get(f"{where}.{col}", ""),
                    "choices": choices.get(col),
                }
                for col, label, kind in columns
            ]
            body.append({"cells": cells, "error": errors.get(where, ""), "blank": i >= len(rows)})
        out.append(
            {
                "title": title,
                "rule": rule,
                "name": f"{section}.{key}",
                "columns": [label for _c, label, _k in columns],
                "rows": body,
                "error": errors.get(f"{section}.{key}", ""),
            }
        )
    return out


def _typed(raw: str, kind: str) -> Any:
    raw = raw.strip()
    if kind == "int":
        try:
            return int(raw)
        except ValueError:
            return raw  # validation names the cell
    if kind == "list":
        return [p.strip() for p in raw.replace("\u3001", ",").replace("\uff0c", ",").split(",") if p.strip()]
    if kind == "bool":
        return raw in {"1", "on", "true", "yes"}
    if kind in {"money", "decimal"}:
        return _amount_text(raw)
    return raw


def apply_tables(doc: dict[str, Any], data: Any) -> dict[str, Any]:
    """A copy of ``doc`` with the posted table rows: a row whose cells are all empty is dropped (how
    a row is removed), the others typed like the column. A column the form does not show is kept
    from the row with the same key (a point item's category) and a numbered column is numbered in
    order (the late tiers)."""
    new = copy.deepcopy(doc)
    for section, schema in _sections():
        for key, meta in _fields(schema, tables=True):
            prefix = f"{section}.{key}["
            if not any(str(name).startswith(prefix) for name in data):
                continue  # the form did not carry this table: keep it as it is
            columns = _columns(schema, key)
            old_rows = [r for r in (doc.get(section, {}).get(key) or []) if isinstance(r, dict)]
            count = len(old_rows) + BLANK_ROWS
            rows = []
            for i in range(1, min(count, 200) + 1):
                raw = {col: str(data.get(f"{prefix}{i}].{col}", "")) for col, _l, _k in columns}
                if not any(raw[col].strip() for col, _l, kind in columns if kind != "bool"):
                    continue
                rows.append({col: _typed(raw[col], kind) for col, _label, kind in columns})
            if meta.get("numbered"):
                rows = [{meta["numbered"]: n, **row} for n, row in enumerate(rows, start=1)]
            if meta.get("key"):
                shown = {col for col, _l, _k in columns}
                old = {r.get(meta["key"]): r for r in old_rows}
                rows = [
                    {**{k: v for k, v in old.get(r.get(meta["key"]), {}).items() if k not in shown}, **r} for r in rows
                ]
            new.setdefault(section, {})[key] = rows
    return new


def readable_problem(problem: str) -> str:
    """A validation problem as people read it: "attendance.free_makeups_per_month: must be …" →
    "每月免责补卡次数: must be …" (table rows: "班次类型 第 2 行 · 开始"); unknown paths stay."""
    path, sep, message = str(problem).partition(": ")
    if not sep:
        return str(problem)
    labels = {
        f"{section}.{key}": meta["label"]
        for section, schema in _sections()
        for key, meta in _fields(schema, tables=False)
    }
    if path in labels:
        return f"{labels[path]}: {message}"
    for section, name, title, _rule, columns, _choices_by_column in _tables():
        prefix = f"{section}.{name}["
        if path.startswith(prefix) and "]" in path:
            number, _close, rest = path[len(prefix) :].partition("]")
            column = dict((key, label) for key, label, _kind in columns).get(rest.lstrip("."), "")
            where = _("%(table)s, row %(n)s") % {"table": title, "n": number}
            return f"{where}{' · ' + str(column) if column else ''}: {message}"
    return str(problem)
