"""The desk is live across web processes (issue 9): a message posted to one web process appears
within 1 s in a conversation page served by another — with the embedded default (no Redis: the
request places the message, each stream polls the database every 0.4 s) and in the production shape
(Redis: the request only accepts, the worker places, pub/sub wakes every process at once)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..conftest import test_redis_url
from .conftest import ARGS, CHROMIUM

pytestmark = [pytest.mark.e2e]
ROOT = Path(__file__).resolve().parents[2]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except Exception:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not come up")


@pytest.fixture(params=["embedded", "redis"])
def two_servers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEFU_", "DJANGO_"))}
    env.update(
        {"KEFU_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings.base", "PYTHONPATH": str(ROOT)}
    )
    if request.param == "redis":
        # production shape: the webhook only accepts, the worker (beside the first server) places
        env["KEFU_REDIS_URL"] = test_redis_url(14)
        import redis

        redis.Redis.from_url(env["KEFU_REDIS_URL"]).flushdb()
    kefu = [sys.executable, "-m", "kefu.cli"]
    subprocess.run([*kefu, "demo", "--orders-per-shop", "20"], env=env, cwd=ROOT, check=True, capture_output=True)
    ports = [_port(), _port()]
    procs = [
        subprocess.Popen(
            [*kefu, "serve", "--port", str(p), "--workers", "1"]
            + ([] if request.param == "redis" and p == ports[0] else ["--no-worker"]),
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for p in ports
    ]
    try:
        urls = [f"http://127.0.0.1:{p}" for p in ports]
        for url in urls:
            _wait(url + "/login/")
        yield urls[0], urls[1], tmp_path / "kefu.sqlite3"
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(10)


def test_a_message_posted_to_one_process_appears_in_a_page_of_another_within_a_second(two_servers) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    first, second, db = two_servers
    with sqlite3.connect(db) as conn:
        secret = conn.execute("select secret from desk_channel where code = 'qianniu'").fetchone()[0]
        conv_id, buyer = conn.execute(
            "select c.id, c.buyer from desk_conversation c join org_shop s on s.id = c.shop_id "
            "where s.code = 'haidaochuan' order by c.id limit 1"
        ).fetchone()
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_context(viewport={"width": 390, "height": 800}, locale="zh-CN").new_page()
        page.goto(f"{second}/login/")
        page.fill("input[name=username]", "yz_shouqian")
        page.fill("input[name=password]", "kefu-demo-2026")
        page.click("button[type=submit]")
        page.wait_for_url(f"{second}/")
        page.goto(f"{second}/desk/{conv_id}/")
        page.wait_for_timeout(600)  # the stream is open
        text = f"<i>到货了吗</i> {time.time_ns()}"
        body = json.dumps(
            {
                "messages": [
                    {
                        "external_id": f"live-{time.time_ns()}",
                        "shop": "haidaochuan",
                        "buyer": buyer,
                        "direction": "in",
                        "sent_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
                        "text": text,
                    }
                ]
            }
        ).encode()
        stamp = str(int(time.time()))
        signature = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        request = urllib.request.Request(
            f"{first}/api/v1/desk/webhook/qianniu",
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-Kefu-Signature": f"v2={signature}",
                "X-Kefu-Timestamp": stamp,
            },
        )
        posted = time.monotonic()
        with urllib.request.urlopen(request, timeout=5) as response:
            assert json.loads(response.read())["created"] == 1
        page.get_by_text(text).wait_for(timeout=1000)  # appears as text, never as HTML
        elapsed = time.monotonic() - posted
        assert elapsed < 1.0, elapsed
        assert page.locator("#thread i").count() == 0
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, width
        browser.close()
