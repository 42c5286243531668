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

from kefu.core.rules import Verb
from kefu.imports.tabular import MAX_ROWS_WITH_CELLS

from . import clock
from .actors import Actor, user_of
from .errors import ApplicationError
from .events import event_record
from .models import ImportRun

log = logging.getLogger(__name__)


class Superseded(Exception):
    """A queued import's later attempt has taken the run: this one stops without finishing it."""


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)
    fmt: str = ""
    run_id: int | None = None
    # a queued run's attempt this import is (None: not queued): its beats hold the run only while no
    # later attempt has taken it
    attempt: int | None = None
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
        """Record how far the import is (the imports page shows it while the worker runs) — the run's
        heartbeat. A queued attempt that a later attempt has taken over (the sweep judged it dead)
        stops here, between chunks: ``Superseded``, the run left to the new attempt (the chunks it
        committed are idempotent: the new attempt counts them as unchanged)."""
        if self.run_id is None:
            return
        runs = ImportRun.objects.filter(pk=self.run_id)
        if self.attempt is not None:
            runs = runs.filter(attempt=self.attempt)
        if not runs.update(rows_done=min(done, total), rows_total=total, heartbeat_at=clock.now()):
            raise Superseded(self.run_id)

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


def run_start(*, kind: str, file_name: str, data: bytes, actor: Actor, params: dict[str, Any]) -> ImportRun:
    user = user_of(actor)
    now = clock.now()
    return ImportRun.objects.create(
        kind=kind,
        file_name=file_name[:255],
        sha256=hashlib.sha256(data).hexdigest(),
        started_at=now,
        heartbeat_at=now,
        actor=user,
        params=params,
    )


def run_finish(run: ImportRun, summary: ImportSummary, *, actor: Actor) -> None:
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
    *,
    kind: str,
    file_name: str,
    data: bytes,
    actor: Actor,
    params: dict[str, Any],
    run_id: int | None = None,
    attempt: int | None = None,
) -> Iterator[ImportSummary]:
    """An import's run record, always finished: on success with the summary, on a crash with the
    crash recorded (the run, an ``import.crashed`` audit event) before the error propagates.
    Chunks committed before the crash stay (their rows are good and each has its event).
    ``run_id``: a queued run (``queue_file``) taken up, or taken up again after its worker died —
    its counts start over (rows imported before the crash count as unchanged: imports are idempotent)."""
    if run_id is not None:
        mine = ImportRun.objects.filter(pk=run_id, finished_at__isnull=True)
        if attempt is not None:
            mine = mine.filter(attempt=attempt)
        if not mine.update(created=0, updated=0, unchanged=0, failed=[], heartbeat_at=clock.now()):
            raise Superseded(run_id)  # a later attempt holds the run (or it is finished)
        run = ImportRun.objects.get(pk=run_id)
    else:
        run = run_start(kind=kind, file_name=file_name, data=data, actor=actor, params=params)
    summary = ImportSummary(run_id=run.pk, attempt=attempt)
    try:
        yield summary
    except Superseded:
        raise  # the run belongs to a later attempt now: nothing here finishes it
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
            actor=actor, verb=Verb.IMPORT_CRASHED, subject=run, data={"file": run.file_name, "error": "MemoryError"}
        )
        raise ApplicationError(
            "import_too_large", _("The file needs more memory than an import may use; split it into smaller files.")
        ) from None
    except Exception as exc:
        log.exception("import %s #%s crashed", kind, run.pk)
        summary.fail(0, _("The import stopped (%(error)s); the rows before were kept.") % {"error": type(exc).__name__})
        run_finish(run, summary, actor=actor)
        event_record(
            actor=actor,
            verb=Verb.IMPORT_CRASHED,
            subject=run,
            data={"file": run.file_name, "error": type(exc).__name__},
        )
        raise
    else:
        run_finish(run, summary, actor=actor)


# --- queued imports and the sweep (issue 16 §9) -------------------------------------------------------

MAX_ATTEMPTS = 2  # a queued import is taken up again once after its worker died, then failed
_resumers: dict[str, Callable[[int, int], None]] = {}


def resumer(kind: str, enqueue: Callable[[int, int], None]) -> None:
    """An app says how a queued run of ``kind`` is put on the queue (its id, the attempt to make)."""
    _resumers[kind] = enqueue


def _folder() -> Any:
    from pathlib import Path

    folder = Path(settings.MEDIA_ROOT) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def queue_file(
    *, kind: str, file_name: str, chunks: Iterator[bytes], actor: Actor, params: dict[str, Any]
) -> ImportRun:
    """Store an upload under a name of ours and open its run at once (shown on the imports page as
    running); the caller puts ``run.pk`` on the queue after commit."""
    import uuid
    from pathlib import Path

    stored = f"{uuid.uuid4().hex}{Path(file_name).suffix.lower()}"  # never the client's name
    digest = hashlib.sha256()
    with (_folder() / stored).open("wb") as out:
        for chunk in chunks:
            digest.update(chunk)
            out.write(chunk)
    user = user_of(actor)
    now = clock.now()
    return ImportRun.objects.create(
        kind=kind,
        file_name=file_name[:255],
        sha256=digest.hexdigest(),
        started_at=now,
        heartbeat_at=now,
        actor=user,
        params={**params, "file": stored},
    )


