"""Shared plumbing for file imports: the run record, the JSON summary, size checks."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from kefu.imports.tabular import MAX_ROWS_WITH_CELLS

from . import clock
from .errors import ApplicationError
from .events import event_record
from .models import ImportRun

log = logging.getLogger(__name__)


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)
    fmt: str = ""
    run_id: int | None = None
    # row number → the row's cells as the file had them: rows a service refuses after parsing
    # (outside the actor's scope, an unknown shift …) are offered for download with their cells too
    cells_of: Callable[[int], Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "failed": sorted(self.failed, key=lambda f: f["row"]),
        }

    def fail(self, row: int, reason: str, cells: Any = None) -> None:
        """A row that was not imported, with its cells as the file had them (to fix and re-import);
        past ``MAX_ROWS_WITH_CELLS`` failed rows, the number and the reason only."""
        entry: dict[str, Any] = {"row": row, "reason": reason}
        if len(self.failed) >= MAX_ROWS_WITH_CELLS:
            cells = None
        elif not cells and self.cells_of is not None and row > 0:
            cells = self.cells_of(row)
        if cells:
            # [header, value] pairs, in the file's column order (a JSON object would not keep it on
            # PostgreSQL, whose jsonb orders keys its own way)
            pairs = cells.items() if isinstance(cells, dict) else cells
            entry["cells"] = [[str(name), str(value)] for name, value in pairs]
        self.failed.append(entry)

    def progress(self, done: int, total: int) -> None:
        """Record how far the import is (the imports page shows it while the worker runs)."""
        if self.run_id is not None:
            ImportRun.objects.filter(pk=self.run_id).update(rows_done=min(done, total), rows_total=total)

    def counts(self) -> tuple[int, int, int, int]:
        return self.created, self.updated, self.unchanged, len(self.failed)

    def restore(self, counts: tuple[int, int, int, int]) -> None:
        """Undo a rolled-back chunk's tallies before it is run again."""
        self.created, self.updated, self.unchanged = counts[:3]
        del self.failed[counts[3] :]


def check_upload(data: bytes, file_name: str) -> None:
    if len(data) > settings.KEFU_IMPORT_MAX_BYTES:
        raise ApplicationError(
            "import_too_large",
            _("The file is larger than %(mb)s MB.") % {"mb": settings.KEFU_IMPORT_MAX_BYTES // 1048576},
        )
    if not data:
        raise ApplicationError("import_empty", _("The file is empty."))
    lowered = file_name.lower()
    if lowered and not lowered.endswith((".csv", ".xlsx", ".txt")):
        raise ApplicationError("import_file_type", _("Only CSV or XLSX files are accepted."))


def run_start(*, kind: str, file_name: str, data: bytes, actor: Any, params: dict[str, Any]) -> ImportRun:
    user = actor if getattr(actor, "is_authenticated", False) else None
    return ImportRun.objects.create(
        kind=kind,
        file_name=file_name[:255],
        sha256=hashlib.sha256(data).hexdigest(),
        started_at=clock.now(),
        actor=user,
        params=params,
    )


def run_finish(run: ImportRun, summary: ImportSummary, *, actor: Any) -> None:
    run.created, run.updated, run.unchanged = summary.created, summary.updated, summary.unchanged
    run.failed = sorted(summary.failed, key=lambda f: f["row"])
    run.fmt = summary.fmt
    run.finished_at = clock.now()
    ImportRun.objects.filter(pk=run.pk).update(
        created=run.created,
        updated=run.updated,
        unchanged=run.unchanged,
        failed=run.failed,
        fmt=run.fmt,
        finished_at=run.finished_at,
    )
    summary.run_id = run.pk
    event_record(
        actor=actor,
        verb=f"import.{run.kind}",
        subject=run,
        data={**summary.as_dict(), "failed": len(summary.failed), "file": run.file_name, "format": run.fmt},
    )


@contextmanager
def import_run(
    *, kind: str, file_name: str, data: bytes, actor: Any, params: dict[str, Any]
) -> Iterator[ImportSummary]:
    """An import's run record, always finished: on success with the summary, on a crash with the
    crash recorded (the run, an ``import.crashed`` audit event) before the error propagates.
    Chunks committed before the crash stay (their rows are good and each has its event)."""
    run = run_start(kind=kind, file_name=file_name, data=data, actor=actor, params=params)
    summary = ImportSummary(run_id=run.pk)
    try:
        yield summary
    except ApplicationError:
        run_finish(run, summary, actor=actor)
        raise
    except MemoryError:
        # a file that needs more memory than the process may use: refused like a malformed one,
        # its run finished and the crash on record (the rows committed before it stay)
        summary.failed = summary.failed[:MAX_ROWS_WITH_CELLS]
        summary.fail(0, _("The file needs more memory than an import may use; split it into smaller files."))
        run_finish(run, summary, actor=actor)
        event_record(
            actor=actor, verb="import.crashed", subject=run, data={"file": run.file_name, "error": "MemoryError"}
        )
        raise ApplicationError(
            "import_too_large", _("The file needs more memory than an import may use; split it into smaller files.")
        ) from None
    except Exception as exc:
        log.exception("import %s #%s crashed", kind, run.pk)
        summary.fail(0, _("The import stopped (%(error)s); the rows before were kept.") % {"error": type(exc).__name__})
        run_finish(run, summary, actor=actor)
        event_record(
            actor=actor, verb="import.crashed", subject=run, data={"file": run.file_name, "error": type(exc).__name__}
        )
        raise
    else:
        run_finish(run, summary, actor=actor)
