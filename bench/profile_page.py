"""Where a page's web CPU goes (issue 20 §2): cProfile over N requests of one page on the bench
database that ``bench_pages.py --keep`` leaves, summed by where the time is spent.

    python bench/profile_page.py /aftersales/ --user lead --scale 10000 [--top 30]

Prints the share of the time (own time of each function) by area — templates, ORM, SQL driver,
translation, URL reversing, the project's own code — then the top functions by own time.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

from _setup import BENCH_PASSWORD, setup

AREAS = (
    ("templates", ("django/template/", "jinja2/", "template_partials/")),
    ("ORM", ("django/db/models/",)),
    ("SQL compile/driver", ("django/db/backends/", "psycopg", "sqlite3")),
    ("translation", ("django/utils/translation/", "gettext", "django/utils/functional")),
    ("URL reversing", ("django/urls/",)),
    ("forms", ("django/forms/",)),
    ("middleware/auth/session", ("django/contrib/", "django/middleware/", "django_htmx/", "django/core/handlers/")),
    ("kefu", ("/kefu/",)),
)


def area(filename: str) -> str:
    for name, needles in AREAS:
        if any(n in filename for n in needles):
            return name
    return "other"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--user", default="lead")
    parser.add_argument("--scale", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument(
        "--cumulative", nargs="*", default=[], help="print cumulative times of functions matching these"
    )
    parser.add_argument("--callers", nargs="*", default=[], help="also print who calls these functions")
    args = parser.parse_args()
    setup("postgres", f"kefu_bench_pages_{args.scale}", keep=True)
    from django.conf import settings
    from django.test import Client

    settings.ALLOWED_HOSTS = ["testserver"]
    client = Client()
    assert client.login(username=args.user, password=BENCH_PASSWORD)
    for _ in range(3):
        assert client.get(args.path).status_code == 200
    c0 = time.thread_time()
    for _ in range(args.requests):
        client.get(args.path)
    plain = (time.thread_time() - c0) * 1000 / args.requests
    profile = cProfile.Profile(time.thread_time)  # CPU: waiting for the database is not the page's work
    profile.enable()
    for _ in range(args.requests):
        client.get(args.path)
    profile.disable()
    stats = pstats.Stats(profile)
    total = sum(row[2] for row in stats.stats.values())  # type: ignore[attr-defined]
    by_area: dict[str, float] = {}
    for (filename, _line, _name), row in stats.stats.items():  # type: ignore[attr-defined]
        by_area[area(filename)] = by_area.get(area(filename), 0.0) + row[2]
    print(f"{args.path} as {args.user}: {plain:.2f} ms web CPU per request without the profiler")
    for name, seconds in sorted(by_area.items(), key=lambda kv: -kv[1]):
        print(f"  {name:28s} {seconds / total:6.1%}")
    stats.sort_stats("tottime").print_stats(args.top)
    if args.cumulative:
        stats.sort_stats("cumulative").print_stats(
            args.cumulative[0], int(args.cumulative[1]) if len(args.cumulative) > 1 else 40
        )
    for name in args.callers:
        stats.print_callers(name)


if __name__ == "__main__":
    main()
