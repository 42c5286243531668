"""Reading spreadsheet-like files as they come: CSV (UTF-8 or GBK) or XLSX, detected by content.

Pure Python (no Django). Cells are cleaned of the exporters' quirks: a BOM, surrounding spaces,
Excel guards ``="…"``, a leading ``'`` and quotes. Row numbers are as a spreadsheet shows them.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from kefu.policies.i18n import _
from kefu.policies.money import MONEY_MAX

XLSX_MAGIC = b"PK\x03\x04"

# Hostile workbooks are refused before any reader allocates for them (zip and dimension bombs).
XLSX_MAX_ENTRIES = 2000
XLSX_MAX_UNCOMPRESSED = 512 * 1024 * 1024  # all parts together
XLSX_MAX_RATIO = 250  # uncompressed / compressed, per part (XML compresses 10–30×; bombs 1000×)
XLSX_MAX_ROWS = 1_048_576
XLSX_MAX_COLUMNS = 1000
XLSX_MAX_CELLS = 20_000_000  # rows × columns the reader would lay out per sheet (100k orders × 60 = 6M)
XLSX_MAX_FILLED = 4_000_000  # cells really written, all sheets together: each becomes a Python object
XLSX_SPARSE_AREA = 1_000_000  # beyond this laid-out area a sheet must be reasonably dense …
XLSX_MAX_SPARSITY = 50  # … at most 50 laid-out cells per cell the sheet really has (a 1-cell "ALL60000" bomb)
# Sheets are read as an XML parser reads them (expat, in C): quotes, entities, namespace prefixes and
# whitespace inside tags cannot hide a cell from the scan, and cells without an ``r`` reference are
# placed by counting, as a reader does. A reader finds sheets through the workbook's relationships,
# so every part of the archive is scanned whatever its name.
_SHEET_MARKS = (b"sheetData", b"<row", b":row", b"dimension")  # what makes a part a worksheet to a reader
_REF = re.compile(r"\s*\$?([A-Za-z]{0,3})\s*\$?0*([0-9]{1,12})\s*")
_FAR = 10**12  # a reference too long to be one: as far out as it gets


class FileFormatError(ValueError):
    """The file as a whole cannot be read (not a row problem)."""


@dataclass(frozen=True)
class RowError:
    row: int
    reason: str
    # the row as the file had it, (header, value) pairs: the failed-rows download shows what to fix
    cells: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"row": self.row, "reason": self.reason}
        if self.cells:
            out["cells"] = dict(self.cells)
        return out


MAX_ERROR_CELLS = 60  # columns kept per failed row
MAX_CELL_TEXT = 200
MAX_ROWS_WITH_CELLS = 2000  # failed rows offered for download with their cells (the rest: number and reason)


Cells = tuple[tuple[str, str], ...]


def row_cells(header: list[str], row_of: Callable[[int], list[Any] | None]) -> Callable[[int], Cells]:
    """A lookup from a row number to that row's (header, value) pairs as the file had them (empty
    when the row is unknown): parse errors carry them, and so do rows a service refuses later."""

    def cells(number: int) -> Cells:
        row = row_of(number)
        if row is None:
            return ()
        return tuple((name, clean(value)[:MAX_CELL_TEXT]) for name, value in zip(header, row, strict=False) if name)[
            :MAX_ERROR_CELLS
        ]

    return cells


def no_cells(number: int) -> Cells:
    return ()


def with_cells(errors: list[RowError], cells_of: Callable[[int], Cells]) -> list[RowError]:
    """The errors with their rows' cells attached — the first ``MAX_ROWS_WITH_CELLS`` of them: a file
    of which every row is bad (a hostile one, or the wrong file) must not be copied whole into
    memory and into its import run."""
    return [
        err if err.cells or n >= MAX_ROWS_WITH_CELLS else RowError(err.row, err.reason, cells_of(err.row))
        for n, err in enumerate(errors)
    ]


def sheet_row_cells(sheet: Sheet) -> Callable[[int], Cells]:
    rows = dict(sheet.rows)
    return row_cells(sheet.header, rows.get)


@dataclass
class Sheet:
    """Header (cleaned) and data rows with their spreadsheet row numbers."""

    header: list[str]
    rows: list[tuple[int, list[str]]]
    header_row: int = 1
    meta: dict[str, str] = field(default_factory=dict)

    def index(self) -> dict[str, int]:
        idx: dict[str, int] = {}
        for i, name in enumerate(self.header):
            if name and name not in idx:
                idx[name] = i
        return idx


_GUARD_START = frozenset("='\" \t\r\n\ufeff\u3000")
_GUARD_END = frozenset('" \t\r\n\u3000')


def clean(value: Any) -> str:
    """Strip BOM, spaces, ="…" guards, a leading apostrophe and surrounding quotes."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, dt.timedelta):
        minutes = int(value.total_seconds() // 60)
        return f"{minutes // 60:02d}:{minutes % 60:02d}"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value)
    if not text:
        return ""
    if text[0] not in _GUARD_START and text[-1] not in _GUARD_END:
        return text  # the common case: nothing to strip
    text = text.replace("\ufeff", "").strip()
    if text.startswith('="') and text.endswith('"'):
        text = text[2:-1]
    elif text.startswith("="):
        text = text[1:]
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        text = text[1:-1]
    if text.startswith("'"):
        text = text[1:]
    return text.strip()


def decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileFormatError(_("Unknown text encoding (expected UTF-8 or GBK)."))


def read_csv(data: bytes) -> list[list[str]]:
    text = decode(data)
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise FileFormatError(f"CSV: {exc}") from exc


@functools.lru_cache(maxsize=4096)
def _column_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n


def _reference(value: str | None) -> tuple[int, int] | None:
    """(row, column) of a cell or row reference (0 where it names none), None when it is no
    reference at all (a reader then counts on from the previous cell or row)."""
    if value is None:
        return None
    found = _REF.fullmatch(value)
    if found is None:
        return (_FAR, _FAR) if value.strip() else None
    letters, digits = found.groups()
    return int(digits), _column_number(letters) if letters else 0


class _SheetScan:
    """expat's start-element handler: where the reader would put each row and cell (element names
    read by their local part, whatever prefix they carry; attributes by their exact name, as the
    reader takes them: a prefixed ``x:r`` is no reference, so that cell is placed by counting)."""

    def __init__(self) -> None:
        self.row = self.col = self.max_row = self.max_col = self.cells = 0
        self.sheet = False

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = name[name.rfind(":") + 1 :]
        if local == "c":
            ref = _reference(attrs.get("r"))
            if ref is None:
                self.col += 1
            else:
                self.col = ref[1] or self.col + 1
                if ref[0] > self.max_row:
                    self.max_row = ref[0]
            if self.col > self.max_col:
                self.max_col = self.col
            self.cells += 1
        elif local == "row":
            ref = _reference(attrs.get("r"))
            self.row = ref[0] if ref is not None and ref[0] else self.row + 1
            self.col = 0
            if self.row > self.max_row:
                self.max_row = self.row
        elif local == "dimension":
            for end in (attrs.get("ref") or "").split(":"):
                ref = _reference(end)
                if ref is not None:
                    self.max_row, self.max_col = max(self.max_row, ref[0]), max(self.max_col, ref[1])
        elif local == "sheetData":
            self.sheet = True


def _refuse_declarations(*_args: Any) -> None:
    raise FileFormatError(_("The XLSX file is damaged: %(error)s") % {"error": "DTD"})


def inspect_xlsx(data: bytes) -> None:
    """Refuse a workbook whose parts would explode in memory, *before* a reader opens it: too many
    parts, too much uncompressed data or a suspicious compression ratio (zip bombs), or a sheet that
    declares or uses cells far out (``A1`` … ``XFD1048576``: a dimension bomb). Every part is
    scanned as a stream, never inflated whole — whatever its name, since a reader finds sheets
    through the workbook's relationships, not by their paths. A workbook this process has passed
    already (the upload form, then the reader) is not scanned again."""
    digest = hashlib.sha256(data).digest()
    if digest in _PASSED:
        return
    _inspect(data)
    _PASSED[digest] = None
    while len(_PASSED) > 16:
        del _PASSED[next(iter(_PASSED))]


