"""R-WFM-2, Erlang C for chat (issue 22): how many chat slots, agents and rostered heads an hour
needs to answer X % of its sessions within T seconds. Pure: no Django.

λ sessions an hour, each held AHT seconds on average, make an offered load of A = λ·AHT/3600
Erlangs. An agent serves up to ``concurrency`` sessions at once, so ``n`` slots are n / c agents.
With n > A slots, Erlang's C formula gives the probability that a session waits,

    C(n, A) = n·B(n, A) / (n − A·(1 − B(n, A))),

where B is Erlang's B formula, computed by its recursion B(0) = 1, B(k) = A·B(k−1) / (k + A·B(k−1)) —
no factorials or powers, so it stays exact for thousands of slots. The service level is

    SL(n) = 1 − C(n, A)·e^(−(n − A)·T / AHT),

and the requirement is the smallest n with SL(n) ≥ X; agents = ⌈n / c⌉, rostered heads =
⌈agents / (1 − shrinkage)⌉. With c = 1 this is the textbook call-centre case (200 calls an hour of
180 s, 80 % in 20 s → 14 agents, SL 0.8884).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .i18n import _

MAX_SLOTS = 100_000  # far beyond any team: a load that needs more is refused


def erlang_b(n: int, load: float) -> float:
    """Erlang's B (blocking) for ``n`` servers and ``load`` Erlangs, by the stable recursion."""
    b = 1.0
    for k in range(1, n + 1):
        b = load * b / (k + load * b)
    return b


def wait_probability(n: int, load: float) -> float:
    """Erlang's C: the probability that a session waits, for ``n`` slots and ``load`` Erlangs (1 when
    the slots cannot carry the load)."""
    if load <= 0:
        return 0.0
    if n <= load:
        return 1.0
    b = erlang_b(n, load)
    return min(1.0, n * b / (n - load * (1 - b)))


def service_level(n: int, load: float, answer_within: float, handle: float) -> float:
    """The share of sessions answered within ``answer_within`` seconds with ``n`` slots."""
    if load <= 0:
        return 1.0
    if n <= load:
        return 0.0
    level = 1.0 - wait_probability(n, load) * math.exp(-(n - load) * answer_within / handle)
    return max(0.0, min(1.0, level))


@dataclass(frozen=True)
class Requirement:
    slots: int
    agents: int
    rostered: int
    service_level: float  # achieved at ``slots``
    wait_probability: float  # achieved at ``slots``

    def as_dict(self) -> dict[str, object]:
        return {
            "slots": self.slots,
            "agents": self.agents,
            "rostered": self.rostered,
            "service_level": four_places(self.service_level),
            "wait_probability": four_places(self.wait_probability),
        }


def four_places(value: float) -> str:
    """A share as the API writes it: a decimal string with 4 places, rounded half-up."""
    return str(Decimal(repr(value)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def required(
    *,
    arrivals_per_hour: float,
    handle_seconds: float,
    concurrency: int,
    answer_within_seconds: float,
    service_level: float,
    shrinkage: float,
) -> Requirement:
    """The hour's requirement (R-WFM-2). ValueError names an impossible input."""
    if arrivals_per_hour < 0 or handle_seconds <= 0 or answer_within_seconds < 0:
        raise ValueError(_("arrivals must be ≥ 0, handle time > 0 and the answer time ≥ 0"))
    if concurrency < 1:
        raise ValueError(_("concurrency must be at least 1"))
    if not 0 < service_level < 1:
        raise ValueError(_("the service level is a share between 0 and 1"))
    if not 0 <= shrinkage < 1:
        raise ValueError(_("shrinkage is a share from 0 up to (not including) 1"))
    load = arrivals_per_hour * handle_seconds / 3600
    if load <= 0:
        return Requirement(0, 0, 0, 1.0, 0.0)
    target = service_level
    n = max(1, math.floor(load) + 1)
    # the recursion for B is walked once, slot by slot, as n grows
    b = erlang_b(n, load)
    while True:
        if n > MAX_SLOTS:
            raise ValueError(_("the load needs more than %(max)s slots") % {"max": MAX_SLOTS})
        c = min(1.0, n * b / (n - load * (1 - b)))
        level = max(0.0, min(1.0, 1.0 - c * math.exp(-(n - load) * answer_within_seconds / handle_seconds)))
        if level >= target:
            agents = math.ceil(n / concurrency)
            return Requirement(n, agents, math.ceil(agents / (1 - shrinkage) - 1e-9), level, c)
        n += 1
        b = load * b / (n + load * b)
