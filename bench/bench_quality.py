"""Issue 22: quality inspection (R-QA-1) in the worker — messages inspected per second.

    python bench/bench_quality.py [--db postgres|sqlite] [--days 14] [--sessions 400]

Generates ``--days`` days of desk history in both seed shops (``--sessions`` buyer sessions a day
per shop, about 4.5 messages each, a few percent with words the rules flag) through the desk's own
ingest, then runs the worker's sweep (``quality.services.inspect_due``) over all of it from a zero
cursor, as after a backlog, and once more (nothing new: the idempotent re-run). Reports messages per
second, Kefu CPU per 1,000 messages (``time.process_time``) and PostgreSQL's CPU beside wall time.
Target: ≥ 10,000 messages/s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time

from _setup import postgres_cpu_s, seed_org, setup


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="postgres", choices=["postgres", "sqlite"])
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--sessions", type=int, default=400)
    args = parser.parse_args()
    setup(args.db, "kefu_bench_quality")
    seed_org()
    from django.core.cache import cache

    from kefu.core import clock
    from kefu.core.events import SystemActor
    from kefu.demo import generate
    from kefu.desk.models import Message
    from kefu.desk.services import channel_create, messages_ingest
    from kefu.org.models import Shop, Staff
    from kefu.quality.models import Cursor, Hit
    from kefu.quality.services import inspect_due

    actor = SystemActor("bench")
    channel = channel_create(actor=actor, code="bench", name="bench")
    agents: dict[int, list[str]] = {}
    for shop in Shop.objects.prefetch_related("teams"):
        team = shop.teams.all()[0]
        agents[shop.pk] = [
            Staff.objects.create(
                employee_no=f"B{shop.pk}{i:02d}", name=f"客服{i}", position="presales", team=team
            ).employee_no
            for i in range(6)
        ]
    cache.add("kefu:quality:inspect-queued", 1, timeout=3600)  # keep the ingest from waking the inspection
    today = clock.today()
    t0 = time.perf_counter()
    for shop in Shop.objects.all():
        for back in range(args.days, 0, -1):
            items = generate.history_day(
                shop_code=shop.code, day=today - dt.timedelta(days=back), agents=agents[shop.pk], sessions=args.sessions
            )
            for start in range(0, len(items), 500):
                messages_ingest(actor=actor, channel=channel, items=items[start : start + 500], place=True)
    count = Message.objects.count()
    print(json.dumps({"db": args.db, "messages": count, "generated_s": round(time.perf_counter() - t0, 1)}))
    Cursor.objects.all().delete()
    Hit.objects.all().delete()
    for label in ("backlog from a zero cursor", "again, nothing new"):
        pg0 = postgres_cpu_s() if args.db == "postgres" else 0.0
        wall0, cpu0 = time.perf_counter(), time.process_time()
        if label.startswith("again"):
            Cursor.objects.filter(key="inspect").update(message_id=0)
        found = inspect_due(actor=actor)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        pg = (postgres_cpu_s() - pg0) if args.db == "postgres" else None
        print(
            json.dumps(
                {
                    "run": label,
                    "messages": count,
                    "new_hits": found,
                    "wall_s": round(wall, 2),
                    "messages_per_s": round(count / wall),
                    "kefu_cpu_ms_per_1000": round(cpu * 1000 / count * 1000, 1),
                    "postgres_cpu_ms_per_1000": None if pg is None else round(pg * 1000 / count * 1000, 1),
                    "target": "≥ 10,000 messages/s",
                },
                ensure_ascii=False,
            )
        )


if __name__ == "__main__":
    main()
