"""The XLSX reader's sandbox: ``python -m kefu.imports.xlsx_child`` reads one workbook from stdin
and writes its sheets to stdout, inside an address-space limit.

calamine (Rust) aborts the whole process when an allocation fails, and a few kilobytes of XLSX can
ask it for hundreds of gigabytes in ways no inspection can list in advance (a dense range laid out
from two far cells, a shared-string table declaring four billion entries, a binary workbook read in
its place …). The inspection before it refuses the known shapes with a clear message; this process
makes every other one a refused file instead of a dead web worker (ADR 0006). Pure Python: no
Django is imported here.

Protocol: stdin is a pickle of ``(data: bytes, sheet_name: str | None, limit_mb: int)``; stdout a
pickle of ``("ok", {sheet: rows})`` or ``("error", message)``. Only the parent writes stdin, and
only this process writes stdout.
"""

from __future__ import annotations

import io
import pickle
import resource
import sys
from typing import Any


def _read(data: bytes, sheet_name: str | None) -> dict[str, list[list[Any]]]:
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    names = [n for n in wb.sheet_names if sheet_name is None or n == sheet_name]
    return {name: wb.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in names}


def main() -> None:
    data, sheet_name, limit_mb = pickle.loads(sys.stdin.buffer.read())  # noqa: S301 (our parent's bytes)
    if limit_mb > 0:
        limit = limit_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        answer: tuple[str, Any] = ("ok", _read(data, sheet_name))
    except MemoryError:
        answer = ("error", "memory")
    except BaseException as exc:  # calamine raises its own errors, and Rust panics
        answer = ("error", f"{type(exc).__name__}: {exc}"[:300])
    sys.stdout.buffer.write(pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL))


if __name__ == "__main__":
    main()
