"""The task queue: large uploads are imported by the worker; the Redis-backed queue really runs jobs."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from kefu.commerce.models import Order
from kefu.commerce.tasks import orders_import_job
from kefu.core.models import ImportRun

from .conftest import PASSWORD, World
from .samples import legacy_csv, legacy_row

pytestmark = pytest.mark.django_db


@override_settings(KEFU_IMPORT_ASYNC_BYTES=10)
def test_a_large_upload_is_queued_and_imported_by_the_worker(world: World, tmp_path: Path) -> None:
    client = Client()
    client.login(username="lead_a", password=PASSWORD)
    with override_settings(MEDIA_ROOT=tmp_path):
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

    queue = RedisHuey("kefu-test-queue", url="redis://127.0.0.1:6379/15", immediate=False)
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
