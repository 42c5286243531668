"""The handbook policy document: loading the preset, reading and writing its TOML text.

Pure Python (no Django): a policy is a nested dict as read from TOML/JSON. Money stays a string of a
Decimal. Each module validates its own section with the typed schema in its ``rules.py``
(``kefu.core.rulebook.policy_problems``).
"""

from __future__ import annotations

import tomllib
from decimal import Decimal
from importlib import resources
from typing import Any

from .i18n import _

PRESET_NAME = "seed-handbook"


def load_preset(name: str = PRESET_NAME) -> dict[str, Any]:
    text = resources.files("kefu.policies.presets").joinpath(f"{name.replace('-', '_')}.toml").read_text("utf-8")
    return tomllib.loads(text)


def with_defaults(document: dict[str, Any], name: str = PRESET_NAME) -> dict[str, Any]:
    """A saved version completed with settings added to the preset after it was saved (a key the
    version lacks takes the preset's value; nothing the version holds changes)."""
    preset = load_preset(name)
    out = dict(document)
    for section, values in preset.items():
        mine = out.get(section)
        if not isinstance(values, dict):
            out.setdefault(section, values)
        elif isinstance(mine, dict):
            out[section] = {**values, **mine}
        elif mine is None:
            out[section] = values
    points = out.get("points")
    if isinstance(points, dict) and isinstance(points.get("items"), list):
        # A category of point items added to the preset after the version was saved (the on-the-spot
        # warning of R-WF-17) joins the version's catalogue; categories the version has stay its own.
        have = {item.get("category") for item in points["items"] if isinstance(item, dict)}
        extra = [i for i in preset.get("points", {}).get("items", []) if i.get("category") not in have]
        if extra:
            out["points"] = {**points, "items": [*points["items"], *extra]}
    return out


MAX_DEPTH = 8  # a policy nests tables three deep; anything deeper is not a policy


def parse_toml(text: str) -> dict[str, Any]:
    """Parse a TOML policy text; raise ValueError with the parser's message. Infinity, NaN and
    absurd nesting are refused here (JSON cannot store the first two; the last exhausts the stack)."""
    depth = max((len(line) - len(line.lstrip("[")) for line in text.splitlines()), default=0)
    if depth > MAX_DEPTH or text.count("[") - text.count("]") > MAX_DEPTH or text.count("{") > 10_000:
        raise ValueError("TOML: " + _("the document nests too deep"))
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"TOML: {exc}") from exc
    except RecursionError as exc:
        raise ValueError("TOML: " + _("the document nests too deep")) from exc
    _refuse_non_finite(doc, "")
    return doc


def _refuse_non_finite(value: Any, path: str, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise ValueError(f"{path or 'TOML'}: " + _("the document nests too deep"))
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        raise ValueError(f"{path}: " + _("must be a finite number"))
    if isinstance(value, dict):
        for key, item in value.items():
            _refuse_non_finite(item, f"{path}.{key}" if path else str(key), depth + 1)
    elif isinstance(value, list):
        for i, item in enumerate(value, start=1):
            _refuse_non_finite(item, f"{path}[{i}]", depth + 1)


def title_of(doc: Any, name: str) -> str:
    """What people call a policy document: its ``[meta]`` title (客服部管理制度), else ``name``."""
    meta = doc.get("meta") if isinstance(doc, dict) else None
    return str((meta.get("title") if isinstance(meta, dict) else None) or name)


def freight_for(doc: dict[str, Any], province: str) -> Decimal:
    """R-AS-1: the freight standard for a province (short name, e.g. 江苏)."""
    for row in doc["aftersales"]["freight"]:
        if province in row["provinces"]:
            return Decimal(row["amount"])
    return Decimal(doc["aftersales"]["freight_default"])


def dump_toml(doc: dict[str, Any]) -> str:
    """Serialise a policy document back to TOML for the editor (tables before arrays of tables)."""
    lines: list[str] = []
    _emit_table(lines, [], doc)
    return "\n".join(lines).strip() + "\n"


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if isinstance(value, list):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_scalar(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _emit_table(lines: list[str], path: list[str], table: dict[str, Any]) -> None:
    simple = {k: v for k, v in table.items() if not isinstance(v, dict) and not _is_table_array(v)}
    if path and (simple or not table):
        lines.append("")
        lines.append(f"[{'.'.join(path)}]")
    for key, value in simple.items():
        lines.append(f"{key} = {_scalar(value)}")
    for key, value in table.items():
        if isinstance(value, dict):
            _emit_table(lines, [*path, key], value)
    for key, value in table.items():
        if _is_table_array(value):
            for item in value:
                lines.append("")
                lines.append(f"[[{'.'.join([*path, key])}]]")
                for k, v in item.items():
                    lines.append(f"{k} = {_scalar(v)}")
