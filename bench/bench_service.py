"""Benchmark: field service (issue 10), on PostgreSQL.

    python bench/bench_service.py [--requests 1000000] [--parts-lines 3000000]

1. ``--requests`` service requests generated in SQL over the last 365 days in 5 shops (every state,
   two technicians, fault causes, settlements, warranty ends) and ``--parts-lines`` stock-ledger
   lines on them; complaints and member assignments for the care reports.
2. The work-order inbox (50 rows, filters on, supervisor and team lead) through the full Django
   stack: median ≤ 50 ms with a constant number of queries.
3. Each of the eight reports over the whole year through ``GET /api/v1/reports/{slug}``: ≤ 2 s.
4. ``POST /api/v1/service/warranty/evaluate`` over HTTP (gunicorn, 4 workers, token auth, ab -c 8):
   ≥ 500 requests/s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import time

from _setup import BENCH_PASSWORD, measure_page, post_rps, seed_org, setup

NAME = "kefu_bench_service"


def generate(requests: int, parts_lines: int) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from kefu.care.workflow import COMPLAINTS
    from kefu.core.events import SystemActor
    from kefu.org.models import Staff, Team
    from kefu.org.services import user_create
    from kefu.service.models import Part
    from kefu.service.workflow import REQUESTS
    from kefu.workflow.models import StatusLabel
    from kefu.workflow.services import labels_ensure

    actor = SystemActor("bench")
    for username, team in (("tech1", "扬州客服组"), ("tech2", "海丰客服组")):
        user_create(actor=actor, username=username, password=BENCH_PASSWORD, position="technician")
        Staff.objects.filter(user__username=username).update(team=Team.objects.get(name=team))
    user_create(actor=actor, username="agent", password=BENCH_PASSWORD, position="aftersales")
    Staff.objects.filter(user__username="agent").update(team=Team.objects.get(name="扬州客服组"))
    techs = list(Staff.objects.filter(position="technician").values_list("pk", flat=True))
    for code, name, price in (("LAMP", "灯泡", 380), ("RC", "遥控器", 45), ("PSU", "电源板", 260), ("FLT", "滤网", 25)):
        Part.objects.create(code=code, name=name, price=price, on_hand=1_000_000_000)
    parts = list(Part.objects.values_list("pk", "price"))
    labels_ensure(REQUESTS)
    labels_ensure(COMPLAINTS)
    cats = {s.category: s.pk for s in StatusLabel.objects.filter(workflow=REQUESTS.key)}
    del get_user_model
    with connection.cursor() as c:
        c.execute("SELECT min(id), max(id) FROM org_shop")
        low, high = c.fetchone()
        span = high - low + 1
        # state by (g / 7) % 10 (independent of the shop, g % 5): 0 new, 1 scheduled, 2 on site, 3 signed,
        # 4–6 settled, 7–9 closed
        c.execute(f"""
            INSERT INTO service_servicerequest (number, shop_id, channel, kind, contact_name, contact_phone, product,
                serial_no, part, purchase_date, purchase_channel, fault, address, technician_id, causes, verdict, charge,
                replacement_due, warranty_ends, evaluated_at, appointment_at, on_site_at, diagnosis, fault_cause,
                signed_by, signature, labour, parts_amount, discount, amount_due, settled_at, visit_notes,
                status_id, opened_at, updated_at, sla_due_at, breached, checklist, appointment_reason,
                commitment_missed, brought_in_items, loaner, referred_to, referral_outcome, proof_kind, proof_ref,
                receipt_no)
            SELECT 'FW' || lpad(g::text, 10, '0'), {low} + g % {span}, (ARRAY['phone','online','wechat'])[1 + g % 3],
                (ARRAY['repair','repair','repair','maintenance','service','return_visit'])[1 + g % 6],
                '客户' || (g % 50000), '139' || lpad(((g / 7) % 100000000)::text, 8, '0'),
                (ARRAY['投影机 X1','投影机 X2','电动幕布','交互平板'])[1 + g % 4], 'SN-' || (g % 300000), 'unit',
                (t - interval '200 days')::date, '', '故障', '', (ARRAY{techs})[1 + g % {len(techs)}], '[]', '{{}}',
                CASE WHEN g % 3 = 0 THEN 'paid' ELSE 'free' END, false, (t + interval '165 days')::date, t,
                CASE WHEN (g / 7) % 10 >= 1 THEN t + interval '3 hours' END,
                CASE WHEN (g / 7) % 10 >= 2 THEN t + (CASE WHEN g % 17 = 0 THEN interval '30 hours' ELSE interval '4 hours' END) END,
                CASE WHEN (g / 7) % 10 >= 2 THEN '诊断' ELSE '' END,
                CASE WHEN (g / 7) % 10 >= 2 THEN (ARRAY['lamp','board','component','wiring','environment','no_fault'])[1 + g % 6]
                     ELSE '' END,
                '', '', CASE WHEN (g / 7) % 10 >= 4 THEN 80 ELSE 0 END, CASE WHEN (g / 7) % 10 >= 4 THEN 120 ELSE 0 END,
                CASE WHEN (g / 7) % 10 >= 4 AND g % 3 <> 0 THEN 200 ELSE 0 END,
                CASE WHEN (g / 7) % 10 >= 4 AND g % 3 = 0 THEN 200 ELSE 0 END,
                CASE WHEN (g / 7) % 10 >= 4 THEN t + interval '6 hours' END, '',
                CASE (g / 7) % 10 WHEN 0 THEN {cats["new"]} WHEN 1 THEN {cats["scheduled"]} WHEN 2 THEN {cats["on_site"]}
                    WHEN 3 THEN {cats["signed"]} WHEN 4 THEN {cats["settled"]} WHEN 5 THEN {cats["settled"]}
                    WHEN 6 THEN {cats["settled"]} ELSE {cats["closed"]} END,
                t, t, t + interval '24 hours', g % 17 = 0, '{{}}', '', false, '', '', '', '', '', '',
                CASE WHEN (g / 7) % 10 >= 4 THEN 'R' || lpad(g::text, 10, '0') ELSE '' END
            FROM (SELECT g, now() - ((g::float / {requests}) * interval '365 days') AS t
                  FROM generate_series(1, {requests}) AS g) AS s
        """)
        c.execute("SELECT min(id) FROM service_servicerequest")
        first = c.fetchone()[0]
        part_ids = [p for p, _price in parts]
        prices = [str(price) for _p, price in parts]
        c.execute(f"""
            INSERT INTO service_stockentry (part_id, kind, quantity, balance, request_id, unit_price, at, note)
            SELECT (ARRAY{part_ids})[1 + g % {len(part_ids)}], CASE WHEN g % 11 = 0 THEN 'returned' ELSE 'issued' END,
                CASE WHEN g % 11 = 0 THEN 1 ELSE -1 END, 1000, {first} + (g % {requests}),
                (ARRAY{prices}::numeric[])[1 + g % {len(part_ids)}],
                now() - (((g % {requests})::float / {requests}) * interval '365 days'), ''
            FROM generate_series(0, {parts_lines - 1}) AS g
        """)
        ccats = {s.category: s.pk for s in StatusLabel.objects.filter(workflow=COMPLAINTS.key)}
        c.execute(f"""
            INSERT INTO care_complaint (number, shop_id, contact_name, contact_phone, channel, text, emotion_suggested,
                emotion, emotion_matches, reason, our_fault, resolution, status_id, opened_at, updated_at, breached,
                checklist, resolved_at)
            SELECT 'TS' || lpad(g::text, 9, '0'), {low} + g % {span}, '客户', '', 'phone', '太差', 'anger', 'anger', '{{}}',
                (ARRAY['quality','attitude','slow_repair','charges','delivery',''])[1 + g % 6], g % 2 = 0, '',
                {ccats["resolved"]}, t, t, false, '{{}}', t
            FROM (SELECT g, now() - ((g::float / 50000) * interval '365 days') AS t
                  FROM generate_series(1, 50000) AS g) AS s
        """)
        # member customers with their agents (R-CARE-2) and a return visit for two in three (R-CARE-3)
        c.execute("SELECT id FROM org_staff WHERE position IN ('aftersales', 'team_lead') ORDER BY id")
        agents = [row[0] for row in c.fetchall()]
        c.execute("""
            INSERT INTO commerce_customer (platform, nick, name, phone, member_level, tags, first_seen_at)
            SELECT 'tmall', 'member' || g, '', '', 'VIP', '[]', now() - interval '300 days'
            FROM generate_series(1, 50000) AS g
        """)
        c.execute(f"""
            INSERT INTO commerce_order (shop_id, order_no, customer_id, buyer_nick, receiver_name, receiver_phone,
                address, province, city, status, platform_status, goods_amount, postage, total_amount, paid_amount,
                refunded_amount, ordered_at, courier, tracking_no, flag, memo, memo_valid, buyer_message,
                close_reason, items_title, item_count)
            SELECT {low} + (id % {span}), 'M' || id, id, nick, '', '', '', '', '', 'completed', '', 100, 0, 100, 100,
                0, now() - interval '300 days', '', '', 0, '', true, '', '', '', 1
            FROM commerce_customer WHERE nick LIKE 'member%%'
        """)
        c.execute(f"""
            INSERT INTO care_assignment (customer_id, agent_id, assigned_at, contact_due, contacted_at, active)
            SELECT id, (ARRAY{agents})[1 + id % {len(agents)}], now() - interval '300 days',
                now() - interval '293 days', now() - interval '295 days', true
            FROM commerce_customer WHERE nick LIKE 'member%%'
        """)
        c.execute("""
            INSERT INTO care_returnvisit (customer_id, agent_id, channel, topic, scheduled_at, done_at, opinion,
                suggestions, satisfaction)
            SELECT customer_id, agent_id, 'phone', 'opinion', now() - (id % 300) * interval '1 day',
                now() - (id % 300) * interval '1 day', '满意', '', 5
            FROM care_assignment WHERE id % 3 <> 0
        """)
        c.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--parts-lines", type=int, default=3_000_000)
    parser.add_argument("--pages", type=int, default=30, help="requests per inbox measurement")
    parser.add_argument("--evaluate", type=int, default=5000, help="warranty evaluations over HTTP")
    parser.add_argument("--only-evaluate", action="store_true", help="measure the warranty API alone")
    args = parser.parse_args()
    setup("postgres", NAME)
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["testserver", "127.0.0.1"]
    seed_org()
    if args.only_evaluate:
        print(json.dumps(evaluate(args.evaluate)))
        return
    t0 = time.perf_counter()
    generate(args.requests, args.parts_lines)
    from kefu.org.models import Shop, Staff
    from kefu.service.models import ServiceRequest, StockEntry

    print(
        json.dumps(
            {
                "service_requests": ServiceRequest.objects.count(),
                "parts_lines": StockEntry.objects.count(),
                "generate_s": round(time.perf_counter() - t0, 1),
            }
        ),
        flush=True,
    )
    shop = Shop.objects.get(code="haidaochuan").pk
    tech = Staff.objects.filter(position="technician").order_by("pk").first().pk  # type: ignore[union-attr]
    paths = [
        "/service/",
        f"/service/?category=scheduled&shop={shop}",
        f"/service/?technician={tech}&category=settled",
        "/service/?overdue=1",
    ]
    for user in ("boss", "lead"):
        for path in paths:
            result = measure_page(user, path, args.pages, row_link="/service/", chrome_links=0)
            print(json.dumps(result, ensure_ascii=False), flush=True)
    from django.test import Client

    from kefu.core import clock

    client = Client()
    client.login(username="boss", password=BENCH_PASSWORD)
    last = clock.today()
    first = last - dt.timedelta(days=365)
    from kefu.core import reports

    for slug in [r.slug for r in reports.all_reports()]:
        times = []
        for _ in range(3):
            t1 = time.perf_counter()
            response = client.get(f"/api/v1/reports/{slug}", {"from": first.isoformat(), "to": last.isoformat()})
            times.append(time.perf_counter() - t1)
            assert response.status_code == 200, response.content[:300]
        body = response.json()
        print(
            json.dumps(
                {
                    "report": slug,
                    "median_s": round(statistics.median(times), 3),
                    "max_s": round(max(times), 3),
                    "rows": len(body["rows"]),
                    "count": body["count"],
                }
            ),
            flush=True,
        )
    print(json.dumps(evaluate(args.evaluate)))


def evaluate(requests: int) -> dict[str, object]:
    facts = {
        "part": "unit",
        "purchase_date": "2026-01-10",
        "request_date": "2026-11-01",
        "causes": [],
        "repairs_in_warranty": 1,
        "request_open_days": 10,
        "return": {"invoice_date": "2026-01-10", "return_date": "2026-11-01", "price": "1999.00", "repair_days": 5},
    }
    return post_rps("/api/v1/service/warranty/evaluate", facts, requests=requests, concurrency=8)


if __name__ == "__main__":
    main()
