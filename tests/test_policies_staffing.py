"""R-WFM-2 (issue 22): Erlang C for chat — the textbook cases, worked by hand, and its properties."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.policies.staffing import erlang_b, required, service_level, wait_probability


def test_the_textbook_call_centre() -> None:
    # 200 calls an hour of 180 s = 10 Erlangs; 80 % within 20 s needs 14 agents (SL 0.8884, C 0.1741);
    # 13 agents reach only 0.7956 (both from the exact formula with fractions: _exact below)
    r = required(
        arrivals_per_hour=200,
        handle_seconds=180,
        concurrency=1,
        answer_within_seconds=20,
        service_level=0.8,
        shrinkage=0,
    )
    assert (r.slots, r.agents, r.rostered) == (14, 14, 14)
    assert r.as_dict()["service_level"] == "0.8884" and r.as_dict()["wait_probability"] == "0.1741"
    assert round(service_level(13, 10.0, 20, 180), 4) == 0.7956


def test_chat_with_three_sessions_each_and_shrinkage() -> None:
    # the preset: c = 3, 80 % within 180 s, shrinkage 0.30. 120 sessions an hour of 600 s = 20 Erlangs.
    # By the exact formula (_exact below): 21 slots answer 43.7 %, 22 → 68.8 %, 23 → 83.1 % (C 0.4157):
    # 23 slots, ⌈23 / 3⌉ = 8 agents, ⌈8 / 0.7⌉ = ⌈11.43⌉ = 12 rostered heads
    r = required(
        arrivals_per_hour=120, handle_seconds=600, concurrency=3,
        answer_within_seconds=180, service_level=0.8, shrinkage=0.3,
    )  # fmt: skip
    assert (r.slots, r.agents, r.rostered) == (23, 8, 12)
    assert r.as_dict()["service_level"] == "0.8310" and r.as_dict()["wait_probability"] == "0.4157"
    assert round(service_level(22, 20.0, 180, 600), 4) == 0.6883
    assert service_level(20, 20.0, 180, 600) == 0.0  # as many slots as Erlangs: the queue never empties


def test_no_sessions_need_nobody() -> None:
    r = required(
        arrivals_per_hour=0,
        handle_seconds=300,
        concurrency=3,
        answer_within_seconds=180,
        service_level=0.8,
        shrinkage=0.3,
    )
    assert (r.slots, r.agents, r.rostered, r.as_dict()["service_level"]) == (0, 0, 0, "1.0000")


def test_stable_for_hundreds_of_slots() -> None:
    # 1,000 Erlangs: the factorial form overflows a float long before; the recursion does not
    r = required(
        arrivals_per_hour=12_000,
        handle_seconds=300,
        concurrency=1,
        answer_within_seconds=20,
        service_level=0.9,
        shrinkage=0,
    )
    assert 1_000 < r.slots < 1_100 and 0.9 <= r.service_level <= 1
    assert 0 < erlang_b(1_000, 1_000.0) < 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"arrivals_per_hour": -1},
        {"handle_seconds": 0},
        {"concurrency": 0},
        {"service_level": 1},
        {"service_level": 0},
        {"shrinkage": 1},
        {"answer_within_seconds": -5},
    ],
)
def test_impossible_inputs_are_refused(kwargs: dict[str, float]) -> None:
    base = {
        "arrivals_per_hour": 100, "handle_seconds": 300, "concurrency": 3,
        "answer_within_seconds": 180, "service_level": 0.8, "shrinkage": 0.3,
    }  # fmt: skip
    with pytest.raises(ValueError):
        required(**{**base, **kwargs})  # type: ignore[arg-type]


loads = st.floats(min_value=0.01, max_value=400, allow_nan=False)
times = st.floats(min_value=1, max_value=3600, allow_nan=False)


@settings(max_examples=150, deadline=None)
@given(load=loads, handle=times, within=st.floats(min_value=0, max_value=600), extra=st.integers(0, 50))
def test_more_slots_never_lower_the_service_level(load: float, handle: float, within: float, extra: int) -> None:
    n = math.floor(load) + 1 + extra
    assert service_level(n + 1, load, within, handle) >= service_level(n, load, within, handle) - 1e-12
    assert 0 <= wait_probability(n, load) <= 1


@settings(max_examples=150, deadline=None)
@given(
    arrivals=st.floats(min_value=0, max_value=3000, allow_nan=False),
    more=st.floats(min_value=0, max_value=500, allow_nan=False),
    handle=times,
    within=st.floats(min_value=0, max_value=600),
    target=st.floats(min_value=0.05, max_value=0.99),
    concurrency=st.integers(1, 5),
)
def test_more_arrivals_never_lower_the_requirement(
    arrivals: float, more: float, handle: float, within: float, target: float, concurrency: int
) -> None:
    def need(rate: float) -> object:
        return required(
            arrivals_per_hour=rate, handle_seconds=handle, concurrency=concurrency,
            answer_within_seconds=within, service_level=target, shrinkage=0.3,
        )  # fmt: skip

    low, high = need(arrivals), need(arrivals + more)
    assert high.slots >= low.slots and high.agents >= low.agents and high.rostered >= low.rostered  # type: ignore[attr-defined]
    # the requirement is the smallest: one slot fewer misses the target (unless the load needs none)
    load = arrivals * handle / 3600
    if low.slots > math.floor(load) + 1:  # type: ignore[attr-defined]
        assert service_level(low.slots - 1, load, within, handle) < target  # type: ignore[attr-defined]
    if low.slots:  # type: ignore[attr-defined]
        assert service_level(low.slots, load, within, handle) >= target  # type: ignore[attr-defined]


def _exact(n: int, load: Fraction) -> Fraction:
    """Erlang C by its definition, in exact fractions (the oracle)."""
    below = sum(load**k / math.factorial(k) for k in range(n))
    top = load**n / math.factorial(n) * Fraction(n) / (n - load)
    return top / (below + top)


@settings(max_examples=100, deadline=None)
@given(n=st.integers(1, 60), load_hundredths=st.integers(1, 5_000))
def test_the_recursion_equals_the_definition(n: int, load_hundredths: int) -> None:
    load = Fraction(load_hundredths, 100)
    if n <= load:
        assert wait_probability(n, float(load)) == 1.0
        return
    assert math.isclose(wait_probability(n, float(load)), float(_exact(n, load)), rel_tol=1e-9, abs_tol=1e-12)


@pytest.mark.django_db
def test_the_api(client: Any, world: Any) -> None:
    from tests.conftest import PASSWORD

    body = {
        "arrivals_per_hour": 120, "handle_seconds": "600", "concurrency": 3,
        "answer_within_seconds": 180, "service_level": "0.8", "shrinkage": "0.30",
    }  # fmt: skip
    assert client.post("/api/v1/staffing/erlang", body, content_type="application/json").status_code == 401
    assert client.login(username=world.agent_a.username, password=PASSWORD)
    answer = client.post("/api/v1/staffing/erlang", body, content_type="application/json")
    assert answer.status_code == 200
    assert answer.json() == {
        "slots": 23, "agents": 8, "rostered": 12, "service_level": "0.8310", "wait_probability": "0.4157",
    }  # fmt: skip
    for bad in ({"service_level": "1.2"}, {"concurrency": 0}, {"handle_seconds": "abc"}, {"shrinkage": 1}):
        refused = client.post("/api/v1/staffing/erlang", {**body, **bad}, content_type="application/json")
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "validation_error"
    huge = client.post(
        "/api/v1/staffing/erlang",
        {**body, "arrivals_per_hour": 1_000_000, "handle_seconds": 86_400},
        content_type="application/json",
    )
    assert huge.status_code == 400
