"""The task queue: large uploads are imported by the worker; the Redis-backed queue really runs jobs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from kefu.commerce.models import Order
from kefu.commerce.tasks import orders_import_job
from kefu.core.models import ImportRun

from .conftest import PASSWORD, World, test_redis_url
from .samples import legacy_csv, legacy_row

pytestmark = pytest.mark.django_db


@override_settings(KEFU_IMPORT_ASYNC_BYTES=10)
def test_a_large_upload_is_queued_and_imported_by_the_worker(
    world: World, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    client = Client()
    client.login(username="lead_a", password=PASSWORD)
    with override_settings(MEDIA_ROOT=tmp_path), django_capture_on_commit_callbacks(execute=True):
        upload = SimpleUploadedFile("ExportOrderList.csv", legacy_csv([legacy_row("7001"), legacy_row("7002")]))
        response = client.post("/imports/", {"kind": "orders", "shop": world.shop_a.pk, "file": upload})
    assert response.status_code == 302 and response["Location"] == "/imports/"
    run = ImportRun.objects.get(file_name="ExportOrderList.csv")
    assert run.created == 2 and run.actor == world.lead_a and run.finished_at is not None
    assert Order.objects.filter(shop=world.shop_a, order_no__in=["7001", "7002"]).count() == 2
    assert list((tmp_path / "imports").iterdir()) == []  # the stored upload is removed afterwards


def test_a_failed_queued_import_is_recorded(world: World, tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    path.write_bytes(b"nothing,useful\r\n1,2\r\n")
    result = orders_import_job(shop_id=world.shop_a.pk, path=str(path), file_name="broken.csv", user_id=None)
    assert result["error"]["error"]["code"] == "import_format"  # type: ignore[index]
    assert not path.exists()


def test_the_redis_queue_runs_a_real_job(world: World, tmp_path: Path) -> None:
    """Production uses RedisHuey: enqueue through Redis on 127.0.0.1:6379 and execute as the consumer does."""
    import redis

    try:
        redis.Redis(host="127.0.0.1", port=6379).ping()
    except redis.exceptions.ConnectionError:
        pytest.fail("Redis is not running on 127.0.0.1:6379 (CI starts it)")
    from huey import RedisHuey

    queue = RedisHuey("kefu-test-queue", url=test_redis_url(15), immediate=False)
    queue.flush()
    job = queue.task()(orders_import_job)
    path = tmp_path / "orders.csv"
    path.write_bytes(legacy_csv([legacy_row("9101")]))
    handle = job(shop_id=world.shop_a.pk, path=str(path), file_name="orders.csv", user_id=None)
    assert len(queue) == 1 and not Order.objects.filter(order_no="9101").exists()
    task = queue.dequeue()
    queue.execute(task)
    assert handle.get() == {"created": 1, "updated": 0, "unchanged": 0, "failed": []}
    assert Order.objects.filter(order_no="9101", shop=world.shop_a).exists()
    queue.flush()


# --- issue 16 §9: a worker killed mid-import -------------------------------------------------------


def _queued(world: World, tmp_path: Path, numbers: list[str]) -> ImportRun:
    from kefu.commerce.services import orders_import_queue

    data = legacy_csv([legacy_row(n) for n in numbers])
    with override_settings(MEDIA_ROOT=tmp_path):
        return orders_import_queue(actor=world.lead_a, shop=world.shop_a, chunks=iter([data]), file_name="big.csv")


def test_a_queued_import_is_shown_at_once_and_resumed_once_its_worker_died(
    world: World, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    """The worker takes the run up (attempt 1), imports the first order and is killed (kill -9: no
    except, no finally). Its run stops beating: 300 s later the sweep puts it on the queue again and
    the second attempt imports the whole file — the order imported before the crash counts as
    unchanged, none twice — and deletes the stored file."""
    import datetime as dt

    import time_machine

    from kefu.commerce.services import orders_import
    from kefu.core import clock, imports
    from kefu.core.events import Event

    run = _queued(world, tmp_path, ["8101", "8102", "8103"])
    assert run.finished_at is None and run.attempt == 0  # on the imports page at once
    with override_settings(MEDIA_ROOT=tmp_path):
        taken = imports.queued_take(run.pk)
        assert taken is not None
        assert imports.queued_take(run.pk) is None  # the same run delivered twice: taken once
        orders_import(actor=world.lead_a, shop=world.shop_a, data=legacy_csv([legacy_row("8101")]), file_name="x.csv")
        # ... killed here. Within the stall window nothing happens:
        assert imports.sweep() == {"resumed": 0, "failed": 0, "files_deleted": 0}
        with (
            time_machine.travel(clock.now() + dt.timedelta(seconds=301)),
            django_capture_on_commit_callbacks(execute=True),
        ):
            assert imports.sweep() == {"resumed": 1, "failed": 0, "files_deleted": 0}
            assert imports.sweep()["resumed"] == 0  # claimed: a second sweep does not take it again
    run.refresh_from_db()
    assert run.finished_at is not None and run.attempt == 2
    assert (run.created, run.unchanged, run.failed) == (2, 1, [])
    assert Order.objects.filter(order_no__in=["8101", "8102", "8103"]).count() == 3
    assert list((tmp_path / "imports").iterdir()) == []
    assert Event.objects.filter(verb="import.resumed", subject_id=str(run.pk)).count() == 1


def test_an_import_whose_worker_keeps_dying_fails_visibly_and_its_file_is_deleted(world: World, tmp_path: Path) -> None:
    import datetime as dt

    import time_machine

    from kefu.core import clock, imports
    from kefu.core.events import Event

    run = _queued(world, tmp_path, ["8201"])
    with override_settings(MEDIA_ROOT=tmp_path):
        for attempt in range(1, imports.MAX_ATTEMPTS + 1):
            assert imports.queued_take(run.pk, attempt) is not None  # taken up, and killed each time
        with time_machine.travel(clock.now() + dt.timedelta(seconds=301)):
            assert imports.sweep() == {"resumed": 0, "failed": 1, "files_deleted": 0}
    run.refresh_from_db()
    assert run.finished_at is not None and [f["row"] for f in run.failed] == [0]
    assert run.failed[0]["reason"] and run.failed[0]["reason"] == run.failed[-1]["reason"]
    assert list((tmp_path / "imports").iterdir()) == []
    assert Event.objects.filter(verb="import.crashed", subject_id=str(run.pk)).exists()
    assert not Order.objects.filter(order_no="8201").exists()


def test_a_stalled_import_without_a_file_is_failed_and_stray_files_are_cleaned(world: World, tmp_path: Path) -> None:
    """A web process killed during an in-request import leaves a run with no stored file: failed.
    An upload file no run waits for (its run deleted, a crash before the run) goes after a day."""
    import datetime as dt
    import os

    import time_machine

    from kefu.core import clock, imports

    run = imports.run_start(kind="staff", file_name="staff.xlsx", data=b"x", actor=world.supervisor, params={})
    with override_settings(MEDIA_ROOT=tmp_path):
        stray = tmp_path / "imports" / "0123abcd.csv"
        stray.parent.mkdir(parents=True, exist_ok=True)
        stray.write_bytes(b"x")
        old = (clock.now() - dt.timedelta(days=2)).timestamp()
        os.utime(stray, (old, old))
        with time_machine.travel(clock.now() + dt.timedelta(seconds=301)):
            assert imports.sweep() == {"resumed": 0, "failed": 1, "files_deleted": 1}
    run.refresh_from_db()
    assert run.finished_at is not None and run.failed[0]["row"] == 0 and not stray.exists()


def test_a_queued_run_waiting_past_the_stall_window_is_imported_once(
    world: World, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    """A backlog (or a worker down) leaves a queued run untaken past the stall window: the sweep
    queues it again, and of the two deliveries only the first imports; the other finds it taken."""
    import datetime as dt

    import time_machine

    from kefu.commerce.tasks import orders_import_run_job
    from kefu.core import clock, imports

    run = _queued(world, tmp_path, ["8301", "8302"])
    with override_settings(MEDIA_ROOT=tmp_path):
        with (
            time_machine.travel(clock.now() + dt.timedelta(seconds=301)),
            django_capture_on_commit_callbacks(execute=True),
        ):
            assert imports.sweep()["resumed"] == 1  # runs attempt 1 (the queue is immediate in tests)
        assert orders_import_run_job(run.pk, 1) == {"skipped": run.pk}  # the first delivery, late
    run.refresh_from_db()
    assert (run.attempt, run.created, run.failed) == (1, 2, []) and run.finished_at is not None


def test_an_attempt_the_sweep_replaced_stops_at_its_next_chunk(
    world: World, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    """The review made the sweep take a run still importing (a stall window shorter than its work):
    both attempts ran at once and the run record ended wrong. Now the older attempt finds at its
    next beat that a later attempt holds the run and stops without finishing it; the run is the
    new attempt's, each order once."""
    from kefu.commerce.services import orders_import
    from kefu.core import imports

    run = _queued(world, tmp_path, ["8401", "8402"])
    data = legacy_csv([legacy_row("8401"), legacy_row("8402")])
    with override_settings(MEDIA_ROOT=tmp_path):
        assert imports.queued_take(run.pk, 1) is not None  # worker 1 takes it …
        assert imports.queued_take(run.pk, 2) is not None  # … and the sweep's attempt 2 takes it over
        with pytest.raises(imports.Superseded):
            orders_import(
                actor=world.lead_a, shop=world.shop_a, data=data, file_name="big.csv", run_id=run.pk, attempt=1
            )
        summary = orders_import(
            actor=world.lead_a, shop=world.shop_a, data=data, file_name="big.csv", run_id=run.pk, attempt=2
        )
    run.refresh_from_db()
    assert summary.created == 2 and (run.attempt, run.created) == (2, 2) and run.finished_at is not None
    assert Order.objects.filter(order_no__in=["8401", "8402"]).count() == 2
    # and an attempt replaced while it imports stops between chunks
    from kefu.core.imports import ImportSummary

    beat = ImportSummary(run_id=run.pk, attempt=1)
    with pytest.raises(imports.Superseded):
        beat.progress(1, 2)
