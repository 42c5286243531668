"""Benchmark: knowledge search (SPEC §8, issue 9) on the full catalogue, PostgreSQL.

    python bench/bench_knowledge.py [--products 200000] [--scripts 20000] [--questions 50000] [--requests 30]

Products with generated titles and parameters (the demo's kinds and choices), canned replies and
questions are inserted in bulk; then ``/desk/knowledge/`` is requested through the full Django stack
(supervisor and team lead) for parameter queries ("3000pa 白色"), a product name, a SKU and a
two-character Chinese term, and the API once.
"""

from __future__ import annotations

import argparse
import json
import random
from urllib.parse import urlencode

from _setup import measure_page, seed_org, setup

NAME = "kefu_bench_knowledge"


def generate(products: int, scripts: int, questions: int) -> None:
    import datetime as dt

    from kefu.commerce.models import Product, searchable
    from kefu.core.bulk import bulk_insert
    from kefu.demo.generate import KINDS, product_parameters
    from kefu.desk.models import Question, Script
    from kefu.org.models import Shop, Staff

    shops = list(Shop.objects.order_by("pk"))
    rng = random.Random(9)
    rows = []
    for i in range(products):
        shop = shops[i % len(shops)]
        kind = KINDS[i % len(KINDS)][0]
        title = f"{shop.name}{kind} {rng.choice(['Pro', 'Max', 'Lite', 'S', 'X'])}{i % 97}"
        sku = f"{shop.code.upper()}-{i:07d}"
        params = product_parameters(title, sku)
        rows.append((shop.pk, sku, title, kind, params, 199, 99, True, searchable(title, sku, kind, params)))
    bulk_insert(
        Product,
        ["shop_id", "sku", "title", "category", "parameters", "price", "cost_price", "active", "search_text"],
        rows,
    )
    now = dt.datetime.now(dt.UTC)
    staff = Staff.objects.order_by("pk").first()
    assert staff is not None
    bulk_insert(
        Script,
        ["shop_id", "category", "title", "text", "status", "created_at", "uses"],
        [
            (
                shops[i % len(shops)].pk,
                "物流",
                f"话术{i}",
                f"亲,{i % 50}点前付款当天发货,默认中通快递",
                "approved",
                now,
                0,
            )
            for i in range(scripts)
        ],
    )
    bulk_insert(
        Question,
        ["shop_id", "buyer", "question", "asked_at", "recorded_by_id", "answer"],
        [
            (shops[i % len(shops)].pk, f"b{i}", f"这款{KINDS[i % len(KINDS)][0]}噪音大吗{i}", now, staff.pk, "不大")
            for i in range(questions)
        ],
    )
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("commerce_product", "desk_script", "desk_question"):
            cursor.execute(f"ANALYZE {table}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=200_000)
    parser.add_argument("--scripts", type=int, default=20_000)
    parser.add_argument("--questions", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    setup("postgres", NAME)
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["testserver"]
    seed_org()
    import time

    t0 = time.perf_counter()
    generate(args.products, args.scripts, args.questions)
    print(json.dumps({"products": args.products, "generate_s": round(time.perf_counter() - t0, 1)}), flush=True)
    for user in ("boss", "lead"):
        for q in ("3000pa 白色", "扫地机器人 pro1", "HDC-0000042", "白色", "噪音"):
            path = "/desk/knowledge/?" + urlencode({"q": q})
            print(
                json.dumps(
                    measure_page(user, path, args.requests, row_link="/products/", chrome_links=0), ensure_ascii=False
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()
