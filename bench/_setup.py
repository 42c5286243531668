"""Shared bench set-up: a dedicated database (SQLite file or PostgreSQL) migrated from scratch."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


def setup(db: str, name: str, *, keep: bool = False) -> str:
    """db is 'sqlite' or 'postgres'; returns the database URL used. ``keep`` (PostgreSQL) reuses
    the database of an earlier run when it exists (its data included)."""
    OUT.mkdir(parents=True, exist_ok=True)
    if db == "sqlite":
        path = OUT / f"{name}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not (keep and exists):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
                conn.execute(f'CREATE DATABASE "{name}"')
        url = f"postgres://postgres@127.0.0.1:5432/{name}"
    os.environ["KEFU_DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return url


BENCH_PASSWORD = "bench-pass"


def seed_org() -> None:
    """The seed organisation's teams and shops, a supervisor ``boss`` and a Yangzhou team lead ``lead``."""
    from kefu.core.events import SystemActor
    from kefu.demo.load import TEAMS
    from kefu.org.models import Staff, Team
    from kefu.org.services import shop_create, team_get_or_create, team_set_shops, user_create

    actor = SystemActor("bench")
    for team_name, shops in TEAMS.items():
        team = team_get_or_create(actor=actor, name=team_name)
        team_set_shops(
            actor=actor, team=team, shops=[shop_create(actor=actor, name=a, code=b, platform=c) for a, b, c in shops]
        )
    user_create(actor=actor, username="boss", password=BENCH_PASSWORD, position="supervisor")
    user_create(actor=actor, username="lead", password=BENCH_PASSWORD, position="team_lead")
    Staff.objects.filter(user__username="lead").update(team=Team.objects.get(name="扬州客服组"))


def _processes() -> Iterator[tuple[str, list[str]]]:
    """(command name, the fields after it) of every process's /proc/<pid>/stat on this machine."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # it exited meanwhile
        yield text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :].split()


def postgres_cpu_s() -> float:
    """CPU seconds used so far by this machine's PostgreSQL: every ``postgres`` process's own time
    plus, through the postmaster's children's time, that of backends which have exited. Read from
    /proc (PostgreSQL runs here); 0.0 where there is none. Other work on the cluster counts too."""
    ticks = sum(
        sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime
        for name, fields in _processes()
        if name == "postgres" or name.startswith("postgres:")
    )
    return ticks / os.sysconf("SC_CLK_TCK")


def session_cpu_s(sid: int) -> float:
    """CPU seconds used so far by the processes of session ``sid`` (a server started with
    ``start_new_session``: its master and workers)."""
    ticks = sum(int(fields[11]) + int(fields[12]) for _name, fields in _processes() if int(fields[3]) == sid)
    return ticks / os.sysconf("SC_CLK_TCK")


def measure_page(username: str, path: str, requests: int, *, row_link: str, chrome_links: int) -> dict[str, object]:
    """Median/p95/max time, CPU and query counts of a page through the full Django stack (after
    warm-up): ``web_cpu_ms`` is this thread's CPU per request (the web process's share: Python,
    templates, and the SQL itself on SQLite), ``db_cpu_ms`` PostgreSQL's CPU per request (mean).

    ``rows`` counts links starting with ``row_link`` less the ``chrome_links`` the layout itself has.
    """
    import statistics
    import time

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    assert client.login(username=username, password=BENCH_PASSWORD)
    for _ in range(3):
        client.get(path)
    times, cpu, queries = [], [], set()
    db0 = postgres_cpu_s()
    for _ in range(requests):
        with CaptureQueriesContext(connection) as ctx:
            c0, t0 = time.thread_time(), time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.thread_time() - c0) * 1000)
        assert response.status_code == 200, (path, response.status_code)
        queries.add(len(ctx.captured_queries))
    db_ms = (postgres_cpu_s() - db0) * 1000 / requests
    return {
        "user": username,
        "path": path,
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(sorted(times)[int(len(times) * 0.95) - 1], 1),
        "max_ms": round(max(times), 1),
        "web_cpu_ms": round(statistics.median(cpu), 2),
        "db_cpu_ms": round(db_ms, 2) if connection.vendor == "postgresql" else None,
        "queries": sorted(queries),
        "rows": response.content.decode().count(f'href="{row_link}') - chrome_links,
    }


def post_rps(path: str, body: dict[str, object], *, requests: int, concurrency: int) -> dict[str, object]:
    """Requests per second of a token-authenticated JSON POST over HTTP: ``kefu serve`` (4 workers) on
    this machine, ApacheBench with keep-alive (``make bench`` installs ``ab``)."""
    import json
    import re
    import shutil
    import signal
    import subprocess
    import time
    import urllib.request

    from django.contrib.auth import get_user_model

    from kefu.core.events import SystemActor
    from kefu.org.services import token_create

    ab = shutil.which("ab")
    if ab is None:
        return {"path": path, "skipped": "ApacheBench (ab) not installed; run `make bench`"}
    token = token_create(actor=SystemActor("bench"), user=get_user_model().objects.get(username="lead"))
    payload = OUT / "post.json"
    payload.write_text(json.dumps(body), "utf-8")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.base", "KEFU_ALLOWED_HOSTS": "127.0.0.1"}
    server = subprocess.Popen(
        # the production server (``kefu serve``: gunicorn with uvicorn workers, ADR 0018/0025)
        [sys.executable, "-m", "kefu.cli", "serve", "--port", "8123", "--workers", "4", "--no-worker"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,  # the access log
    )
    try:
        for _ in range(50):
            try:
                urllib.request.urlopen("http://127.0.0.1:8123/api/v1/", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        cmd = [
            ab,
            "-q",
            "-k",
            "-n",
            str(requests),
            "-c",
            str(concurrency),
            "-p",
            str(payload),
            "-T",
            "application/json",
            "-H",
            f"Authorization: Bearer {token}",
            f"http://127.0.0.1:8123{path}",
        ]
        web0, db0 = session_cpu_s(server.pid), postgres_cpu_s()
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        web_s, db_s = session_cpu_s(server.pid) - web0, postgres_cpu_s() - db0
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(10)
    rps = float(re.search(r"Requests per second:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    failed = int(re.search(r"Failed requests:\s+(\d+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx responses:\s+(\d+)", out)
    return {
        "path": path,
        "requests": requests,
        "concurrency": concurrency,
        "requests_per_s": rps,
        "web_cpu_ms_per_request": round(web_s * 1000 / requests, 2),
        "db_cpu_ms_per_request": round(db_s * 1000 / requests, 2),
        "failed": failed,
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
    }
