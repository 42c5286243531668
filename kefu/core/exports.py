"""Exports safe for Excel (OWASP CSV injection): a text cell that starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return is a formula to a spreadsheet; it is written with a leading
apostrophe so it shows as the text it is. Plain numbers (``-300.00``) stay numbers."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_DANGEROUS = ("=", "+", "-", "@", "\t", "\r", "\n")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")  # a negative amount; "+86…" stays text


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_DANGEROUS) and not _NUMBER.match(value):
        return "'" + value
    return value


def safe_row(row: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in row]


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
