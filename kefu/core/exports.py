"""Exports safe for Excel (OWASP CSV injection): a text cell that starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return is a formula to a spreadsheet; it is written with a leading
apostrophe so it shows as the text it is. Plain numbers (``-300.00``) stay numbers."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from decimal import Decimal
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


# --- spreadsheets people open in Excel (issue 17 §7) ---------------------------------------------

MONEY_FORMAT = '"¥"#,##0.00;-"¥"#,##0.00'
PERCENT_FORMAT = "0.00%"
QUANTITY_FORMAT = "General"  # 4 and 0.5 ("0.##" shows "4.")
DATE_FORMAT = "yyyy-mm-dd"
MAX_WIDTH = 60
WIDTH_SAMPLE = 500  # rows measured for the column widths


class Money(Decimal):
    """An amount of CNY: a number in the sheet, shown ``¥1,234.50``."""


class Rate(Decimal):
    """A ratio (0.85 = 85 %): a number in the sheet, shown as a percentage."""


class Quantity(Decimal):
    """A count that is not money (days, hours): a plain number."""


def display_width(value: Any) -> int:
    """Columns a value takes in Excel: a CJK character is two."""
    text = f"{value:,.2f}" if isinstance(value, Decimal) else str(value if value is not None else "")
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text) + (1 if isinstance(value, Money) else 0)


def write_table(sheet: Any, headers: list[Any], rows: Iterable[Iterable[Any]], *, caption: Any = None) -> int:
    """Write a list into a (write-only) openpyxl sheet the way people want it in Excel: a bold,
    frozen header row with filters, columns as wide as their contents, amounts as numbers formatted
    ¥ (``Money``, or any ``Decimal``), rates as percentages (``Rate``), every text cell Excel-safe.
    ``caption``: one line above the header. Returns the number of data rows."""
    from itertools import chain, islice

    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    names = [str(h) for h in headers]
    stream = iter(rows)
    sample = [list(r) for r in islice(stream, WIDTH_SAMPLE)]
    widths = [display_width(h) + 2 for h in names]  # the filter button
    for row in sample:
        for i, value in enumerate(row[: len(widths)]):
            widths[i] = max(widths[i], display_width(value))
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = min(MAX_WIDTH, width + 2)
    top = 2 if caption is not None else 1
    sheet.freeze_panes = f"A{top + 1}"
    bold = Font(bold=True)
    if caption is not None:
        cell = WriteOnlyCell(sheet, value=safe_cell(str(caption)))
        cell.font = bold
        sheet.append([cell])
    header = []
    for name in names:
        cell = WriteOnlyCell(sheet, value=safe_cell(name))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    count = 0
    for values in chain(sample, stream):
        sheet.append([_typed_cell(sheet, WriteOnlyCell, v) for v in values])
        count += 1
    last = get_column_letter(max(1, len(names)))
    sheet.auto_filter.ref = f"A{top}:{last}{top + count}"
    return count


def _typed_cell(sheet: Any, make: Any, value: Any) -> Any:
    from django.utils.functional import Promise

    if isinstance(value, Promise):
        value = str(value)
    if isinstance(value, dt.date):
        cell = make(sheet, value=value)
        cell.number_format = DATE_FORMAT
        return cell
    if isinstance(value, bool) or not isinstance(value, Decimal):
        return safe_cell(value)
    cell = make(sheet, value=value)
    if isinstance(value, Rate):
        cell.number_format = PERCENT_FORMAT
    elif isinstance(value, Quantity):
        cell.number_format = QUANTITY_FORMAT
    else:
        cell.number_format = MONEY_FORMAT
    return cell
