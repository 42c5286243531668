"""Exports safe for Excel (OWASP CSV injection): a text cell that starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return is a formula to a spreadsheet; it is written with a leading
apostrophe so it shows as the text it is. Plain numbers (``-300.00``) stay numbers."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_DANGEROUS = ("=", "+", "-", "@", "\t", "\r", "\n")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")  # a negative amount; "+86…" stays text


# control characters XML 1.0 cannot hold (openpyxl refuses them: one in stored text made every
# export of its list a 500, issue 16 §7); shown as U+FFFD so the reader sees something was there
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def safe_cell(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if _CONTROL.search(value):
        value = _CONTROL.sub("\ufffd", value)
    if value.startswith(_DANGEROUS) and not _NUMBER.match(value):
        return "'" + value
    return value


def safe_row(row: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in row]


def append(sheet: Any, row: Iterable[Any]) -> None:
    """``sheet.append(row)`` with every cell made safe first (openpyxl checks cells as they are set)."""
    sheet.append(safe_row(row))


def safe_workbook(workbook: Any) -> Any:
    """Neutralise every text cell of an openpyxl workbook in place (openpyxl would otherwise store
    a text starting with ``=`` as a formula); returns the workbook."""
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    value = safe_cell(cell.value)
                    if value is not cell.value:
                        cell.value = value
                        cell.data_type = "s"
    return workbook
