"""Benchmark: the service desk (issue 9), on PostgreSQL.

    python bench/bench_desk.py [--conversations 1000000] [--messages 10000000] [--singles 3000] [--batches 300]

1. Signed webhook ingest over HTTP, against `kefu serve` (gunicorn, gthread) on this machine:
   one message per request, then batches of 100, from 16 client threads with keep-alive; then every
   single message is delivered again and must come back as a duplicate (and the table not grow).
2. With ``--conversations`` conversations and ``--messages`` messages generated in SQL over 120 days
   in 5 shops: the inbox page (50 rows, filters on, as supervisor and team lead, through the full
   Django stack) with its query count; a conversation of 5,000 messages (paged); the KPIs of one day
   for one shop and of a 30-day month for the whole department.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from _setup import ROOT, measure_page, postgres_cpu_s, seed_org, setup

NAME = "kefu_bench_desk"
REDIS = "redis://127.0.0.1:6379/13"


def _post_all(port: int, secret: str, bodies: list[bytes], threads: int = 8) -> tuple[float, list[dict[str, int]]]:
    """Send each body once over keep-alive connections from ``threads`` threads. The requests
    (signature and timestamp included) are built before the clock starts, so the client spends as
    little of the shared 2 cores as it can: what is timed is the server."""
    stamp = str(int(time.time()))
    prepared = []
    for body in bodies:
        sig = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        head = (
            "POST /api/v1/desk/webhook/bench HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"X-Kefu-Signature: v2={sig}\r\nX-Kefu-Timestamp: {stamp}\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        prepared.append(head.encode() + body)
    results: list[dict[str, int]] = [{} for _ in bodies]
    lock = threading.Lock()
    todo = iter(range(len(bodies)))

    def worker() -> None:
        sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        reader = sock.makefile("rb")
        try:
            while True:
                with lock:
                    i = next(todo, None)
                if i is None:
                    return
                sock.sendall(prepared[i])
                status = reader.readline()
                length = 0
                close = False
                while (line := reader.readline()) not in (b"\r\n", b""):
                    name, _sep, value = line.partition(b":")
                    if name.lower() == b"content-length":
                        length = int(value)
                    elif name.lower() == b"connection" and b"close" in value.lower():
                        close = True
                data = reader.read(length)
                if b" 200 " not in status:
                    raise RuntimeError(f"{status!r}: {data[:200]!r}")
                results[i] = json.loads(data)
                if close:
                    sock.close()
                    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
                    reader = sock.makefile("rb")
        finally:
            sock.close()

    t0 = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - t0
    if any(not r for r in results):
        raise RuntimeError("some requests were not answered")
    return elapsed, results


def _message(i: int, shop: str) -> dict[str, object]:
    return {
        "external_id": f"bench-{i}",
        "shop": shop,
        "buyer": f"buyer{i % 500}",  # about ten messages per conversation, as in a real chat
        # K103 answers in the shops of their team (the first three); buyers write in all five
        "direction": "in" if i % 3 or shop not in {"haidaochuan", "yiguo", "yijing"} else "out",
        "kind": "text",
        "agent": None if i % 3 or shop not in {"haidaochuan", "yiguo", "yijing"} else "K103",
        "sent_at": time.strftime("%Y-%m-%dT%H:%M:%S+08:00"),
        "text": "在吗?这款有现货吗",
    }


def _server_cpu_s(sid: int) -> tuple[float, float]:
    """CPU seconds so far of the server's session: (web processes, the task worker)."""
    web = work = 0
    for pid_stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = pid_stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[3]) != sid:
                continue
            ticks = int(fields[11]) + int(fields[12])
            if (pid_stat.parent / "cmdline").read_bytes().split(b"\0")[-2:][0] == b"worker":
                work += ticks
            else:
                web += ticks
        except (OSError, IndexError, ValueError):
            continue
    tck = os.sysconf("SC_CLK_TCK")
    return web / tck, work / tck


def _placed(started: float, timeout: float = 300) -> float:
    """Seconds from ``started`` (perf_counter) until the worker has placed every accepted message."""
    from kefu.desk.models import InboundMessage

    deadline = time.perf_counter() + timeout
    while InboundMessage.objects.filter(placed_at__isnull=True).exists():
        if time.perf_counter() > deadline:
            raise RuntimeError("the worker did not place the accepted messages")
        time.sleep(0.05)
    return round(time.perf_counter() - started, 2)


