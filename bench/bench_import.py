"""Benchmark: import a generated 100,000-order Taobao export (legacy 订单报表, GBK CSV).

    python bench/bench_import.py --db sqlite|postgres [--orders 100000]

Target (issue 2): ≥ 2,000 orders/s on SQLite and on PostgreSQL on the 2-core machine.
Also times the re-import (idempotent: everything unchanged).
"""

from __future__ import annotations

import argparse
import json
import time

from _setup import OUT, setup


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--orders", type=int, default=100_000)
    args = parser.parse_args()
    setup(args.db, "kefu_bench_import")

    from kefu.commerce.models import Order
    from kefu.commerce.services import orders_import
    from kefu.core.events import SystemActor
    from kefu.demo import generate
    from kefu.org.services import shop_create

    actor = SystemActor("bench")
    shop = shop_create(actor=actor, name="海盗船", code="hdc")
    t0 = time.perf_counter()
    rows, _lines = generate.order_rows(shop_code="hdc", shop_name="海盗船", count=args.orders)
    data = generate.to_csv(generate.LEGACY_HEADER, rows)
    gen_s = time.perf_counter() - t0
    (OUT / f"orders-{args.orders}.csv").write_bytes(data)

    t0 = time.perf_counter()
    first = orders_import(actor=actor, shop=shop, data=data, file_name="ExportOrderList.csv")
    first_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    second = orders_import(actor=actor, shop=shop, data=data, file_name="ExportOrderList.csv")
    second_s = time.perf_counter() - t0
    assert first.created == args.orders and not first.failed, first.as_dict()
    assert second.unchanged == args.orders
    assert Order.objects.count() == args.orders
    result = {
        "db": args.db,
        "orders": args.orders,
        "file_mb": round(len(data) / 1e6, 1),
        "generate_s": round(gen_s, 2),
        "import_s": round(first_s, 2),
        "orders_per_s": round(args.orders / first_s),
        "reimport_s": round(second_s, 2),
        "reimport_orders_per_s": round(args.orders / second_s),
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
