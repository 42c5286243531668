"""Customer care rules (SPEC §7, R-CARE-1 … R-CARE-3), pure Python.

- ``suggest_emotion``: R-CARE-1's transparent keyword model — each keyword of an emotion found in
  the text (not right after a negation: "我不着急" is not anxiety) scores one; two or more
  exclamation marks in a row score one for shouting. The highest score is suggested (ties in the
  policy's order); the matches are returned so the agent sees why.
- ``in_rest_hours`` / ``next_allowed``: R-CARE-3 — a return visit is never scheduled inside the
  customer's rest windows (a window may wrap midnight: 21:00–09:00).
- ``propose_assignment``: R-CARE-2 — new customers spread over agents so that each agent's count
  stays proportional to their skill weight: each customer goes to the agent whose
  (count + 1) / skill is lowest (ties: fewest customers, then the agent's order).
- ``coverage``: R-CARE-3 — visited members / members, as a percentage with two places.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

_SHOUT = re.compile(r"[!！]{2,}")


@dataclass
class EmotionGuess:
    code: str | None
    scores: dict[str, int] = field(default_factory=dict)
    matches: dict[str, list[str]] = field(default_factory=dict)


# A keyword with one of these in the three characters before it does not count: "我不着急" is not
# 焦急, "不太急" neither.
NEGATIONS = ("不", "没", "没有", "别", "不是", "并不", "不太", "一点也不", "不会", "不用")


_CLAUSE_BREAK = re.compile(r"[，,。.！!？?；;：:\s]")


def _found(text: str, word: str) -> bool:
    """``word`` occurs in ``text`` at least once not preceded by a negation."""
    start = text.find(word)
    while start != -1:
        before = text[max(0, start - 3) : start]  # "不着急", "不太急", "没有生气"
        before = _CLAUSE_BREAK.split(before)[-1]  # a negation ends with its clause: "不。气死了" is angry
        if not any(n in before for n in NEGATIONS):
            return True
        start = text.find(word, start + 1)
    return False


def suggest_emotion(policy: Mapping[str, Any], text: str) -> EmotionGuess:
    rows = policy["care"].get("emotions") or []
    scores: dict[str, int] = {}
    matches: dict[str, list[str]] = {}
    for row in rows:
        code = str(row["code"])
        found = [w for w in row.get("keywords", []) if w and _found(text, w)]
        if code == "shouting":
            found += _SHOUT.findall(text)
        if found:
            scores[code] = len(found)
            matches[code] = found
    if not scores:
        return EmotionGuess(None)
    order = [str(r["code"]) for r in rows]
    best = max(scores, key=lambda c: (scores[c], -order.index(c)))
    return EmotionGuess(best, scores, matches)


def _hhmm(text: str) -> dt.time:
    hours, minutes = text.split(":")
    return dt.time(int(hours) % 24, int(minutes))


def in_rest_hours(moment: dt.time, windows: Iterable[Sequence[str]]) -> bool:
    """Whether a local time of day falls inside one of the rest windows (start inclusive, end exclusive)."""
    for start_text, end_text in windows:
        start, end = _hhmm(start_text), _hhmm(end_text)
        if start <= end:
            if start <= moment < end:
                return True
        elif moment >= start or moment < end:  # wraps midnight
            return True
    return False


def next_allowed(moment: dt.datetime, windows: Sequence[Sequence[str]]) -> dt.datetime:
    """The first minute at or after a local ``moment`` outside every rest window."""
    current = moment.replace(second=0, microsecond=0)
    for _ in range(2 * 24 * 60):
        if not in_rest_hours(current.time(), windows):
            return current
        current += dt.timedelta(minutes=1)
    return moment  # every minute is rest: the policy validation refuses that; never loop for ever


def propose_assignment(customers: Sequence[Any], agents: Sequence[tuple[Any, int, int]]) -> list[tuple[Any, Any]]:
    """``agents``: (agent, customers already assigned, skill weight ≥ 1). Returns (customer, agent)
    pairs in the customers' order."""
    if not agents:
        return []
    counts = {i: max(0, int(n)) for i, (_a, n, _s) in enumerate(agents)}
    skills = {i: max(1, int(s)) for i, (_a, _n, s) in enumerate(agents)}
    out = []
    for customer in customers:
        i = min(counts, key=lambda k: (Decimal(counts[k] + 1) / skills[k], counts[k], k))
        counts[i] += 1
        out.append((customer, agents[i][0]))
    return out


def coverage(members: int, visited: int) -> Decimal | None:
    if members <= 0:
        return None
    return (Decimal(min(visited, members)) * 100 / members).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
