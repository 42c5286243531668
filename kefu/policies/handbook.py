"""The handbook policy document: loading the preset and validating a new version.

Pure Python (no Django): a policy is a nested dict as read from TOML/JSON; ``validate`` returns
a list of human-readable problems, each naming the field path. Money stays a string of a Decimal.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import Any

from .i18n import _

PRESET_NAME = "seed-handbook"
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")

Problem = str


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


def _get(doc: dict[str, Any], path: str) -> Any:
    node: Any = doc
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(path)
        node = node[part]
    return node


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool | float):
        return None
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


def _check(problems: list[Problem], doc: dict[str, Any], path: str, test: Callable[[Any], bool], msg: str) -> Any:
    try:
        value = _get(doc, path)
    except KeyError:
        problems.append(f"{path}: " + _("missing"))
        return None
    if not test(value):
        problems.append(f"{path}: {msg} " + _("(got %(value)s)") % {"value": _shown(value)})
        return None
    return value


# Upper bounds: a number that makes no sense for the department (a 空挂 threshold of a million
# minutes) would otherwise break the jobs that add it to a date.
GENERIC_MAX = 100_000
MAXIMA = {
    "desk.idle_flag_minutes": 24 * 60,
    "desk.conversion_window_days": 31,
    "desk.response_cap_minutes": 24 * 60,
    "desk.fast_reply_seconds": 3600,
    "desk.urge_after_minutes": 7 * 24 * 60,
    "desk.urge_consultation_hours": 30 * 24,
    "desk.urge_due_minutes": 7 * 24 * 60,
    "desk.urge_max_days": 31,
}


def _int_upto(v: Any, *, top: int) -> bool:
    return _nonneg_int(v) and v <= top


def _nonneg_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _pos_int(v: Any) -> bool:
    return _nonneg_int(v) and v > 0


MONEY_LIMIT = Decimal("9999999999.99")  # what the money columns hold


def _money(v: Any) -> bool:
    d = _decimal(v) if isinstance(v, str) else None
    return d is not None and 0 <= d <= MONEY_LIMIT and d == d.quantize(Decimal("0.01"))


def _nonneg_decimal(v: Any) -> bool:
    d = _decimal(v) if isinstance(v, str | int) else None
    return d is not None and 0 <= d <= MONEY_LIMIT


def _iso_dates(v: Any) -> bool:
    import datetime as dt

    if not isinstance(v, list) or len(v) > 400 or len(set(map(str, v))) != len(v):
        return False
    try:
        return all(isinstance(d, str) and dt.date.fromisoformat(d).isoformat() == d for d in v)
    except ValueError:
        return False


def _time(v: Any) -> bool:
    return isinstance(v, str) and bool(_TIME.match(v))


def validate(doc: dict[str, Any]) -> list[Problem]:
    """Every problem with a policy document; empty when it is usable."""
    p: list[Problem] = []
    if not isinstance(doc, dict):
        return ["document: not a table"]
    try:
        _refuse_non_finite(doc, "")
    except ValueError as exc:
        return [str(exc)]
    for path in (
        "attendance.free_makeups_per_month",
        "attendance.offduty_makeup_packets",
        "attendance.punch_window_before_minutes",
        "attendance.punch_window_after_minutes",
        "leave.rest_days_per_month",
        "leave.rest_notice_days",
        "leave.leave_notice_days",
        "leave.leave_days_forfeit_next_month_rest",
        "leave.personal_leave_cap_days_per_year",
        "aftersales.no_reason_return_days",
        "aftersales.quality_return_days",
        "aftersales.exchange_days",
        "aftersales.sla_first_response_hours",
        "aftersales.sla_resolution_hours",
        "aftersales.escalate_before_deadline_hours",
        "aftersales.ship_within_hours",
        "service.warranty_unit_months",
        "service.warranty_accessory_months",
        "service.warranty_agreement_max_months",
        "service.warranty_agreement_accessory_months",
        "service.repairs_before_replacement",
        "service.repair_max_days",
        "service.on_site_hours",
        "care.new_customer_contact_days",
        "desk.idle_flag_minutes",
        "desk.conversion_window_days",
        "desk.response_cap_minutes",
        "desk.fast_reply_seconds",
        "desk.urge_after_minutes",
        "desk.urge_consultation_hours",
        "desk.urge_due_minutes",
        "desk.urge_max_days",
    ):
        top = MAXIMA.get(path, GENERIC_MAX)
        _check(
            p,
            doc,
            path,
            functools.partial(_int_upto, top=top),
            _("must be a whole number from 0 to %(max)s") % {"max": top},
        )
    _check(p, doc, "attendance.red_packet_overdue_multiplier", _pos_int, _("must be a whole number ≥ 1"))
    _check(
        p, doc, "attendance.publication_weekday", lambda v: _nonneg_int(v) and v <= 6, _("must be 0 (Mon) … 6 (Sun)")
    )
    _check(p, doc, "attendance.publication_time", _time, _("must be HH:MM"))
    for path in (
        "attendance.offduty_makeup_red_packet",
        "attendance.full_attendance_bonus",
        "points.yuan_per_point",
        "aftersales.freight_default",
        "aftersales.coupon_amount",
    ):
        _check(p, doc, path, _money, _('must be an amount like "10.00"'))
    for path in ("aftersales.discount_offer_percent", "aftersales.defect_refund_percent"):
        _check(p, doc, path, lambda v: _nonneg_decimal(v) and Decimal(str(v)) <= 100, _("must be a percentage 0–100"))
    _check(p, doc, "attendance.statutory_holidays", _iso_dates, _("must be a list of distinct dates like 2026-10-01"))
    for path in (
        "attendance.holiday_pay_daily_wages",
        "attendance.missing_punch_absence_days",
        "attendance.no_show_absence_days",
        "leave.unused_rest_day_pay_daily_wages",
        "leave.leave_deduction_daily_wages",
    ):
        _check(p, doc, path, _nonneg_decimal, _("must be a number ≥ 0 written as a string"))

    shifts = _check(
        p, doc, "attendance.shift_types", lambda v: isinstance(v, list) and len(v) > 0, "needs at least one shift"
    )
    codes: set[str] = set()
    for i, shift in enumerate(shifts or []):
        where = f"attendance.shift_types[{i + 1}]"
        if not isinstance(shift, dict):
            p.append(f"{where}: " + _("not a table"))
            continue
        code = shift.get("code")
        if not isinstance(code, str) or not code:
            p.append(f"{where}.code: " + _("missing"))
        elif code in codes:
            p.append(f"{where}.code: " + _("duplicate %(value)s") % {"value": code})
        else:
            codes.add(code)
        if not isinstance(shift.get("name"), str) or not shift.get("name"):
            p.append(f"{where}.name: " + _("missing"))
        for key in ("start", "end"):
            if not _time(shift.get(key)):
                p.append(f"{where}.{key}: " + _("must be HH:MM"))
        if _time(shift.get("start")) and shift.get("start") == shift.get("end"):
            p.append(f"{where}.end: " + _("start and end are the same"))

    tiers = _check(
        p, doc, "attendance.late_tiers", lambda v: isinstance(v, list) and len(v) > 0, "needs at least one tier"
    )
    expected_min = 1
    for i, tier in enumerate(tiers or []):
        where = f"attendance.late_tiers[{i + 1}]"
        if not isinstance(tier, dict):
            p.append(f"{where}: " + _("not a table"))
            continue
        raw_lo, raw_hi = tier.get("min_minutes"), tier.get("max_minutes")
        if not _pos_int(raw_lo) or not _nonneg_int(raw_hi):
            p.append(f"{where}.min_minutes: " + _("min_minutes ≥ 1 and max_minutes ≥ 0 must be whole numbers"))
            continue
        lo, hi = int(str(raw_lo)), int(str(raw_hi))
        if lo != expected_min:
            p.append(
                f"{where}.min_minutes: "
                + _("tiers must follow on without gaps (expected %(expected)s)") % {"expected": expected_min}
            )
        last = i == len(tiers) - 1
        if hi == 0 and not last:
            p.append(f"{where}.max_minutes: " + _("only the last tier may be open-ended (0)"))
        if hi != 0 and hi < lo:
            p.append(f"{where}.max_minutes: " + _("smaller than min_minutes"))
        if last and hi != 0:
            p.append(f"{where}.max_minutes: " + _("the last tier must be open-ended (0)"))
        expected_min = (hi or lo) + 1
        if not _money(tier.get("red_packet")):
            p.append(f"{where}.red_packet: " + _('must be an amount like "10.00"'))
        if not _nonneg_int(tier.get("packets")):
            p.append(f"{where}.packets: " + _("must be a whole number ≥ 0"))
        if not _nonneg_decimal(tier.get("absence_days")):
            p.append(f"{where}.absence_days: " + _("must be a number ≥ 0 written as a string"))

    absence = _check(
        p, doc, "attendance.absence_tiers", lambda v: isinstance(v, list) and len(v) > 0, "needs at least one tier"
    )
    previous = Decimal("-1")
    for i, tier in enumerate(absence or []):
        where = f"attendance.absence_tiers[{i + 1}]"
        if not isinstance(tier, dict):
            p.append(f"{where}: " + _("not a table"))
            continue
        low = _decimal(tier.get("min_days")) if isinstance(tier.get("min_days"), str) else None
        if low is None or low <= 0:
            p.append(f"{where}.min_days: " + _("must be a number > 0"))
        elif low <= previous:
            p.append(f"{where}.min_days: " + _("tiers must increase"))
        else:
            previous = low
        if not _nonneg_decimal(tier.get("daily_wages")):
            p.append(f"{where}.daily_wages: " + _("must be a number ≥ 0 written as a string"))
        for flag in ("whole_month", "criticism_notice", "dismissal"):
            if not isinstance(tier.get(flag), bool):
                p.append(f"{where}.{flag}: " + _("must be true or false"))

    items = _check(p, doc, "points.items", lambda v: isinstance(v, list), _("must be a list"))
    seen: set[str] = set()
    for i, item in enumerate(items or []):
        where = f"points.items[{i + 1}]"
        if not isinstance(item, dict):
            p.append(f"{where}: " + _("not a table"))
            continue
        code = item.get("code")
        if not isinstance(code, str) or not code:
            p.append(f"{where}.code: " + _("missing"))
        elif code in seen:
            p.append(f"{where}.code: " + _("duplicate %(value)s") % {"value": code})
        else:
            seen.add(code)
        if not isinstance(item.get("name"), str) or not item["name"]:
            p.append(f"{where}.name: " + _("missing"))
        if not isinstance(item.get("points"), int) or isinstance(item.get("points"), bool):
            p.append(f"{where}.points: " + _("must be a whole number"))

    freight = _check(p, doc, "aftersales.freight", lambda v: isinstance(v, list), _("must be a list"))
    seen_prov: set[str] = set()
    for i, row in enumerate(freight or []):
        where = f"aftersales.freight[{i + 1}]"
        if not isinstance(row, dict) or not isinstance(row.get("provinces"), list):
            p.append(f"{where}.provinces: " + _("needs provinces and an amount"))
            continue
        for prov in row["provinces"]:
            if prov in seen_prov:
                p.append(f"{where}.provinces: " + _("%(province)s appears twice") % {"province": prov})
            seen_prov.add(prov)
        if not _money(row.get("amount")):
            p.append(f"{where}.amount: " + _('must be an amount like "10.00"'))

    if (
        _nonneg_int(_safe(doc, "service.warranty_unit_months"))
        and _nonneg_int(_safe(doc, "service.warranty_agreement_max_months"))
        and doc["service"]["warranty_agreement_max_months"] < doc["service"]["warranty_unit_months"]
    ):
        p.append("service.warranty_agreement_max_months: smaller than the standard unit warranty")
    for where, row in _keyed_rows(p, doc, "desk.no_sale_reasons", "code", _("needs at least one reason")):
        if not isinstance(row.get("label"), str) or not row["label"].strip():
            p.append(f"{where}.label: " + _("missing"))
        elif len(row["label"]) > 40 or len(str(row.get("code", ""))) > 40:
            p.append(f"{where}.label: " + _("at most 40 characters"))
    for where, row in _keyed_rows(p, doc, "desk.platforms", "platform", _("needs at least one platform")):
        window = row.get("window")
        ends = ("24:00",)
        if not (
            isinstance(window, list)
            and len(window) == 2
            and _time(window[0])
            and (_time(window[1]) or window[1] in ends)
            and (window[1] in ends or window[0] < window[1])
        ):
            p.append(f"{where}.window: " + _('must be ["HH:MM", "HH:MM"], start before end (end may be "24:00")'))
        minutes = row.get("no_reply_after_minutes", 0)
        if not (_nonneg_int(minutes) and minutes <= 24 * 60):
            p.append(
                f"{where}.no_reply_after_minutes: " + _("must be a whole number from 0 to %(max)s") % {"max": 24 * 60}
            )
    windows = _check(p, doc, "care.rest_windows", lambda v: isinstance(v, list), _("must be a list of [start, end]"))
    for i, window in enumerate(windows or []):
        if not (isinstance(window, list) and len(window) == 2 and all(_time(t) for t in window)):
            p.append(f'care.rest_windows[{i + 1}]: must be ["HH:MM", "HH:MM"]')
    for path in ("service.fault_causes", "care.complaint_reasons", "care.emotions"):
        for where, row in _keyed_rows(p, doc, path, "code", _("needs at least one row")):
            if not isinstance(row.get("label"), str) or not row["label"].strip() or len(row["label"]) > 40:
                p.append(f"{where}.label: " + _("1 to 40 characters"))
            if path == "care.emotions":
                words = row.get("keywords")
                if not isinstance(words, list) or not all(isinstance(w, str) and 0 < len(w) <= 20 for w in words):
                    p.append(f"{where}.keywords: " + _("a list of words of 1 to 20 characters"))
    return p


def _keyed_rows(
    p: list[Problem], doc: dict[str, Any], path: str, key: str, empty: str
) -> list[tuple[str, dict[str, Any]]]:
    """A non-empty list of tables, each named by a unique ``key``; returns (where, row) of the tables."""
    rows = _check(p, doc, path, lambda v: isinstance(v, list) and len(v) > 0, empty)
    seen: set[str] = set()
    out = []
    for i, row in enumerate(rows or []):
        where = f"{path}[{i + 1}]"
        if not isinstance(row, dict):
            p.append(f"{where}: " + _("not a table"))
            continue
        name = row.get(key)
        if not isinstance(name, str) or not name.strip():
            p.append(f"{where}.{key}: " + _("missing"))
        elif name in seen:
            p.append(f"{where}.{key}: " + _("duplicate %(value)s") % {"value": name})
        else:
            seen.add(name)
        out.append((where, row))
    return out


def _safe(doc: dict[str, Any], path: str) -> Any:
    try:
        return _get(doc, path)
    except KeyError:
        return None


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


def _shown(value: Any) -> str:
    """A value as the supervisor typed it, for an error message: a list as "a、b", text without
    quotes, at most 40 characters."""
    if isinstance(value, list | tuple):
        text = "、".join(_shown(v) for v in value)
    elif isinstance(value, str):
        text = value
    else:
        text = str(value)
    return text if len(text) <= 40 else text[:39] + "…"
