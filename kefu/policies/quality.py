"""R-QA-1, quality inspection (质检) of a conversation's day, pure: the hits the policy's rules find
in its messages, each with its message, its rule and the agent to blame; and the day's score per
agent (R-QA-1: 100 − the policy's points per hit, never below 0). No Django imports.

Rules (SPEC §9a), read here as:

* ``forbidden_word`` — an agent's human message containing a word of the policy's list (不知道 …).
* ``over_promise`` — an agent's human message with a promise word (保证, 绝对 …) not negated in its
  clause ("不能保证" promises nothing; R-CARE-1's negation reading).
* ``slow_reply`` — a counted round of R-DESK-3 whose human reply came after the fast-reply limit
  (3 minutes), or after the platform's no-reply limit; blamed on the agent who replied.
* ``unanswered`` — a counted round with no human reply at all, once it can no longer be answered in
  time: the day's window has ended, or the conversation is closed. Blamed on the conversation's owner
  (no one when it had none). Reading: a missed round is ``unanswered``, not also ``slow_reply``; a
  round is one hit, not one per message in it.
* ``no_greeting`` — the day's first human reply in the conversation contains none of the greeting
  words (您好, 亲, 欢迎).
* ``rude_to_upset_buyer`` — a buyer message R-CARE-1 reads as angry or anxious (the policy's
  emotions) and the agent's next human reply contains none of the soothing words (抱歉, 理解 …).

The same messages always give the same hits whatever order they arrive in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from . import care
from . import desk as desk_rules

FORBIDDEN_WORD = "forbidden_word"
OVER_PROMISE = "over_promise"
SLOW_REPLY = "slow_reply"
UNANSWERED = "unanswered"
NO_GREETING = "no_greeting"
RUDE_TO_UPSET_BUYER = "rude_to_upset_buyer"
KINDS = (FORBIDDEN_WORD, OVER_PROMISE, SLOW_REPLY, UNANSWERED, NO_GREETING, RUDE_TO_UPSET_BUYER)
RULE = "R-QA-1"


class Line(NamedTuple):
    """One message of the conversation, as inspection reads it."""

    ident: int  # the message's id
    at: dt.datetime  # aware
    direction: str  # in | out | note
    kind: str  # text | image | auto | system
    agent: str | None  # the sender's employee no. (out messages)
    text: str


@dataclass(frozen=True)
class Rules:
    forbidden_words: tuple[str, ...]
    promise_words: tuple[str, ...]
    greeting_words: tuple[str, ...]
    soothing_words: tuple[str, ...]
    upset_emotions: tuple[str, ...]
    points_per_hit: int
    kpi: desk_rules.Rules  # the platform's round rules (R-DESK-3)


class Hit(NamedTuple):
    kind: str
    message: int  # the message the hit is about
    agent: str | None  # employee no., None when no one is to blame
    text: str  # what was found: the word, the wait, the reply
    day: dt.date  # the local day it belongs to: its message's, or for a round its start's


def rules_for(policy: Mapping[str, Any], platform: str) -> Rules:
    q = policy["quality"]
    return Rules(
        forbidden_words=tuple(q["forbidden_words"]),
        promise_words=tuple(q["promise_words"]),
        greeting_words=tuple(q["greeting_words"]),
        soothing_words=tuple(q["soothing_words"]),
        upset_emotions=tuple(q["upset_emotions"]),
        points_per_hit=int(q["points_per_hit"]),
        kpi=desk_rules.rules_for(policy, platform),
    )


def _human_reply(m: Line) -> bool:
    return m.direction == desk_rules.OUT and m.kind in desk_rules.HUMAN_KINDS and bool(m.agent)


def _buyer(m: Line) -> bool:
    return m.direction == desk_rules.IN and m.kind in desk_rules.HUMAN_KINDS


def _words(text: str, words: Iterable[str]) -> list[str]:
    return [w for w in words if w and w in text]


def inspect(
    lines: Sequence[Line],
    rules: Rules,
    policy: Mapping[str, Any],
    tz: ZoneInfo,
    *,
    owner: str | None,
    closed: bool,
    now: dt.datetime,
) -> list[Hit]:
    """Every hit in one conversation's messages (normally one local day of them, with the turn that
    runs into it). ``now`` decides whether an unanswered round is final yet."""
    ordered = sorted(lines, key=lambda m: (m.at, 0 if m.direction == desk_rules.IN else 1, m.ident))
    hits: list[Hit] = []
    greeted_days: set[dt.date] = set()
    upset_waiting: Line | None = None
    for m in ordered:
        if _buyer(m) and m.text:
            guess = care.suggest_emotion(policy, m.text)
            if guess.code in rules.upset_emotions:
                upset_waiting = upset_waiting or m
            continue
        if not _human_reply(m):
            continue
        day = m.at.astimezone(tz).date()
        if day not in greeted_days:
            greeted_days.add(day)
            if not _words(m.text, rules.greeting_words):
                hits.append(Hit(NO_GREETING, m.ident, m.agent, m.text[:80], day))
        for word in _words(m.text, rules.forbidden_words):
            hits.append(Hit(FORBIDDEN_WORD, m.ident, m.agent, word, day))
            break
        for word in rules.promise_words:
            if word and care._found(m.text, word):
                hits.append(Hit(OVER_PROMISE, m.ident, m.agent, word, day))
                break
        if upset_waiting is not None:
            if not _words(m.text, rules.soothing_words):
                hits.append(Hit(RUDE_TO_UPSET_BUYER, m.ident, m.agent, upset_waiting.text[:80], day))
            upset_waiting = None
    hits.extend(_round_hits(ordered, rules, tz, owner=owner, closed=closed, now=now))
    return sorted(hits, key=lambda h: (h.message, KINDS.index(h.kind)))


def _round_hits(
    ordered: Sequence[Line], rules: Rules, tz: ZoneInfo, *, owner: str | None, closed: bool, now: dt.datetime
) -> list[Hit]:
    messages = [desk_rules.Message(0, m.at, m.direction, m.kind, m.agent, f"{m.ident:020d}") for m in ordered]
    # a closed conversation's open round is final at once; otherwise when its window ends
    rounds = desk_rules.rounds(messages, rules.kpi, tz, owners={0: owner}, now=None if closed else now)
    by_time_in: dict[dt.datetime, Line] = {}
    by_time_out: dict[dt.datetime, Line] = {}
    for m in ordered:
        if _buyer(m):
            by_time_in.setdefault(m.at, m)
        elif _human_reply(m):
            by_time_out.setdefault(m.at, m)
    hits: list[Hit] = []
    for r in rounds:
        if not r.counted:
            continue
        start = by_time_in[r.start]
        day = r.start.astimezone(tz).date()
        if r.reply_at is None:
            late = _late_reply(ordered, start)
            if late is not None:  # replied, but past the platform's limit or the window's end
                waited = int((late.at - r.start).total_seconds())
                hits.append(Hit(SLOW_REPLY, late.ident, late.agent, _wait(waited), day))
            else:
                hits.append(Hit(UNANSWERED, start.ident, owner, start.text[:80], day))
        elif not r.fast:
            reply = by_time_out[r.reply_at]
            hits.append(
                Hit(SLOW_REPLY, reply.ident, reply.agent, _wait(int((r.reply_at - r.start).total_seconds())), day)
            )
    return hits


def _late_reply(ordered: Sequence[Line], start: Line) -> Line | None:
    seen = False
    for m in ordered:
        if m is start:
            seen = True
        elif seen and _human_reply(m):
            return m
    return None


def _wait(seconds: int) -> str:
    minutes, secs = divmod(max(seconds, 0), 60)
    return f"{minutes}:{secs:02d}"


def scores(hits: Iterable[tuple[str | None, int]], agents: Iterable[str], points_per_hit: int) -> dict[str, int]:
    """R-QA-1: each agent's day score, 100 − points per hit (``hits`` as (agent, count) or one pair
    per hit), floor 0. Agents with no hit score 100."""
    total: dict[str, int] = dict.fromkeys(agents, 0)
    for agent, count in hits:
        if agent:
            total[agent] = total.get(agent, 0) + count
    return {a: max(0, 100 - n * points_per_hit) for a, n in sorted(total.items())}
