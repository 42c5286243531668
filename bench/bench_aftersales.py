"""Benchmarks (issue 4), PostgreSQL by default:

- the case inbox with 1,000,000 cases: median ≤ 50 ms (50 rows, filters on), constant queries;
- the weekly report over a week of 20,000 cases: ≤ 1 s;
- ``POST /api/v1/aftersales/evaluate`` over HTTP (gunicorn, 2 workers, token auth): ≥ 500 requests/s,
  measured with ApacheBench (``apt-get install apache2-utils``; ``make bench`` installs it).

    python bench/bench_aftersales.py [--cases 1000000] [--week-cases 20000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

from _setup import BENCH_PASSWORD, measure_page, post_rps, seed_org, setup

TYPES = [
    "logistics_exception",
    "lost_parcel",
    "missing_item",
    "wrong_item",
    "defect",
    "quality",
    "agent_error",
    "return",
    "exchange",
    "refund_only",
    "dispute",
    "negative_review",
]
CATEGORIES = ["open", "waiting_buyer", "waiting_warehouse", "waiting_courier", "waiting_platform", "resolved", "closed"]
RESP = ["ours_agent", "ours_warehouse", "ours_product", "courier", "buyer", "undetermined"]


def generate_cases(n: int, *, start: str, minutes_apart: float) -> None:
    from django.db import connection

    arr = lambda xs: "ARRAY[" + ",".join(f"'{x}'" for x in xs) + "]"  # noqa: E731
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM org_shop")
        low, high = cursor.fetchone()
        from kefu.aftersales.workflow import CASES
        from kefu.workflow.selectors import default_labels

        status_by_cat = {category: label.pk for category, label in default_labels(CASES).items()}
        cursor.execute("SELECT id FROM org_staff ORDER BY id")
        staff = [r[0] for r in cursor.fetchall()]
        cases = " ".join(f"WHEN '{c}' THEN {status_by_cat[c]}" for c in CATEGORIES)
        series = f"generate_series(1, {n}) AS g"
        opened = f"timestamptz '{start}' + (g * {minutes_apart} || ' minutes')::interval"

        def pick(xs: list[str]) -> str:
            return f"({arr(xs)})[1 + floor(random() * {len(xs)})::int]"

        # the schema of the workflow core (issue 10): the status label carries the category
        cursor.execute(f"""
            INSERT INTO aftersales_case (case_type, shop_id, buyer_nick, owner_id, status_id, responsibility,
                reason, summary, facts, checklist, resolution, opened_at, updated_at, sla_due_at, breached,
                external_ref, closed_at)
            SELECT t.case_type, t.shop_id, 'tb' || (t.g % 100000), {staff[0]} + (t.g % {len(staff)}),
                CASE t.category {cases} END, t.resp, '', '', '{{}}', '{{}}', '', t.opened, t.opened,
                t.opened, (t.g % 23) = 0, '', CASE WHEN t.category = 'closed' THEN t.opened END
            FROM (SELECT g, {pick(TYPES)} AS case_type, {low} + (g % {high - low + 1}) AS shop_id,
                         {pick(CATEGORIES)} AS category, {pick(RESP)} AS resp, {opened} AS opened
                  FROM {series}) AS t
        """)
        cursor.execute("ANALYZE aftersales_case")


def evaluate_rps(requests: int, concurrency: int) -> dict[str, object]:
    body = {
        "case_type": "wrong_item",
        "province": "广东",
        "line_value": "39.00",
        "wrong_item_value": "8.00",
        "shipped_matches_order": False,
    }
    return post_rps("/api/v1/aftersales/evaluate", body, requests=requests, concurrency=concurrency)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["postgres"], default="postgres")  # the data is generated in SQL
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--week-cases", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    url = setup(args.db, "kefu_bench_aftersales")
    os.environ["KEFU_DATABASE_URL"] = url
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["testserver", "127.0.0.1"]
    seed_org()
    t0 = time.perf_counter()
    generate_cases(args.cases, start="2024-01-01 00:00:00+08", minutes_apart=1)
    generate_cases(args.week_cases, start="2026-11-09 00:00:00+08", minutes_apart=10080 / args.week_cases)
    from django.db import connection

    with connection.cursor() as cursor:  # one money line per case of the report week
        cursor.execute("""
            INSERT INTO aftersales_moneyline (case_id, kind, amount, status, needs_supervisor, rule, note, created_at)
            SELECT id, CASE id % 4 WHEN 0 THEN 'refund' WHEN 1 THEN 'partial_refund' WHEN 2 THEN 'freight_borne'
                   ELSE 'reship_cost' END, 10 + id % 90, CASE id % 4 WHEN 0 THEN 'approved' WHEN 1 THEN 'requested'
                   ELSE 'posted' END, false, '', '', opened_at
            FROM aftersales_case WHERE opened_at >= '2026-11-09 00:00:00+08' AND opened_at < '2026-11-16 00:00:00+08'
        """)
    gen_s = time.perf_counter() - t0
    from kefu.aftersales.models import Case
    from kefu.org.models import Shop

    shop = Shop.objects.get(name="海盗船").pk
    print(json.dumps({"db": args.db, "cases": Case.objects.count(), "generate_s": round(gen_s, 1)}))
    paths = [
        "/aftersales/",
        "/aftersales/?type=wrong_item&category=waiting_buyer",
        f"/aftersales/?shop={shop}&type=lost_parcel&all=1",
        "/aftersales/?overdue=1&category=open",
    ]
    for user in ("boss", "lead"):
        for path in paths:
            print(
                json.dumps(
                    measure_page(user, path, args.requests, row_link="/aftersales/", chrome_links=8), ensure_ascii=False
                )
            )
    from django.test import Client

    client = Client()
    client.login(username="boss", password=BENCH_PASSWORD)
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        response = client.get("/aftersales/report/?week=2026-11-09")
        times.append(time.perf_counter() - t0)
        assert response.status_code == 200
    print(
        json.dumps(
            {
                "weekly_report_cases": args.week_cases,
                "report_s": [round(t, 3) for t in times],
                "median_s": round(statistics.median(times), 3),
            }
        )
    )
    print(json.dumps(evaluate_rps(5000, 8)))


if __name__ == "__main__":
    main()