def _place_now() -> float:
    """Seconds for the worker's job to place everything accepted (run here, alone on the machine)."""
    from kefu.desk.services import messages_place_pending

    t0 = time.perf_counter()
    messages_place_pending(rounds=10_000)
    return round(time.perf_counter() - t0, 2)


def ingest(args: argparse.Namespace, url: str) -> dict[str, object]:
    from kefu.core.events import SystemActor
    from kefu.desk.models import Channel, Conversation, Message
    from kefu.org.models import Staff, Team

    Staff.objects.create(employee_no="K103", name="张敏", position="presales", team=Team.objects.get(name="扬州客服组"))
    channel = Channel.objects.create(code="bench", name="bench", secret="bench-secret")
    del SystemActor
    port = 8911
    import redis

    redis.Redis.from_url(REDIS).flushdb()
    # production shape (ADR 0013): Redis for the queue and the cache; requests accept, the worker places
    env = dict(
        os.environ,
        KEFU_DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="config.settings.base",
        KEFU_REDIS_URL=REDIS,
        KEFU_DESK_QUEUED="1",
    )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kefu.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(args.web_workers),
            "--threads",
            str(args.threads),
            *(["--no-worker"] if args.place_after else []),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    cpu: dict[str, dict[str, float]] = {}

    def phase(name: str, messages: int, run):  # type: ignore[no-untyped-def]
        """Run one phase and record the CPU per message of the web processes, the task worker
        (placing) and PostgreSQL while it ran and until everything was placed."""
        web0, work0, db0 = *_server_cpu_s(server.pid), postgres_cpu_s()
        result = run()
        web1, work1, db1 = *_server_cpu_s(server.pid), postgres_cpu_s()
        per = 1000 / messages
        cpu[name] = {
            "web_cpu_ms_per_msg": round((web1 - web0) * per, 3),
            "worker_cpu_ms_per_msg": round((work1 - work0) * per, 3),
            "db_cpu_ms_per_msg": round((db1 - db0) * per, 3),
            "total_cpu_ms_per_msg": round((web1 - web0 + work1 - work0 + db1 - db0) * per, 3),
        }
        return result

    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/login/")
                break
            except OSError:
                time.sleep(0.2)
        shops = ["haidaochuan", "yiguo", "yijing", "mojiaren", "letaisi"]
        # warm up before anything is counted: each web worker's first requests and the task worker's
        # start (Django's set-up, about a second of CPU) are not the ingest's cost per message
        warm = [json.dumps({"messages": [_message(-1 - i, shops[i % 5])]}).encode() for i in range(64)]
        _post_all(port, channel.secret, warm)
        if not args.place_after:
            _placed(time.perf_counter())
        singles = [json.dumps({"messages": [_message(i, shops[i % 5])]}).encode() for i in range(args.singles)]
        base = args.singles
        batches = [
            json.dumps({"messages": [_message(base + b * 100 + j, shops[j % 5]) for j in range(100)]}).encode()
            for b in range(args.batches)
        ]

        def both(bodies: list[bytes]):  # type: ignore[no-untyped-def]
            took, res = _post_all(port, channel.secret, bodies)
            placed = _place_now() if args.place_after else _placed(time.perf_counter() - took)
            return took, res, placed

        single_s, single_res, single_placed_s = phase("single", len(singles), lambda: both(singles))
        batch_s, batch_res, batch_placed_s = phase("batch", len(batches) * 100, lambda: both(batches))
        before = Message.objects.count()
        again_s, again_res = _post_all(port, channel.secret, singles)
        _place_now() if args.place_after else _placed(time.perf_counter())
        after = Message.objects.count()
        conversations = Conversation.objects.filter(buyer__startswith="buyer").count()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(15)
    return {
        "cpu": cpu,
        "single_requests": len(singles),
        "single_msgs_per_s": round(len(singles) / single_s),
        "single_created": sum(r["created"] for r in single_res),
        "single_all_placed_after_s": single_placed_s,
        "batch_requests": len(batches),
        "batch_msgs_per_s": round(len(batches) * 100 / batch_s),
        "batch_created": sum(r["created"] for r in batch_res),
        "batch_all_placed_after_s": batch_placed_s,
        "messages_stored": after,
        "conversations": conversations,
        "redelivered": len(singles),
        "redelivered_msgs_per_s": round(len(singles) / again_s),
        "redelivered_duplicates": sum(r["duplicates"] for r in again_res),
        "redelivered_created": sum(r["created"] for r in again_res),
        "table_grew_on_redelivery": after - before,
    }


