"""Desk KPIs of one busy shop's day (issue 20 §3): 17,280 messages — 1,440 conversations of 12
messages, six rounds each, answered by four agents after 20 s to 7 min — on PostgreSQL. Prints the
web thread's CPU (median of ``--runs``) and PostgreSQL's CPU per computation, and with
``--profile`` where the time goes.

    python bench/bench_kpis.py [--keep] [--runs 7] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import json
import pstats
import statistics
import time

from _setup import postgres_cpu_s, seed_org, setup

NAME = "kefu_bench_kpis"
CONVERSATIONS, PER_CONVERSATION = 1440, 12  # 17,280 messages: a message every 5 s of the day


def generate(day: dt.date) -> None:
    from django.db import connection

    from kefu.desk.models import Channel, ChannelKind
    from kefu.desk.workflow import CONVERSATIONS as FLOW
    from kefu.org.models import Shop, Staff, Team
    from kefu.workflow.models import StatusLabel
    from kefu.workflow.services import labels_ensure

    seed_org()
    team = Team.objects.get(name="扬州客服组")
    agents = [
        Staff.objects.create(employee_no=f"K{i}", name=f"客服{i}", position="presales", team=team).pk
        for i in range(101, 105)
    ]
    channel = Channel.objects.create(code="bench", name="bench", kind=ChannelKind.PLATFORM).pk
    shop = Shop.objects.get(code="haidaochuan").pk
    labels_ensure(FLOW)
    answered = StatusLabel.objects.get(workflow=FLOW.key, category="answered").pk
    start = dt.datetime.combine(day, dt.time(0, 0), tzinfo=dt.timezone(dt.timedelta(hours=8)))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO desk_conversation (shop_id, buyer, queue, status_id, opened_at, updated_at, checklist,
                message_count, last_text, breached, last_message_at)
            SELECT {shop}, 'kpi' || g, 'presales', {answered}, %s, %s, '{{}}', {PER_CONVERSATION}, '在吗', false, %s
            FROM generate_series(0, {CONVERSATIONS - 1}) AS g
            """,
            [start, start, start],
        )
        cursor.execute("SELECT min(id) FROM desk_conversation WHERE buyer LIKE 'kpi%%'")
        first = cursor.fetchone()[0]
        agent_of = "ARRAY[" + ",".join(str(a) for a in agents) + "]"
        # conversation c starts at minute c (a day has 1,440); round r's question 10 minutes after the
        # last; the answer 20 s to 7 min later (fast or not), by one of four agents
        cursor.execute(
            f"""
            INSERT INTO desk_message (conversation_id, shop_id, channel_id, external_id, direction, kind, agent_id,
                sent_at, received_at, text)
            SELECT {first} + c, {shop}, {channel}, 'kpi-' || c || '-' || m,
                CASE WHEN m %% 2 = 0 THEN 'in' ELSE 'out' END, 'text',
                CASE WHEN m %% 2 = 0 THEN NULL ELSE ({agent_of})[1 + (c %% 4)] END,
                %s + (c || ' minutes')::interval * 0.9 + ((m / 2) * 10 || ' minutes')::interval
                   + CASE WHEN m %% 2 = 1 THEN ((20 + (c * 7 + m * 13) %% 400) || ' seconds')::interval
                          ELSE interval '0' END,
                now(), '在吗'
            FROM generate_series(0, {CONVERSATIONS - 1}) AS c, generate_series(0, {PER_CONVERSATION - 1}) AS m
            """,
            [start],
        )
        cursor.execute("ANALYZE desk_message")
        cursor.execute("ANALYZE desk_conversation")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    setup("postgres", NAME, keep=args.keep)
    from django.contrib.auth import get_user_model

    from kefu.core import clock
    from kefu.desk import selectors
    from kefu.desk.models import KpiDay, Message
    from kefu.org.models import Shop

    day = clock.today() - dt.timedelta(days=1)
    if not Message.objects.filter(external_id__startswith="kpi-").exists():
        generate(day)
    day = Message.objects.filter(external_id="kpi-0-0").values_list("sent_at", flat=True).get()
    day = day.astimezone(clock.local_tz()).date()
    KpiDay.objects.all().delete()  # computed from the messages, not a stored rollup
    boss = get_user_model().objects.get(username="boss")
    shop = Shop.objects.get(code="haidaochuan").pk
    result = selectors.kpis(actor=boss, day=day, shop=shop)
    cpu, wall = [], []
    db0 = postgres_cpu_s()
    for _ in range(args.runs):
        c0, t0 = time.thread_time(), time.perf_counter()
        again = selectors.kpis(actor=boss, day=day, shop=shop)
        cpu.append((time.thread_time() - c0) * 1000)
        wall.append((time.perf_counter() - t0) * 1000)
        assert again.total.rounds == result.total.rounds
    db_ms = (postgres_cpu_s() - db0) * 1000 / args.runs
    messages = Message.objects.filter(shop_id=shop, external_id__startswith="kpi-").count()
    print(
        json.dumps(
            {
                "messages": messages,
                "rounds": result.total.rounds,
                "answered_3min": result.total.answered_3min,
                "agents": len(result.agents),
                "web_cpu_ms": round(statistics.median(cpu), 1),
                "db_cpu_ms": round(db_ms, 1),
                "wall_ms": round(statistics.median(wall), 1),
                "target_cpu_ms": 40,
            }
        ),
        flush=True,
    )
    if args.profile:
        profile = cProfile.Profile(time.thread_time)  # CPU, not waiting for the database
        profile.enable()
        selectors.kpis(actor=boss, day=day, shop=shop)
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(20)


if __name__ == "__main__":
    main()
