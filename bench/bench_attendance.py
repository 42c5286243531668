"""Benchmark (issue 3): the monthly statement for 1,000 staff × one month (≈ 30,000 shifts, 60,000 punches)
in ≤ 2 s, and importing that month's DingTalk 每日统计 workbook in ≤ 10 s, on SQLite and PostgreSQL.

    python bench/bench_attendance.py --db sqlite|postgres [--staff 1000]
"""

from __future__ import annotations

import argparse
import json
import time
from decimal import Decimal

from _setup import OUT, setup


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--staff", type=int, default=1000)
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--month", type=int, default=10)
    args = parser.parse_args()
    setup(args.db, "kefu_bench_attendance")

    from kefu.core.events import SystemActor
    from kefu.demo.generate import dingtalk_daily_workbook
    from kefu.org.models import Staff, Team
    from kefu.workforce.models import Punch, RosterEntry
    from kefu.workforce.selectors import statements
    from kefu.workforce.services import attendance_import

    team = Team.objects.create(name="基准团队")
    Staff.objects.bulk_create(
        [
            Staff(
                employee_no=f"B{i:05d}",
                name=f"员工{i:05d}",
                position="presales",
                team=team,
                dingtalk_user_id=f"dt{i:05d}",
                base_salary=Decimal("4500"),
            )
            for i in range(args.staff)
        ]
    )
    people = [(f"员工{i:05d}", f"dt{i:05d}", "") for i in range(args.staff)]
    t0 = time.perf_counter()
    # Everyone scheduled every day: 1,000 × 31 ≈ 30,000 shifts and ≈ 60,000 punches, the scale.
    workbook = dingtalk_daily_workbook(people, args.year, args.month, rest_days=False)
    gen_s = time.perf_counter() - t0
    (OUT / "daily-statistics.xlsx").write_bytes(workbook)

    t0 = time.perf_counter()
    summary = attendance_import(actor=SystemActor("bench"), data=workbook, file_name="每日统计.xlsx")
    import_s = time.perf_counter() - t0
    assert not summary.failed, summary.failed[:3]
    shifts = RosterEntry.objects.exclude(shift_code="").count()
    punches = Punch.objects.count()

    staff = list(Staff.objects.order_by("employee_no"))
    timings = []
    for _ in range(3):
        t0 = time.perf_counter()
        result = statements(staff=staff, year=args.year, month=args.month)
        timings.append(time.perf_counter() - t0)
    incidents = sum(len(s.incidents) for s in result)
    print(
        json.dumps(
            {
                "db": args.db,
                "staff": len(staff),
                "shifts": shifts,
                "punches": punches,
                "workbook_rows": summary.created,
                "workbook_mb": round(len(workbook) / 1e6, 1),
                "generate_s": round(gen_s, 1),
                "import_s": round(import_s, 2),
                "statement_s": [round(t, 2) for t in timings],
                "statement_best_s": round(min(timings), 2),
                "incidents": incidents,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