def generate(conversations: int, messages: int) -> None:
    from django.db import connection

    from kefu.desk.workflow import CONVERSATIONS
    from kefu.workflow.models import StatusLabel
    from kefu.workflow.services import labels_ensure

    labels_ensure(CONVERSATIONS)
    labels = {label.category: label.pk for label in StatusLabel.objects.filter(workflow=CONVERSATIONS.key)}
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM org_shop")
        low, high = cursor.fetchone()
        span = high - low + 1
        cursor.execute("SELECT id FROM org_staff WHERE employee_no = 'K103'")
        agent = cursor.fetchone()[0]
        cursor.execute("SELECT id FROM desk_channel WHERE code = 'bench'")
        channel = cursor.fetchone()[0]
        cursor.execute(f"""
            INSERT INTO desk_conversation (shop_id, buyer, queue, owner_id, status_id, opened_at, updated_at,
                checklist, message_count, last_text, breached, last_message_at, waiting_since)
            SELECT {low} + (g % {span}), 'gen' || g, CASE WHEN (g / 5) % 2 = 0 THEN 'presales' ELSE 'aftersales' END,
                CASE WHEN (g / 7) % 4 = 0 THEN {agent} ELSE NULL END,
                CASE WHEN (g / 11) % 3 = 0 THEN {labels["waiting"]} WHEN (g / 13) % 10 = 0 THEN {labels["closed"]}
                     ELSE {labels["answered"]} END,
                now() - interval '120 days', now(), '{{}}', 0, '在吗', false,
                now() - ((g % 172800) || ' minutes')::interval,
                CASE WHEN (g / 11) % 3 = 0 THEN now() - ((g % 172800) || ' minutes')::interval ELSE NULL END
            FROM generate_series(1, {conversations}) AS g
        """)
        cursor.execute("SELECT min(id) FROM desk_conversation WHERE buyer LIKE 'gen%%'")
        first = cursor.fetchone()[0]
        per = max(1, messages // conversations)
        cursor.execute(f"""
            INSERT INTO desk_message (conversation_id, shop_id, channel_id, external_id, direction, kind, agent_id,
                sent_at, received_at, text)
            SELECT {first} + (g / {per}), {low} + ((g / {per} + 1) % {span}), {channel}, 'gen-' || g,
                CASE WHEN g % 2 = 0 THEN 'in' ELSE 'out' END, 'text',
                CASE WHEN g % 2 = 0 THEN NULL ELSE {agent} END,
                now() - (((g / {per}) % 172800) || ' minutes')::interval + ((g % {per}) * 40 || ' seconds')::interval,
                now(), '亲,在的~ 现货充足'
            FROM generate_series(0, {messages - 1}) AS g
        """)
        # one long conversation of 5,000 messages
        cursor.execute(f"""
            INSERT INTO desk_message (conversation_id, shop_id, channel_id, external_id, direction, kind, agent_id,
                sent_at, received_at, text)
            SELECT {first}, (SELECT shop_id FROM desk_conversation WHERE id = {first}), {channel}, 'long-' || g, CASE WHEN g % 2 = 0 THEN 'in' ELSE 'out' END, 'text',
                CASE WHEN g % 2 = 0 THEN NULL ELSE {agent} END, now() - interval '30 days' + (g || ' minutes')::interval,
                now(), '长对话'
            FROM generate_series(1, 5000) AS g
        """)
        # conversation g (id first + g - 1) is in shop low + g % span: every message carries its shop
        cursor.execute(
            "SELECT count(*) FROM desk_message m JOIN desk_conversation c ON c.id = m.conversation_id "
            "WHERE m.shop_id <> c.shop_id"
        )
        assert cursor.fetchone()[0] == 0, "generated messages carry the wrong shop"
        cursor.execute("ANALYZE desk_conversation")
        cursor.execute("ANALYZE desk_message")


def timed(fn, runs: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return {"median_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--messages", type=int, default=10_000_000)
    parser.add_argument("--singles", type=int, default=3000)
    parser.add_argument("--batches", type=int, default=300)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--web-workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument(
        "--place-after", action="store_true", help="no worker while accepting; place everything afterwards, timed"
    )
    parser.add_argument("--only-ingest", action="store_true", help="measure the webhook ingest alone")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the generated database of an earlier run (skips ingest and generation)",
    )
    args = parser.parse_args()
    # the ingest alone runs in a database of its own, so a generated 10M-message one survives it
    url = setup("postgres", f"{NAME}_ingest" if args.only_ingest else NAME, keep=args.reuse and not args.only_ingest)
    from django.conf import settings

    from kefu.desk.models import Conversation, Message

    settings.ALLOWED_HOSTS = ["testserver"]
    reused = args.reuse and Message.objects.filter(external_id__startswith="gen-").exists()
    if not reused:
        seed_org()
        out: dict[str, object] = {"db": "postgres"}
        out["ingest"] = ingest(args, url)
        print(json.dumps(out, ensure_ascii=False), flush=True)
    if args.only_ingest:
        return
    t0 = time.perf_counter()
    if not reused:
        generate(args.conversations, args.messages)

    out = {
        "conversations": Conversation.objects.count(),
        "messages": Message.objects.count(),
        "generate_s": round(time.perf_counter() - t0, 1),
    }
    print(json.dumps(out, ensure_ascii=False), flush=True)
    from kefu.org.models import Shop

    shop = Shop.objects.get(code="haidaochuan").pk
    long_id = Conversation.objects.filter(buyer="gen1").values_list("pk", flat=True).first() or 0
    for user in ("boss", "lead"):
        for path in ("/desk/", f"/desk/?shop={shop}&queue=presales&waiting=1", "/desk/?closed=1&queue=aftersales"):
            print(
                json.dumps(
                    measure_page(user, path, args.requests, row_link="/desk/", chrome_links=0), ensure_ascii=False
                ),
                flush=True,
            )
    long_conv = Conversation.objects.order_by("-message_count", "pk").first()
    first_conv = Conversation.objects.filter(buyer__startswith="gen").order_by("pk").first()
    target = first_conv.pk if first_conv else long_id
    print(
        json.dumps(
            {
                "conversation_5000_messages": measure_page(
                    "boss", f"/desk/{target}/", args.requests, row_link="/desk/", chrome_links=0
                )
            },
            ensure_ascii=False,
        ),
        flush=True,
    )
    del long_conv
    import datetime as dt

    from django.contrib.auth import get_user_model

    from kefu.core import clock
    from kefu.desk import selectors
    from kefu.desk.models import KpiDay

    KpiDay.objects.all().delete()  # a reused database: measure from the messages first
    boss = get_user_model().objects.get(username="boss")
    print(
        json.dumps({"kpis_today_one_shop": timed(lambda: selectors.kpis(actor=boss, day=clock.today(), shop=shop), 5)}),
        flush=True,
    )
    day = clock.today() - dt.timedelta(days=1)
    print(
        json.dumps({"kpis_one_day_one_shop": timed(lambda: selectors.kpis(actor=boss, day=day, shop=shop), 5)}),
        flush=True,
    )
    first = day - dt.timedelta(days=29)
    live = timed(lambda: selectors.kpis_period(actor=boss, first=first, last=day), 1)
    print(json.dumps({"kpis_30_days_department_from_messages": live}), flush=True)
    from kefu.desk.services import kpi_rollup

    t0 = time.perf_counter()
    d = first
    while d <= day:
        kpi_rollup(day=d)  # what the worker does once a day is closed
        d += dt.timedelta(days=1)
    per_day = (time.perf_counter() - t0) / 30
    month = timed(lambda: selectors.kpis_period(actor=boss, first=first, last=day), 5)
    stored_day = timed(lambda: selectors.kpis(actor=boss, day=day, shop=shop), 5)
    print(json.dumps({"kpis_one_day_one_shop_stored": stored_day}), flush=True)
    print(
        json.dumps({"kpi_rollup_one_day_all_shops_s": round(per_day, 2), "kpis_30_days_department": month}), flush=True
    )


if __name__ == "__main__":
    main()