_PASSED: dict[bytes, None] = {}  # digests of the last workbooks that passed, oldest first


def _inspect(data: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise FileFormatError(_("The XLSX file is damaged: %(error)s") % {"error": exc}) from exc
    if len(infos) > XLSX_MAX_ENTRIES:
        raise FileFormatError(_("The XLSX workbook has too many parts."))
    total = sum(i.file_size for i in infos)
    if total > XLSX_MAX_UNCOMPRESSED:
        raise FileFormatError(
            _("The XLSX workbook expands to %(mb)s MB (limit %(limit)s MB).")
            % {"mb": total // 1048576, "limit": XLSX_MAX_UNCOMPRESSED // 1048576}
        )
    for info in infos:
        if info.file_size > 1_000_000 and info.file_size > XLSX_MAX_RATIO * max(info.compress_size, 1):
            raise FileFormatError(_("The XLSX file has a suspicious compression ratio (a zip bomb)."))
    # The reader also opens binary workbooks (.xlsb) and OpenDocument sheets, whose cells this scan
    # does not read: a workbook is accepted as Office Open XML only.
    names = {i.filename.replace("\\", "/").lower() for i in infos}  # the reader reads "xl\\x" as "xl/x"
    if "xl/workbook.xml" not in names or names & {"xl/workbook.bin", "content.xml"}:
        raise FileFormatError(_("Save the workbook as an Excel .xlsx file (XLSB and ODS are not read)."))
    read = area = filled = 0
    for info in infos:  # every entry: a reader may take "sheet1.xml/" for a file
        read, part_area, part_filled = _inspect_part(archive, info, read)
        area += part_area
        filled += part_filled
        if filled > XLSX_MAX_FILLED:  # dense, yet more than any import reads (DingTalk, 1,000 staff: 0.7 M)
            raise FileFormatError(
                _("The XLSX workbook holds %(cells)s cells (limit %(max_cells)s); split it into smaller files.")
                % {"cells": f"{filled:,}", "max_cells": f"{XLSX_MAX_FILLED:,}"}
            )
        if area > XLSX_MAX_CELLS:  # many sheets, each within the limit, laid out together
            raise FileFormatError(
                _("The XLSX workbook lays out %(cells)s cells in all (limit %(max_cells)s).")
                % {"cells": f"{area:,}", "max_cells": f"{XLSX_MAX_CELLS:,}"}
            )


def _inspect_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo, read: int) -> tuple[int, int, int]:
    """Scan one part for the cells it declares and uses; returns the bytes read so far in all, the
    area the part's sheet lays out and the cells it really holds."""
    import xml.parsers.expat

    scan = _SheetScan()
    parser = xml.parsers.expat.ParserCreate()
    parser.StartElementHandler = scan.start
    parser.StartDoctypeDeclHandler = _refuse_declarations  # no spreadsheet declares a DTD or entities
    parser.EntityDeclHandler = _refuse_declarations
    broken = False
    marked = False
    edge = b""
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(1 << 20):
                read += len(chunk)
                if read > XLSX_MAX_UNCOMPRESSED:  # a header lied about the size
                    raise FileFormatError(_("The XLSX workbook expands beyond the limit."))
                seen = edge + chunk  # a mark split by the chunk boundary is still a mark
                marked = marked or any(mark in seen for mark in _SHEET_MARKS)
                edge = chunk[-16:]
                if not broken:
                    try:
                        parser.Parse(chunk, False)
                    except xml.parsers.expat.ExpatError:
                        broken = True  # not XML (an image), or XML a reader might still read
                if scan.sheet or scan.cells:
                    _check_area(scan.max_row, scan.max_col)
        if not broken:
            try:
                parser.Parse(b"", True)
            except xml.parsers.expat.ExpatError:
                broken = True
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
        raise FileFormatError(_("The XLSX file is damaged: %(error)s") % {"error": exc}) from exc
    if broken and marked:  # sheet data an XML parser cannot read: refused, never guessed at
        raise FileFormatError(_("The XLSX file is damaged: %(error)s") % {"error": info.filename[:80]})
    area = scan.max_row * scan.max_col
    if area > XLSX_SPARSE_AREA and area > XLSX_MAX_SPARSITY * max(scan.cells, 1):
        raise FileFormatError(
            _(
                "The XLSX sheet spans %(cols)s columns × %(rows)s rows but holds only %(cells)s cells; delete the "
                "empty area and export again."
            )
            % {"cols": scan.max_col, "rows": scan.max_row, "cells": scan.cells}
        )
    return read, area, scan.cells


def _check_area(max_row: int, max_col: int) -> None:
    if max_row > XLSX_MAX_ROWS or max_col > XLSX_MAX_COLUMNS or max_row * max_col > XLSX_MAX_CELLS:
        raise FileFormatError(
            _(
                "The XLSX sheet spans %(cols)s columns × %(rows)s rows "
                "(limits: %(max_cols)s columns, %(max_cells)s cells)."
            )
            % {
                "cols": max_col,
                "rows": max_row,
                "max_cols": XLSX_MAX_COLUMNS,
                "max_cells": f"{XLSX_MAX_CELLS:,}",
            }
        )


XLSX_READER_MEMORY_MB = 2048  # the sandboxed reader's address space (100,000 rows × 60 columns fit)
XLSX_READER_SECONDS = 300


def read_xlsx(data: bytes, sheet_name: str | None = None) -> dict[str, list[list[Any]]]:
    """All sheets (or one) of a workbook as rows of cell values.

    Read with calamine (Rust; ADR 0006): about ten times faster than openpyxl on a month of
    DingTalk statistics for 1,000 people, which matters for the import target. The file is
    inspected first, then read in a child process with a memory limit (``xlsx_child``): whatever a
    hostile workbook makes the reader allocate, the web process and the worker survive it and the
    file is refused with a message.
    """
    import os
    import pickle
    import subprocess
    import sys

    inspect_xlsx(data)
    limit = int(os.environ.get("KEFU_XLSX_MEMORY_MB", XLSX_READER_MEMORY_MB))
    try:
        done = subprocess.run(
            [sys.executable, "-m", "kefu.imports.xlsx_child"],
            input=pickle.dumps((data, sheet_name, limit), protocol=pickle.HIGHEST_PROTOCOL),
            capture_output=True,
            timeout=XLSX_READER_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise FileFormatError(_("The XLSX file took too long to read.")) from None
    try:
        status, value = pickle.loads(done.stdout) if done.stdout else ("error", "")  # noqa: S301 (our child's bytes)
    except (pickle.UnpicklingError, EOFError, ValueError):
        status, value = "error", ""
    if status == "ok":
        return value  # type: ignore[return-value]
    if value == "memory" or not value:  # out of memory, or aborted by the reader (a hostile file)
        raise FileFormatError(
            _("The XLSX file cannot be read within %(mb)s MB of memory; export it again as a plain workbook.")
            % {"mb": limit}
        )
    raise FileFormatError(f"XLSX: {value}")


def is_xlsx(data: bytes) -> bool:
    return data[:4] == XLSX_MAGIC


def raw_tables(data: bytes) -> list[tuple[str, list[list[Any]]]]:
    """Every table in the file: one for a CSV, one per sheet for an XLSX."""
    if not data:
        raise FileFormatError(_("The file is empty."))
    if is_xlsx(data):
        return list(read_xlsx(data).items())
    return [("", read_csv(data))]


def sheet_from(raw: list[list[Any]], header_row: int = 1, trailing_rows: int = 0) -> Sheet:
    """Build a Sheet from raw rows, the header being on ``header_row`` (1-based)."""
    if len(raw) < header_row:
        raise FileFormatError(_("No header row found."))
    header = [clean(c) for c in raw[header_row - 1]]
    while header and not header[-1]:
        header.pop()
    rows: list[tuple[int, list[str]]] = []
    for offset, row in enumerate(raw[header_row:], start=header_row + 1):
        if not row or all(c is None or (isinstance(c, str) and not c.strip()) for c in row):
            continue
        rows.append((offset, [c if isinstance(c, str) else clean(c) for c in row]))
    return Sheet(header=header, rows=rows, header_row=header_row)


def iter_records(sheet: Sheet, wanted: dict[str, tuple[str, ...]]) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (row number, {field: cleaned value}) for the fields whose header (or alias) is present."""
    index = sheet.index()
    positions: list[tuple[str, int]] = []
    for fieldname, names in wanted.items():
        for name in names:
            if name in index:
                positions.append((fieldname, index[name]))
                break
    for number, row in sheet.rows:
        n = len(row)
        yield number, {f: clean(row[i]) if i < n else "" for f, i in positions}


def present_fields(sheet: Sheet, wanted: dict[str, tuple[str, ...]]) -> set[str]:
    index = sheet.index()
    return {f for f, names in wanted.items() if any(name in index for name in names)}


def parse_decimal(text: str, *, what: str, blank_is_zero: bool = True, limit: Decimal = MONEY_MAX) -> Decimal:
    """An amount with 2 places; blank → 0 (or an error); never NaN/∞ and never beyond ``limit``
    (what the column holds), so one absurd cell is one bad row, not a broken page later."""
    text = text.replace(",", "").replace("¥", "").replace("¥", "").strip()
    if not text:
        if blank_is_zero:
            return Decimal("0.00")
        raise ValueError(_("%(what)s is blank.") % {"what": what})
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(_("%(what)s is not an amount: %(value)s") % {"what": what, "value": text[:40]}) from None
    if not value.is_finite():
        raise ValueError(_("%(what)s is not an amount: %(value)s") % {"what": what, "value": text[:40]})
    if value < 0:
        raise ValueError(_("%(what)s cannot be negative: %(value)s") % {"what": what, "value": text[:40]})
    if value > limit:
        raise ValueError(
            _("%(what)s exceeds %(limit)s: %(value)s") % {"what": what, "limit": limit, "value": text[:40]}
        )
    return value.quantize(Decimal("0.01"))


MAX_UTC_OFFSET = dt.timedelta(hours=14)  # the widest offset in use (Kiribati); PostgreSQL refuses > 15:59
_DT_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y/%m/%d", "%Y%m%d%H%M%S")


def parse_datetime(text: str, *, what: str) -> dt.datetime | None:
    """A naive local datetime, or None for a blank cell; ValueError naming the field otherwise."""
    text = text.strip()
    if not text or text in {"-", "null", "NULL"}:
        return None
    value = None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        for fmt in _DT_FORMATS:
            try:
                value = dt.datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if value is None:
        raise ValueError(_("%(what)s is not a date and time: %(value)s") % {"what": what, "value": text[:40]})
    if not 2000 <= value.year <= 2100:  # year 1 or 9999: a bad cell, never a stored time
        raise ValueError(_("%(what)s lies outside 2000–2100: %(value)s") % {"what": what, "value": text[:40]})
    offset = value.utcoffset()
    if offset is not None and abs(offset) > MAX_UTC_OFFSET:  # "+23:59": no place on earth
        raise ValueError(_("%(what)s has an impossible UTC offset: %(value)s") % {"what": what, "value": text[:40]})
    return value


INT_CELL_LIMIT = 2_000_000_000  # a count in an export (quantity, items, flag) fits a 32-bit column


def parse_int(text: str, *, what: str, default: int = 0) -> int:
    """A whole number from 0 to ``INT_CELL_LIMIT``; anything else is one bad row."""
    text = text.strip()
    if not text:
        return default
    try:
        value = Decimal(text)
        # int() of 1e999999999 takes minutes: anything beyond 12 digits is out of range unread
        if not value.is_finite() or value.adjusted() > 12 or value != value.to_integral_value():
            raise ValueError(text)
        number = int(value)
    except (InvalidOperation, ValueError):
        raise ValueError(_("%(what)s is not a whole number: %(value)s") % {"what": what, "value": text[:40]}) from None
    if not 0 <= number <= INT_CELL_LIMIT:
        raise ValueError(
            _("%(what)s lies outside 0–%(limit)s: %(value)s")
            % {"what": what, "limit": INT_CELL_LIMIT, "value": text[:40]}
        )
    return number
