"""Fault tests on the production shape (issue 16 §5), run by CI after the suites (`make faults`).

PostgreSQL, Redis, `kefu serve` (uvicorn workers) and separate `kefu worker` processes, as in
docs/deploy.md. Three faults, each checked for "nothing lost, nothing twice, never a 500":

1. **kill -9 of the worker mid-import**: a queued 40,000-order export; the worker is killed once
   rows are going in. A new worker and the sweep take the run up again; every order is there once,
   the run is finished with no failed row, its stored file is deleted.
2. **kill -9 of the worker mid-placement**: 4,000 messages accepted by the webhook; the worker is
   killed while placing them. A new worker places the rest; every accepted message is in its
   conversation once.
3. **PostgreSQL restarted under load**: webhook pushes and page loads keep coming while PostgreSQL
   restarts. Requests meeting the outage get 503 with Retry-After (never a 500); every message
   acknowledged with 200 is stored; once it is back, every request succeeds again without a
   restart of the web server.

(Redis unreachable is in the suite: tests/test_faults.py.) Prints one JSON line; exits 1 on a failure.

    .venv/bin/python scripts/faults.py [--skip-restart]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DB = "kefu_faults"
REDIS = "redis://127.0.0.1:6379/13"
PORT = 8137
BASE = f"http://127.0.0.1:{PORT}"
failures: list[str] = []


def check(ok: bool, what: str) -> None:
    print(("  ok   " if ok else "  FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def wait_for(predicate: Any, seconds: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


class Processes:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log.open("a")
        self.running: list[subprocess.Popen[bytes]] = []

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, "-m", "kefu.cli", *args],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.running.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.running:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.running:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def post_signed(channel: tuple[str, str], messages: list[dict[str, Any]]) -> int:
    code, secret = channel
    body = json.dumps({"messages": messages}).encode()
    stamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(
        f"{BASE}/api/v1/desk/webhook/{code}",
        data=body,
        headers={"Content-Type": "application/json", "X-Kefu-Signature": f"v2={digest}", "X-Kefu-Timestamp": stamp},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.loads(response.read())
            # 200 with a failed message is not an acknowledgement of it
            return int(response.status) if not answer.get("failed") else 422
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0


def get(path: str, headers: dict[str, str]) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(BASE + path, headers=headers), timeout=30) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0


def message(ext: str, shop: str, n: int) -> dict[str, Any]:
    return {
        "external_id": ext,
        "shop": shop,
        "buyer": f"fault_buyer_{n % 300}",
        "direction": "in",
        "kind": "text",
        "sent_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
        "text": f"在吗 {n}",
    }


def user_by_username(username: str) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)


def fault_import(procs: Processes, worker: subprocess.Popen[bytes]) -> subprocess.Popen[bytes]:
    from kefu.commerce.models import Order
    from kefu.commerce.services import orders_import_queue
    from kefu.core import imports
    from kefu.core.events import Event
    from kefu.core.models import ImportRun
    from kefu.demo import generate
    from kefu.org.models import Shop
    from kefu.org.services import shop_create

    print("1. kill -9 of the worker mid-import", flush=True)
    count = 40_000
    boss = user_by_username("zhuguan")
    shop = Shop.objects.filter(code="fault").first() or shop_create(actor=boss, name="故障店", code="fault")
    rows, _ = generate.order_rows(shop_code="fault", shop_name="故障店", count=count)
    data = generate.to_csv(generate.LEGACY_HEADER, rows)
    run = orders_import_queue(actor=boss, shop=shop, chunks=iter([data]), file_name="fault-orders.csv")
    stored = Path(imports._folder()) / run.params["file"]
    started = wait_for(lambda: ImportRun.objects.get(pk=run.pk).rows_done > 2_000, 120, 0.05)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(10)
    run.refresh_from_db()
    check(started and run.finished_at is None, f"killed mid-import at row {run.rows_done:,} of {count:,}")
    check(stored.is_file(), "the stored file survives the kill")
    before = Order.objects.filter(shop=shop).count()
    worker = procs.start("worker")
    time.sleep(4)
    swept = imports.sweep(stall_seconds=3)
    check(swept["resumed"] == 1, f"the sweep takes the run up again ({swept})")
    finished = wait_for(lambda: ImportRun.objects.get(pk=run.pk).finished_at is not None, 240, 0.5)
    run.refresh_from_db()
    check(finished, "the resumed run finished")
    check(not run.failed, f"no failed row ({run.failed[:2]})")
    check(Order.objects.filter(shop=shop).count() == count, f"{count:,} orders, each once (had {before:,} at the kill)")
    check(run.created + run.unchanged == count, f"created {run.created:,} + unchanged {run.unchanged:,} = {count:,}")
    # The worker deletes the file just after the run's finishing commit: allow it that moment.
    check(wait_for(lambda: not stored.exists(), 10, 0.05), "the stored file is deleted")
    check(Event.objects.filter(verb="import.resumed", subject_id=str(run.pk)).count() == 1, "import.resumed on record")
    return worker


def fault_placement(
    procs: Processes, worker: subprocess.Popen[bytes], channel: tuple[str, str]
) -> subprocess.Popen[bytes]:
    from kefu.desk.models import InboundMessage, Message

    print("2. kill -9 of the worker mid-placement", flush=True)
    before = Message.objects.count()
    total, batch = 4_000, 200
    statuses = [
        post_signed(channel, [message(f"kill-{i}-{j}", "haidaochuan", i * batch + j) for j in range(batch)])
        for i in range(total // batch)
    ]
    check(statuses.count(200) == len(statuses), f"{total:,} messages accepted ({sorted(set(statuses))})")
    placing = wait_for(lambda: Message.objects.count() - before > 200, 60, 0.02)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(10)
    placed_at_kill = Message.objects.count() - before
    check(placing and placed_at_kill < total, f"killed mid-placement ({placed_at_kill:,} of {total:,} placed)")
    worker = procs.start("worker")
    post_signed(channel, [message("kill-wake", "haidaochuan", 0)])  # traffic goes on: the next request wakes the worker
    done = wait_for(lambda: not InboundMessage.objects.filter(placed_at__isnull=True).exists(), 120, 0.5)
    check(done, "every accepted message placed after the restart")
    stored = Message.objects.filter(external_id__startswith="kill-")
    check(stored.count() == total + 1, f"{stored.count():,} messages stored = {total + 1:,} accepted")
    distinct = stored.values("external_id").distinct().count()
    check(distinct == stored.count(), "none twice")
    return worker


def signed_in_cookie(username: str) -> str:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    user = user_by_username(username)
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return f"sessionid={store.session_key}"


def fault_restart(channel: tuple[str, str], token: str) -> None:
    from kefu.desk.models import InboundMessage

    print("3. PostgreSQL restarted under load", flush=True)
    stop = threading.Event()
    lock = threading.Lock()
    results: list[tuple[float, str, int]] = []
    acknowledged: list[str] = []

    def pusher(tag: str) -> None:
        n = 0
        while not stop.is_set():
            ext = f"restart-{tag}-{n}"
            status = post_signed(channel, [message(ext, "haidaochuan", n)])
            with lock:
                results.append((time.monotonic(), "webhook", status))
                if status == 200:
                    acknowledged.append(ext)
            n += 1
            time.sleep(0.05)

    cookie = signed_in_cookie("yz_zuzhang")

    def reader() -> None:
        while not stop.is_set():
            status = get("/api/v1/orders?limit=20", {"Authorization": f"Bearer {token}"})
            page = get("/orders/", {"Cookie": cookie})  # a signed-in page: the session itself is in the database
            with lock:
                results.append((time.monotonic(), "api", status))
                results.append((time.monotonic(), "page", page))
            time.sleep(0.05)

    threads = [threading.Thread(target=pusher, args=(t,)) for t in ("a", "b")] + [
        threading.Thread(target=reader) for _ in range(2)
    ]
    for t in threads:
        t.start()
    time.sleep(3)
    t0 = time.monotonic()
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", "15", "main", "restart"], check=True)
    back = time.monotonic()
    time.sleep(8)
    stop.set()
    for t in threads:
        t.join(30)
    from django.db import connections

    connections.close_all()
    statuses = sorted({s for _, _, s in results})
    check(not [s for _, _, s in results if s >= 500 and s != 503], f"no 5xx but 503 ({statuses})")
    outage = [s for at, _, s in results if t0 <= at <= back + 1]
    after = [s for at, _, s in results if at > back + 3]
    check(bool(after) and all(s == 200 for s in after), f"{len(after)} requests after the restart all 200")
    stored = set(InboundMessage.objects.filter(external_id__in=acknowledged).values_list("external_id", flat=True))
    check(len(stored) == len(acknowledged), f"{len(acknowledged)} acknowledged messages, {len(stored)} stored")
    print(
        json.dumps(
            {
                "requests": len(results),
                "during_restart": {str(s): outage.count(s) for s in set(outage)},
                "pages": len([r for r in results if r[1] == "page"]),
                "restart_s": round(back - t0, 1),
            }
        ),
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-restart", action="store_true", help="leave PostgreSQL running (no root here)")
    args = parser.parse_args()
    var = Path(tempfile.mkdtemp(prefix="kefu-faults-"))
    url = f"postgres://postgres@127.0.0.1:5432/{DB}"
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB}"')
    import redis

    redis.Redis.from_url(REDIS).flushdb()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEFU_", "DJANGO_"))}
    env.update(
        {
            "KEFU_DATABASE_URL": url,
            "KEFU_REDIS_URL": REDIS,
            "KEFU_VAR_DIR": str(var),
            "KEFU_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "PYTHONPATH": str(ROOT),
        }
    )
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    subprocess.run(
        [sys.executable, "-m", "kefu.cli", "demo", "--orders-per-shop", "20"], cwd=ROOT, env=env, check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    import django

    django.setup()
    from kefu.desk.models import Channel
    from kefu.org.services import token_create

    channel = Channel.objects.get(code="qianniu")
    token = token_create(actor=user_by_username("zhuguan"), user=user_by_username("zhuguan"))
    procs = Processes(env, var / "processes.log")
    started = time.monotonic()
    try:
        procs.start("serve", "--port", str(PORT), "--workers", "2", "--no-worker")
        worker = procs.start("worker")
        check(wait_for(lambda: get("/login/", {}) == 200, 60), "the web server answers")
        worker = fault_import(procs, worker)
        worker = fault_placement(procs, worker, (channel.code, channel.secret))
        if args.skip_restart or shutil.which("pg_ctlcluster") is None or os.geteuid() != 0:
            print("3. PostgreSQL restart skipped (needs root and pg_ctlcluster)", flush=True)
        else:
            fault_restart((channel.code, channel.secret), token)
    finally:
        procs.stop_all()
    print(json.dumps({"faults_failed": failures, "seconds": round(time.monotonic() - started)}), flush=True)
    if failures:
        print(f"see {var / 'processes.log'}", flush=True)
        raise SystemExit(1)
    shutil.rmtree(var, ignore_errors=True)


if __name__ == "__main__":
    main()
