"""Live streams at scale (issue 16 §3): N open desk pages must not starve sign-in and pages.

Serves the demo department with ``kefu serve`` (gunicorn, uvicorn workers, Redis, PostgreSQL by
default) on this machine, opens ``--streams`` Server-Sent-Event streams (the desk inbox's live feed,
spread over the demo's agents, leads and supervisors), pushes signed webhook messages at
``--rate`` per second, and meanwhile times sign-ins (login page + POST) and pages (the desk inbox,
the order list). Prints one JSON line: latencies, how many streams heard the messages, errors, and
the CPU seconds the web workers, the task worker and PostgreSQL spent (from /proc), per request and
per stream-minute. ``--server wsgi`` runs the old shape (gunicorn gthread, 16 threads × 2) to compare.

    .venv/bin/python bench/bench_live.py                       # 1,000 streams, PostgreSQL + Redis
    .venv/bin/python bench/bench_live.py --server wsgi --streams 200
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import hashlib
import hmac
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import OUT, ROOT, setup

HOST, PORT = "127.0.0.1", 8131
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError):
            pass
    return total / TICK


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in out]


def postgres_pids() -> list[int]:
    return [int(p) for p in subprocess.run(["pgrep", "-x", "postgres"], capture_output=True, text=True).stdout.split()]


def sessions(count: int) -> list[str]:
    """``count`` session keys over the demo's desk users (each a real signed-in session)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    users = list(
        get_user_model().objects.filter(
            username__in=[
                "zhuguan",
                "fuzhuguan",
                "yz_zuzhang",
                "yz_shouqian",
                "yz_shouhou",
                "hf_zuzhang",
                "hf_shouqian",
                "hf_shouhou",
            ]
        )
    )
    keys = []
    for i in range(count):
        user = users[i % len(users)]
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        keys.append(store.session_key)
    return keys


class Stream:
    def __init__(self) -> None:
        self.opened = False
        self.status = 0
        self.events = 0
        self.error = ""


async def open_stream(session: str, stream: Stream, stop: asyncio.Event) -> None:
    try:
        reader, writer = await asyncio.open_connection(HOST, PORT)
        writer.write(
            (
                f"GET /desk/stream/ HTTP/1.1\r\nHost: {HOST}\r\nCookie: sessionid={session}\r\n"
                "Accept: text/event-stream\r\n\r\n"
            ).encode()
        )
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), 30)
        stream.status = int(line.split()[1]) if line else 0
        stream.opened = stream.status == 200
        while not stop.is_set():
            try:
                chunk = await asyncio.wait_for(reader.readline(), 1)
            except TimeoutError:
                continue
            if not chunk:
                break
            if chunk.startswith(b"event: inbox"):
                stream.events += 1
        writer.close()
    except Exception as exc:  # counted, reported
        stream.error = type(exc).__name__


def timed_request(
    method: str, path: str, *, headers: dict[str, str], body: bytes | None = None
) -> tuple[float, int, str]:
    request = urllib.request.Request(f"http://{HOST}:{PORT}{path}", data=body, method=method, headers=headers)
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode(errors="replace")
            status = response.status
    except urllib.error.HTTPError as exc:
        text, status = exc.read().decode(errors="replace"), exc.code
    except OSError as exc:
        return (time.perf_counter() - t0) * 1000, 0, str(exc)
    return (time.perf_counter() - t0) * 1000, status, text


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def sign_in(username: str, password: str) -> tuple[float, int]:
    """GET the login page (CSRF cookie + token), POST the credentials: the time of both, the POST's status."""
    opener = urllib.request.build_opener(NoRedirect)
    t0 = time.perf_counter()
    try:
        with opener.open(f"http://{HOST}:{PORT}/login/", timeout=30) as response:
            page = response.read().decode()
            cookie = response.headers.get("Set-Cookie", "").split(";")[0]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        body = f"username={username}&password={password}&csrfmiddlewaretoken={token}".encode()
        request = urllib.request.Request(
            f"http://{HOST}:{PORT}/login/",
            data=body,
            headers={
                "Cookie": cookie,
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": f"http://{HOST}:{PORT}/login/",
            },
        )
        try:
            with opener.open(request, timeout=30) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
    except OSError:
        status = 0
    return (time.perf_counter() - t0) * 1000, status


def summary(times: list[float]) -> dict[str, float]:
    if not times:
        return {}
    ordered = sorted(times)
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 1),
        "max_ms": round(ordered[-1], 1),
    }


