"""Benchmark: the order list page with 1,000,000 orders (issue 2: ≤ 50 ms median, 50 rows, filters on,
constant number of queries).

    python bench/bench_order_list.py --db postgres [--orders 1000000] [--requests 40]

Orders are generated in the database (INSERT … SELECT generate_series) across 5 shops, all statuses
and provinces; then the page is requested through Django's full stack (middleware, session auth,
scoping, template) as a supervisor and as a team lead, with and without a deep cursor.
"""

from __future__ import annotations

import argparse
import json
import time

from _setup import measure_page, seed_org, setup

PROVINCES = [
    "江苏",
    "浙江",
    "上海",
    "广东",
    "北京",
    "四川",
    "湖北",
    "山东",
    "河南",
    "福建",
    "新疆",
    "西藏",
    "内蒙古",
    "海南",
    "甘肃",
    "青海",
    "宁夏",
    "广西",
    "云南",
    "辽宁",
    "湖南",
    "安徽",
]
STATUSES = ["awaiting_payment", "paid", "shipped", "finished", "closed"]


def generate(n: int) -> None:
    from django.db import connection

    seed_org()
    provinces = "ARRAY[" + ",".join(f"'{p}'" for p in PROVINCES) + "]"
    statuses = "ARRAY[" + ",".join(f"'{s}'" for s in STATUSES) + "]"
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM org_shop")
        low, high = cursor.fetchone()
        span = high - low + 1
        cursor.execute(f"""
            INSERT INTO commerce_order (shop_id, order_no, buyer_nick, receiver_name, receiver_phone, address, province,
                city, status, platform_status, goods_amount, postage, total_amount, paid_amount, refunded_amount,
                ordered_at, courier, tracking_no, flag, memo, memo_valid, buyer_message, close_reason, items_title,
                item_count, imported_at)
            SELECT {low} + floor(random() * {span})::int, (4000000000000000 + g)::text, 'tb' || (g % 200000), '', '', '',
                ({provinces})[1 + floor(random() * {len(PROVINCES)})::int], '', ({statuses})[1 + floor(random() * 5)::int], '', 100, 0, 100,
                100, 0, timestamptz '2025-01-01 00:00+08' + (g || ' minutes')::interval, '', '', floor(random() * 6)::int, '',
                (g % 17) <> 0, '', '', '商品', 1, now()
            FROM generate_series(1, {n}) AS g
        """)
        cursor.execute("ANALYZE commerce_order")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    if args.db != "postgres":
        raise SystemExit("the 1M-order list benchmark generates data with PostgreSQL SQL; use --db postgres")
    setup(args.db, "kefu_bench_list")
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["testserver"]
    t0 = time.perf_counter()
    generate(args.orders)
    gen_s = time.perf_counter() - t0
    from kefu.commerce.models import Order
    from kefu.org.models import Shop

    shop = Shop.objects.get(name="海盗船").pk
    deep = Order.objects.order_by("-ordered_at", "-id").values_list("ordered_at", "id")[args.orders // 2]
    from kefu.core.pagination import _encode

    cursor = _encode([deep[0], deep[1]])
    paths = [
        "/orders/",
        "/orders/?status=shipped&province=%E6%B1%9F%E8%8B%8F",
        f"/orders/?shop={shop}&status=finished&province=%E5%B9%BF%E4%B8%9C&date_from=2025-03-01&date_to=2026-12-31",
        f"/orders/?status=paid&flag=1&cursor={cursor}",
    ]
    results = [
        measure_page(user, path, args.requests, row_link="/orders/", chrome_links=2)
        for user in ("boss", "lead")
        for path in paths
    ]
    print(
        json.dumps({"db": args.db, "orders": Order.objects.count(), "generate_s": round(gen_s, 1)}, ensure_ascii=False)
    )
    for r in results:
        print(json.dumps(r, ensure_ascii=False))


if __name__ == "__main__":
    main()
