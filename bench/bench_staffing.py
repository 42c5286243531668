"""Issue 22: Erlang C (R-WFM-2) at scale — the requirement of an hour needing about 1,000 slots.

    python bench/bench_staffing.py

Pure Python, no database: CPU per requirement (``time.process_time``) beside wall time.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kefu.policies.staffing import required


def main() -> None:
    cases = {
        "1,000 slots (12,000 sessions/h × 300 s, c=1, 90 % in 20 s)": {
            "arrivals_per_hour": 12_000, "handle_seconds": 300, "concurrency": 1,
            "answer_within_seconds": 20, "service_level": 0.9, "shrinkage": 0.3,
        },
        "a busy chat hour (600 sessions/h × 600 s, c=3, 80 % in 180 s)": {
            "arrivals_per_hour": 600, "handle_seconds": 600, "concurrency": 3,
            "answer_within_seconds": 180, "service_level": 0.8, "shrinkage": 0.3,
        },
    }  # fmt: skip
    for label, kwargs in cases.items():
        rounds = 200
        wall0, cpu0 = time.perf_counter(), time.process_time()
        for _ in range(rounds):
            result = required(**kwargs)  # type: ignore[arg-type]
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        print(
            json.dumps(
                {
                    "case": label,
                    **result.as_dict(),
                    "cpu_ms_per_requirement": round(cpu * 1000 / rounds, 3),
                    "wall_ms_per_requirement": round(wall * 1000 / rounds, 3),
                },
                ensure_ascii=False,
            )
        )


if __name__ == "__main__":
    main()
