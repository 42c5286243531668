"""Issue 21's connector benchmark: the Taobao connector against the TOP contract fake, into PostgreSQL.

    python bench/bench_connectors.py [--orders 100000] [--changed 1000]

1. A first sync of ``--orders`` trades with their lines (one to three each), modified over the 20
   hours before now: target ≥ 1,000 orders/s.
2. An incremental sync after ``--changed`` of them changed status ten minutes later: target ≤ 5 s.

The fake runs in a process of its own (its CPU is not the connector's); the figures are wall time,
this process's CPU (the connector: HTTP, JSON, the import service) and PostgreSQL's CPU, per order.
Only the orders stream runs (refunds, ratings and traces are other streams).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import time

from _setup import postgres_cpu_s, seed_org, setup


def _serve_fake(count: int, changed: int, ready: object, go_change: object, port: object) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    import django

    django.setup()
    from kefu.connectors.sandbox.http import served
    from kefu.connectors.sandbox.top import TopFake

    fake = TopFake(app_key="bench", app_secret="bench-secret", session="bench-session")
    trades = fake.add_trades(count, spread=dt.timedelta(hours=20))
    with served(fake) as url:
        port.value = int(url.rsplit(":", 1)[1])  # type: ignore[attr-defined]
        ready.set()  # type: ignore[attr-defined]
        go_change.wait()  # type: ignore[attr-defined]
        for trade in trades[:changed]:
            fake.touch(trade["tid"], status="TRADE_CLOSED" if trade["status"] != "TRADE_CLOSED" else "TRADE_FINISHED")
        ready.clear()  # type: ignore[attr-defined]
        ready.set()  # type: ignore[attr-defined]
        time.sleep(3600)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--changed", type=int, default=1_000)
    args = parser.parse_args()
    setup("postgres", "kefu_bench_connectors")
    seed_org()
    ctx = multiprocessing.get_context("fork")
    ready, go_change, port = ctx.Event(), ctx.Event(), ctx.Value("i", 0)
    started = time.perf_counter()
    fake = ctx.Process(target=_serve_fake, args=(args.orders, args.changed, ready, go_change, port), daemon=True)
    fake.start()
    ready.wait(600)
    print(json.dumps({"fake_ready_s": round(time.perf_counter() - started, 1)}), flush=True)

    from kefu.connectors.models import Outcome
    from kefu.connectors.services import connector_add, connector_sync
    from kefu.connectors.transport import Backoff
    from kefu.core.events import SystemActor
    from kefu.org.models import Shop

    shop = Shop.objects.order_by("pk").first()
    connector = connector_add(
        actor=SystemActor("bench"), platform="taobao", name="bench", shop=shop, app_key="bench",
        app_secret="bench-secret", session="bench-session", gateway=f"http://127.0.0.1:{port.value}/router/rest",
    )  # fmt: skip

    def run(label: str) -> dict[str, object]:
        pg0, cpu0, wall0 = postgres_cpu_s(), time.process_time(), time.perf_counter()
        (result,) = connector_sync(connector=connector, streams=["orders"], backoff=Backoff())
        wall, cpu, pg = time.perf_counter() - wall0, time.process_time() - cpu0, postgres_cpu_s() - pg0
        assert result.outcome == Outcome.OK, result.error
        n = max(1, result.fetched)
        out = {
            "run": label,
            "fetched": result.fetched,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "pages": result.pages,
            "wall_s": round(wall, 2),
            "orders_per_s": round(result.fetched / wall, 1),
            "kefu_cpu_ms_per_order": round(cpu * 1000 / n, 3),
            "pg_cpu_ms_per_order": round(pg * 1000 / n, 3),
        }
        print(json.dumps(out), flush=True)
        return out

    first = run("first sync")
    assert first["created"] == args.orders
    ready.clear()
    go_change.set()
    ready.wait(600)
    second = run("incremental")
    assert second["updated"] == args.changed
    fake.terminate()


if __name__ == "__main__":
    main()