async def run(
    args: argparse.Namespace,
    keys: list[str],
    channel: tuple[str, str],
    shops: list[str],
    server_pid: int,
    worker_pids: list[int],
) -> dict[str, object]:
    from kefu.demo.load import DEMO_PASSWORD

    stop = asyncio.Event()
    streams = [Stream() for _ in keys]
    tasks = []
    t_open = time.perf_counter()
    for i, key in enumerate(keys):  # ramp at ~500 connections a second
        tasks.append(asyncio.create_task(open_stream(key, streams[i], stop)))
        if i % 50 == 49:
            await asyncio.sleep(0.1)
    for _ in range(300):
        if sum(1 for s in streams if s.status) >= len(streams) or all(t.done() for t in tasks):
            break
        await asyncio.sleep(0.1)
    opened_after = time.perf_counter() - t_open
    web_pids, huey_pids = [], []
    for pid in children(server_pid) + worker_pids:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
        (huey_pids if command.endswith(b"kefu.cli\x00worker\x00") else web_pids).append(pid)
    pg = postgres_pids()
    cpu0 = (cpu_seconds(web_pids), cpu_seconds(huey_pids), cpu_seconds(pg))
    t0 = time.perf_counter()
    signins: list[float] = []
    pages: list[float] = []
    statuses: dict[str, int] = {}
    code, secret = channel
    loop = asyncio.get_running_loop()
    sent = 0

    async def pusher() -> None:
        nonlocal sent
        while time.perf_counter() - t0 < args.duration:
            body = json.dumps(
                {
                    "messages": [
                        {
                            "external_id": f"bench-live-{time.time_ns()}",
                            "shop": shops[sent % len(shops)],
                            "buyer": f"bench_buyer_{sent % 40}",
                            "direction": "in",
                            "kind": "text",
                            "sent_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
                            "text": "在吗",
                        }
                    ]
                }
            ).encode()
            stamp = str(int(time.time()))
            digest = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
            headers = {
                "Content-Type": "application/json",
                "X-Kefu-Signature": f"v2={digest}",
                "X-Kefu-Timestamp": stamp,
            }
            post = functools.partial(timed_request, "POST", f"/api/v1/desk/webhook/{code}", headers=headers, body=body)
            _, status, _ = await loop.run_in_executor(None, post)
            statuses[f"webhook {status}"] = statuses.get(f"webhook {status}", 0) + 1
            sent += 1
            await asyncio.sleep(1 / args.rate)

    async def prober() -> None:
        page_cookie = f"sessionid={keys[0]}"
        users = [
            "yz_shouqian",
            "hf_shouqian",
            "yz_zuzhang",
            "zhuguan",
            "yz_shouhou",
            "hf_shouhou",
            "hf_zuzhang",
            "fuzhuguan",
        ]
        n = 0
        while time.perf_counter() - t0 < args.duration:
            ms, status = await loop.run_in_executor(None, sign_in, users[n % len(users)], DEMO_PASSWORD)
            signins.append(ms)
            statuses[f"sign-in {status}"] = statuses.get(f"sign-in {status}", 0) + 1
            for path in ("/desk/", "/orders/"):
                ms, status, _ = await loop.run_in_executor(
                    None, lambda p=path: timed_request("GET", p, headers={"Cookie": page_cookie})
                )
                pages.append(ms)
                statuses[f"page {status}"] = statuses.get(f"page {status}", 0) + 1
            n += 1
            await asyncio.sleep(0.25)

    await asyncio.gather(pusher(), prober())
    await asyncio.sleep(3)  # the last messages placed and fanned out
    elapsed = time.perf_counter() - t0
    cpu1 = (cpu_seconds(web_pids), cpu_seconds(huey_pids), cpu_seconds(pg))
    open_now = sum(1 for t in tasks if not t.done())
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    requests = len(signins) * 2 + len(pages) + sent
    web, worker, database = (round(b - a, 2) for a, b in zip(cpu0, cpu1, strict=True))
    return {
        "server": args.server,
        "db": args.db,
        "streams": len(keys),
        "streams_opened": sum(1 for s in streams if s.opened),
        "streams_open_at_end": open_now,
        "streams_refused": {
            str(s.status): sum(1 for x in streams if x.status == s.status) for s in streams if s.status != 200
        },
        "stream_errors": sorted({s.error for s in streams if s.error}),
        "seconds_to_open_all": round(opened_after, 1),
        "streams_that_heard_a_message": sum(1 for s in streams if s.events),
        "messages_pushed": sent,
        "sign_in": summary(signins),
        "pages": summary(pages),
        "statuses": statuses,
        "window_s": round(elapsed, 1),
        "cpu_s": {"web": web, "task_worker": worker, "postgres": database},
        "web_cpu_ms_per_request": round(web * 1000 / max(1, requests), 1),
        "web_cpu_ms_per_stream_minute": round(web * 1000 / len(keys) / (elapsed / 60), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=40.0, help="seconds of measuring with the streams open")
    parser.add_argument("--rate", type=float, default=2.0, help="webhook messages per second")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--server", choices=["asgi", "wsgi"], default="asgi")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/7")
    args = parser.parse_args()

    os.environ["KEFU_REDIS_URL"] = args.redis
    os.environ["KEFU_VAR_DIR"] = str(OUT / "live")
    url = setup(args.db, "kefu_bench_live")
    import redis
    from django.core.management import call_command

    redis.Redis.from_url(args.redis).flushdb()
    call_command("kefu_demo")
    from kefu.desk.models import Channel
    from kefu.org.models import Shop

    keys = sessions(args.streams)
    channel = Channel.objects.get(code="qianniu")
    shops = list(Shop.objects.values_list("code", flat=True))
    env = {
        **os.environ,
        "KEFU_DATABASE_URL": url,
        "KEFU_ALLOWED_HOSTS": HOST,
        "KEFU_REDIS_URL": args.redis,
        "KEFU_LOGIN_MAX_FAILURES": "1000",
        "PYTHONPATH": str(ROOT),
    }
    if args.server == "asgi":
        cmd = [sys.executable, "-m", "kefu.cli", "serve", "--port", str(PORT), "--workers", str(args.workers)]
    else:
        cmd = [
            sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"{HOST}:{PORT}",
            "--workers", str(args.workers), "--worker-class", "gthread", "--threads", "16",
        ]  # fmt: skip
    log = (OUT / "bench_live_server.log").open("w")
    server = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    worker = None
    if args.server == "wsgi":  # kefu serve starts its own task worker; plain gunicorn does not
        worker = subprocess.Popen(
            [sys.executable, "-m", "kefu.cli", "worker"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://{HOST}:{PORT}/login/", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        # kefu serve is the gunicorn master; its children are the web workers and the task worker
        pids = [worker.pid] if worker else []
        result = asyncio.run(run(args, keys, (channel.code, channel.secret), shops, server.pid, pids))
    finally:
        for process in (server, worker):
            if process is not None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(15)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
