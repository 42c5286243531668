"""Background jobs for commerce data (Huey: Redis in production, SQLite when embedded)."""

from __future__ import annotations

import logging
from pathlib import Path

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from huey.contrib.djhuey import db_task

from kefu.commerce.rules import Verb
from kefu.core import imports
from kefu.core.errors import ApplicationError
from kefu.core.events import SystemActor, event_record
from kefu.org.models import Shop

from .services import orders_import

log = logging.getLogger(__name__)


def orders_import_job(*, shop_id: int, path: str, file_name: str, user_id: int | None) -> dict[str, object]:
    """Import a stored upload, then delete it. The run and its rows are recorded by the service."""
    file = Path(path)
    actor = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    try:
        shop = Shop.objects.get(pk=shop_id)
        summary = orders_import(
            actor=actor or SystemActor("worker"), shop=shop, data=file.read_bytes(), file_name=file_name
        )
        return summary.as_dict()
    except ApplicationError as exc:
        event_record(
            actor=actor or SystemActor("worker"),
            verb=Verb.IMPORT_ORDERS_FAILED,
            data={"file": file_name, "code": exc.code, "message": str(exc.message)},
        )
        log.warning("queued import of %s failed: %s", file_name, exc.message)
        return {"error": exc.as_dict()}
    finally:
        file.unlink(missing_ok=True)


def orders_import_run_job(run_id: int, attempt: int = 1) -> dict[str, object]:
    """Take up attempt ``attempt`` of a queued run (``services.orders_import_queue``), import its file,
    delete the file. Killed midway, the run keeps its file and stops beating: the sweep puts it on
    the queue again as the next attempt."""
    taken = imports.queued_take(run_id, attempt)
    if taken is None:
        return {"skipped": run_id}
    run, data = taken
    actor = run.actor or SystemActor("worker")
    try:
        shop = Shop.objects.get(pk=run.params["shop"])
        summary = orders_import(
            actor=actor, shop=shop, data=data, file_name=run.file_name, run_id=run.pk, attempt=attempt
        )
        return summary.as_dict()
    except imports.Superseded:
        log.warning("queued import run %s attempt %s stopped: a later attempt took it", run_id, attempt)
        return {"superseded": run_id}
    except (ApplicationError, Shop.DoesNotExist) as exc:
        message = str(exc.message) if isinstance(exc, ApplicationError) else _("The shop no longer exists.")
        imports.run_abandon(run, message, actor=actor)
        log.warning("queued import of %s failed: %s", run.file_name, message)
        return {"error": message}
    finally:
        if imports.still_mine(run, attempt):  # a later attempt, taken meanwhile, keeps its file
            imports.queued_done(run)


@db_task(retries=0)
def orders_import_run_task(run_id: int, attempt: int = 1) -> dict[str, object]:
    return orders_import_run_job(run_id, attempt)


@db_task(retries=0)
def orders_import_task(shop_id: int, path: str, file_name: str, user_id: int | None) -> dict[str, object]:
    """(Tasks queued before runs were opened at upload; new uploads use ``orders_import_run_task``.)"""
    return orders_import_job(shop_id=shop_id, path=path, file_name=file_name, user_id=user_id)