def queued_take(run_id: int, attempt: int = 1) -> tuple[ImportRun, bytes] | None:
    """A worker takes up attempt ``attempt`` of a queued run: one conditional UPDATE (the run still at
    the attempt before, unfinished) claims it and beats; then the file is read. None when another
    worker took it (the same run queued twice), it is finished, or its file is gone."""
    if not ImportRun.objects.filter(pk=run_id, finished_at__isnull=True, attempt=attempt - 1).update(
        attempt=attempt, heartbeat_at=clock.now()
    ):
        return None
    run = ImportRun.objects.select_related("actor").get(pk=run_id)
    path = _folder() / str(run.params.get("file", ""))
    if not run.params.get("file") or not path.is_file():
        run_abandon(run, _("The uploaded file was lost before it could be imported; upload it again."))
        return None
    return run, path.read_bytes()


def still_mine(run: ImportRun, attempt: int) -> bool:
    return ImportRun.objects.filter(pk=run.pk, attempt=attempt).exists()


def queued_done(run: ImportRun) -> None:
    """The stored file of a queued run is deleted once the run has ended, however it ended."""
    if run.params.get("file"):
        (_folder() / str(run.params["file"])).unlink(missing_ok=True)


def run_abandon(run: ImportRun, reason: str, *, actor: Actor = None) -> None:
    """Finish a run that cannot go on: the reason as row 0, an ``import.crashed`` event, its file deleted."""
    from .events import SystemActor

    summary = ImportSummary(
        created=run.created, updated=run.updated, unchanged=run.unchanged, failed=list(run.failed), run_id=run.pk
    )
    summary.fail(0, reason)
    who = actor or run.actor or SystemActor("imports")
    if ImportRun.objects.filter(pk=run.pk, finished_at__isnull=True).exists():
        run_finish(run, summary, actor=who)
        event_record(actor=who, verb=Verb.IMPORT_CRASHED, subject=run, data={"file": run.file_name, "error": reason})
    queued_done(run)


def sweep(*, stall_seconds: int | None = None) -> dict[str, int]:
    """Runs whose process stopped beating (a worker or web process killed mid-import): a queued run
    with its file is put on the queue again (``MAX_ATTEMPTS`` in all); any other is finished as
    failed with its reason, its file deleted. Each run is claimed by a conditional UPDATE of its
    heartbeat, so two sweeps never take up the same run. Stored files no run is waiting for are
    deleted after a day."""
    import datetime as dt

    from django.db import transaction

    from .events import SystemActor

    stall = stall_seconds if stall_seconds is not None else settings.KEFU_IMPORT_STALL_SECONDS
    now = clock.now()
    cutoff = now - dt.timedelta(seconds=stall)
    result = {"resumed": 0, "failed": 0, "files_deleted": 0}
    for run in ImportRun.objects.filter(finished_at__isnull=True, heartbeat_at__lt=cutoff).select_related("actor"):
        if not ImportRun.objects.filter(pk=run.pk, heartbeat_at=run.heartbeat_at).update(heartbeat_at=now):
            continue  # another sweep, or the run itself, beat first
        stored = run.params.get("file")
        enqueue = _resumers.get(run.kind)
        if stored and enqueue is not None and run.attempt < MAX_ATTEMPTS and (_folder() / str(stored)).is_file():
            # never taken (a backlog, a worker down): attempt 1 again — whichever delivery comes first
            # takes it, the other finds it taken; taken and stopped: the next attempt
            following = run.attempt + 1
            with transaction.atomic():
                event_record(
                    actor=SystemActor("imports"),
                    verb=Verb.IMPORT_RESUMED,
                    subject=run,
                    data={"file": run.file_name, "attempt": following, "rows_done": run.rows_done},
                )
                transaction.on_commit(lambda pk=run.pk, go=enqueue, n=following: go(pk, n))  # type: ignore[misc]
            result["resumed"] += 1
        else:
            run_abandon(
                run,
                _(
                    "The import stopped when the process running it ended; the rows before were kept. "
                    "Import the file again."
                ),
                actor=SystemActor("imports"),
            )
            result["failed"] += 1
    waiting = {
        str(p.get("file"))
        for p in ImportRun.objects.filter(finished_at__isnull=True).values_list("params", flat=True)
        if isinstance(p, dict)
    }
    for path in _folder().iterdir():
        if path.name not in waiting and path.stat().st_mtime < (now - dt.timedelta(days=1)).timestamp():
            path.unlink(missing_ok=True)
            result["files_deleted"] += 1
    return result
