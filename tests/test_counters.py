"""Counters that hold under parallel requests where there is no Redis (issue 16 §6): one conditional
UPDATE per increment, so parallel callers never share a number. On PostgreSQL the callers really run
in parallel (threads on a barrier, a connection each); the test database of SQLite is in memory,
where threads get "table is locked" instead of waiting, so there they run one after another (a
file database serialises writers itself: one statement, one number)."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
import time_machine
from django.db import connection

from kefu.core import clock, counters

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.many_connections]


def _parallel(count: int, work: Any) -> list[Any]:
    if connection.vendor != "postgresql":
        return [work() for _ in range(count)]
    barrier = threading.Barrier(count)
    results: list[Any] = []

    def run() -> None:
        barrier.wait()
        try:
            results.append(work())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_parallel_increments_each_get_their_own_number() -> None:
    numbers = _parallel(40, lambda: counters.bump("k:parallel", 60))
    assert sorted(numbers) == list(range(1, 41))
    assert counters.peek("k:parallel") == 40


def test_a_counter_expires_restarts_and_can_be_lowered_and_forgotten() -> None:
    assert [counters.bump("k:a", 60) for _ in range(3)] == [1, 2, 3]
    counters.lower("k:a")
    assert counters.peek("k:a") == 2
    with time_machine.travel(clock.now() + dt.timedelta(seconds=61)):
        assert counters.peek("k:a") == 0
        assert counters.bump("k:a", 60) == 1  # an expired count starts again, with a new window
        assert counters.sweep() == 0
    with time_machine.travel(clock.now() + dt.timedelta(seconds=200)):
        assert counters.sweep() == 1
    counters.bump("k:b", 60)
    counters.forget("k:b")
    counters.lower("k:never")  # nothing to lower: no error, no row
    assert counters.peek("k:b") == 0 and counters.peek("k:never") == 0


def test_parallel_wrong_passwords_without_redis_are_checked_at_most_the_limit(settings: Any) -> None:
    """The embedded default's database cache incremented by a read and a write: parallel attempts
    shared numbers. The counter table gives each its own."""
    from kefu.core import throttle

    allowed = _parallel(60, lambda: throttle.login_attempt("boss", "203.0.113.9"))
    # at most the limit: each attempt has its own number on each of its three counters (the pair, the
    # address, the name); run in parallel an early pair number may meet a late address number, so
    # fewer may pass, never more
    assert 1 <= allowed.count(True) <= settings.KEFU_LOGIN_MAX_FAILURES and len(allowed) == 60
    assert counters.peek(throttle._keys("boss", "203.0.113.9")[0]) == 60
