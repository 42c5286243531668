"""R-DESK-3 KPIs: the platform's worked examples (FORMATS.md §3) and properties."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from kefu.policies import handbook
from kefu.policies.desk import Message, Payment, Round, Turn, day_kpis, merge, rounds, rounds_of_turns, rules_for

TZ = ZoneInfo("Asia/Shanghai")
POLICY = handbook.load_preset()
TAOBAO = rules_for(POLICY, "tmall")
PDD = rules_for(POLICY, "pinduoduo")
DAY = dt.date(2026, 11, 10)


def at(hh: int, mm: int, ss: int = 0, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hh, mm, ss), tzinfo=TZ)


def ask(t: dt.datetime, conv: str = "c1", n: str = "") -> Message:
    return Message(conv, t, "in", "text", None, f"in-{conv}-{t.isoformat()}-{n}")


def reply(t: dt.datetime, agent: str = "K103", conv: str = "c1", kind: str = "text") -> Message:
    return Message(conv, t, "out", kind, agent if kind != "system" else None, f"out-{conv}-{t.isoformat()}-{kind}")


def test_platform_example_one_round_answered_late() -> None:
    # buyer asks 10:10:15 and again 10:15:20, the seller answers 10:18:10 → one round, 0/1
    msgs = [ask(at(10, 10, 15)), ask(at(10, 15, 20)), reply(at(10, 18, 10))]
    (r,) = rounds(msgs, TAOBAO, TZ)
    assert r.seconds == Decimal(475) and not r.fast
    k = day_kpis(msgs, [], TAOBAO, TZ)
    assert (k.total.rounds, k.total.answered_3min) == (1, 0)


def test_platform_example_second_round_answered_in_time() -> None:
    # … then asks 10:18:30 and is answered 10:19:00 → a second round, in time: 1/2
    msgs = [ask(at(10, 10, 15)), ask(at(10, 15, 20)), reply(at(10, 18, 10)), ask(at(10, 18, 30)), reply(at(10, 19))]
    k = day_kpis(msgs, [], TAOBAO, TZ)
    assert (k.total.rounds, k.total.answered_3min) == (2, 1)
    assert k.total.as_dict()["response_3min_rate"] == "0.5000"
    # average (475 + 30) / 2; first response = the first round's 475 s
    assert k.agents["K103"].as_dict()["avg_response_seconds"] == "252.50"
    assert k.agents["K103"].as_dict()["first_response_seconds"] == "475.00"


def test_platform_example_ten_questions_unanswered_until_midnight() -> None:
    asks = [ask(at(15, 0) + dt.timedelta(seconds=15 * i), n=str(i)) for i in range(10)]
    k = day_kpis(asks, [], TAOBAO, TZ, owners={"c1": "K104"})
    assert (k.total.rounds, k.total.answered_3min) == (1, 0)
    # missed: enters the averages at the 10-minute cap, and belongs to the conversation's owner
    assert k.agents["K104"].as_dict()["avg_response_seconds"] == "600.00"
    # answered after midnight (past the window's end): still missed, for whoever answered late
    late = day_kpis([*asks, reply(at(0, 5, day=DAY + dt.timedelta(days=1)))], [], TAOBAO, TZ, owners={"c1": "K104"})
    assert (late.total.rounds, late.total.answered_3min) == (1, 0)
    assert late.agents["K103"].as_dict()["avg_response_seconds"] == "600.00"


def test_auto_replies_and_system_messages_never_end_a_round() -> None:
    msgs = [ask(at(9, 0)), reply(at(9, 0, 5), kind="auto"), reply(at(9, 0, 6), kind="system"), reply(at(9, 4))]
    (r,) = rounds(msgs, TAOBAO, TZ)
    assert r.seconds == Decimal(240) and r.agent == "K103"


def test_response_time_is_capped_at_ten_minutes() -> None:
    (r,) = rounds([ask(at(9, 0)), reply(at(9, 25))], TAOBAO, TZ)
    assert r.seconds == Decimal(600) and r.reply_at is not None


def test_rounds_outside_the_service_window_do_not_count() -> None:
    msgs = [ask(at(7, 30)), reply(at(7, 31)), ask(at(8, 0)), reply(at(8, 1))]
    k = day_kpis(msgs, [], TAOBAO, TZ)
    assert k.total.rounds == 1  # the 07:30 round started before 08:00


def test_pinduoduo_window_ends_at_23_and_a_reply_after_an_hour_is_no_reply() -> None:
    late = [ask(at(23, 10)), reply(at(23, 11))]
    assert day_kpis(late, [], PDD, TZ).total.rounds == 0
    assert day_kpis(late, [], TAOBAO, TZ).total.rounds == 1
    slow = [ask(at(10, 0)), reply(at(11, 1))]
    (r,) = rounds(slow, PDD, TZ)
    assert r.reply_at is None and r.seconds == Decimal(600)


def test_conversion_counts_distinct_buyers_for_the_agent_of_the_last_round_before_payment() -> None:
    msgs = [
        ask(at(9, 0), "c1"),
        reply(at(9, 1), "K103", "c1"),
        ask(at(9, 30), "c1"),
        reply(at(9, 31), "K104", "c1"),  # transferred: K104 serves the last round before payment
        ask(at(10, 0), "c2"),
        reply(at(10, 2), "K103", "c2"),
        ask(at(11, 0), "c3"),
        reply(at(11, 1), "K103", "c3"),
    ]
    payments = [
        Payment("c1", at(9, 45), Decimal("199.00")),
        Payment("c1", at(9, 50), Decimal("20.00")),  # the same buyer twice: one paid buyer
        Payment("c2", at(10, 0) + dt.timedelta(days=4), Decimal("99.00")),  # outside the 3-day window
        Payment("c3", at(8, 0), Decimal("59.00")),  # paid before consulting: not a conversion
    ]
    k = day_kpis(msgs, payments, TAOBAO, TZ, transfers={"K103": 1})
    a, b = k.agents["K103"].as_dict(), k.agents["K104"].as_dict()
    assert (a["consulted_buyers"], a["paid_buyers"], a["conversion_rate"]) == (2, 0, "0.0000")
    assert (b["consulted_buyers"], b["paid_buyers"], b["sales"], b["aov"]) == (1, 1, "219.00", "219.00")
    t = k.total.as_dict()
    assert (t["consulted_buyers"], t["paid_buyers"], t["conversion_rate"], t["transfers"]) == (3, 1, "0.3333", 1)


def test_no_rounds_means_no_rate_rather_than_zero() -> None:
    k = day_kpis([], [], TAOBAO, TZ)
    assert k.total.as_dict()["response_3min_rate"] is None and k.total.rounds == 0


def test_merging_days_weights_by_rounds_not_by_day() -> None:
    one = day_kpis([ask(at(9, 0)), reply(at(9, 1))], [], TAOBAO, TZ)
    other_day = DAY + dt.timedelta(days=1)
    three = day_kpis(
        [m for i in range(3) for m in (ask(at(9, i * 10, day=other_day)), reply(at(9, i * 10 + 5, day=other_day)))],
        [],
        TAOBAO,
        TZ,
    )
    both = merge([one, three]).total.as_dict()
    assert both["rounds"] == 4 and both["answered_3min"] == 1 and both["response_3min_rate"] == "0.2500"
    assert both["avg_response_seconds"] == f"{Decimal(60 + 300 * 3) / 4:.2f}"


# --- properties ---------------------------------------------------------------------------------

events = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=16 * 3600),  # seconds after 08:00
        st.sampled_from(["in", "out", "auto", "system"]),
        st.sampled_from(["c1", "c2", "c3"]),
        st.sampled_from(["K103", "K104"]),
    ),
    max_size=30,
)


def _messages(spec: list[tuple[int, str, str, str]]) -> list[Message]:
    out = []
    for i, (sec, what, conv, agent) in enumerate(spec):
        t = at(8, 0) + dt.timedelta(seconds=sec)
        if what == "in":
            out.append(Message(conv, t, "in", "text", None, f"m{i}"))
        elif what == "out":
            out.append(Message(conv, t, "out", "text", agent, f"m{i}"))
        else:
            out.append(Message(conv, t, "out", what, None, f"m{i}"))
    return out


def _figures(msgs: list[Message]) -> dict[str, object]:
    k = day_kpis(msgs, [Payment("c1", at(12, 0), Decimal("10"))], TAOBAO, TZ, owners={"c2": "K104"})
    return {"total": k.total.as_dict(), **{a: f.as_dict() for a, f in k.agents.items()}}


@given(events, st.randoms())
def test_message_order_never_changes_a_kpi(spec: list[tuple[int, str, str, str]], rnd: object) -> None:
    msgs = _messages(spec)
    shuffled = list(msgs)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert _figures(shuffled) == _figures(msgs)


@given(events, st.data())
def test_a_redelivered_message_never_changes_a_kpi(spec: list[tuple[int, str, str, str]], data: st.DataObject) -> None:
    msgs = _messages(spec)
    if not msgs:
        return
    again = data.draw(st.sampled_from(msgs))
    # the pipeline stores one copy per channel + id; the KPIs read what is stored
    stored = {m.ident: m for m in [*msgs, again]}
    assert _figures(list(stored.values())) == _figures(msgs)


@given(events)
def test_an_auto_reply_never_ends_a_round(spec: list[tuple[int, str, str, str]]) -> None:
    msgs = _messages(spec)
    without_auto = [m for m in msgs if m.kind not in {"auto", "system"}]
    assert [(r.conversation, r.start, r.reply_at) for r in rounds(msgs, TAOBAO, TZ)] == [
        (r.conversation, r.start, r.reply_at) for r in rounds(without_auto, TAOBAO, TZ)
    ]


@given(events, st.integers(min_value=0, max_value=29))
def test_one_more_minute_of_delay_never_raises_the_3_minute_rate(
    spec: list[tuple[int, str, str, str]], which: int
) -> None:
    """A reply that answered a round, sent one minute later, never answers more rounds in time, and
    never raises the rate while the rounds stay the same. (It may merge two rounds into one — the
    buyer's next question now comes before the reply, FORMATS §3's own example — and then the rate
    of fewer rounds can rise: 1 of 2 becomes 1 of 1. Hypothesis found that case.)"""
    msgs = _messages(spec)
    answered = {(r.conversation, r.reply_at) for r in rounds(msgs, TAOBAO, TZ) if r.reply_at is not None}
    replies = [i for i, m in enumerate(msgs) if m.human_reply and (m.conversation, m.at) in answered]
    if not replies:
        return
    i = replies[which % len(replies)]
    delayed = list(msgs)
    m = msgs[i]
    delayed[i] = Message(m.conversation, m.at + dt.timedelta(minutes=1), m.direction, m.kind, m.agent, m.ident)
    before = day_kpis(msgs, [], TAOBAO, TZ).total
    after = day_kpis(delayed, [], TAOBAO, TZ).total
    if before.rounds and after.rounds == before.rounds:
        assert Decimal(after.answered_3min) / after.rounds <= Decimal(before.answered_3min) / before.rounds
    assert after.answered_3min <= before.answered_3min


def test_an_open_round_of_today_is_not_missed_before_the_window_ends() -> None:
    asks = [ask(at(9, 0))]
    assert day_kpis(asks, [], TAOBAO, TZ, now=at(9, 20)).total.rounds == 0  # still open
    late = day_kpis(asks, [], TAOBAO, TZ, now=at(0, 0, day=DAY + dt.timedelta(days=1)))
    assert (late.total.rounds, late.total.answered_3min) == (1, 0)  # the window ended: missed


# --- the bulk pass against the rule written turn by turn ------------------------------------------


def _round_of(turn: Turn, rules: object, now: dt.datetime | None) -> Round | None:
    """R-DESK-3 for one turn, written plainly (the oracle ``rounds_of_turns`` must equal)."""
    conversation, start, reply_at, agent = turn
    if start is None:
        return None
    local = start.astimezone(TZ)
    begins = dt.datetime.combine(local.date(), rules.window_start, tzinfo=TZ)  # type: ignore[attr-defined]
    end_time = rules.window_end  # type: ignore[attr-defined]
    ends = (
        dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(0, 0), tzinfo=TZ)
        if end_time is None
        else dt.datetime.combine(local.date(), end_time, tzinfo=TZ)
    )
    counted = begins <= local < ends
    cap = Decimal(rules.cap_seconds)  # type: ignore[attr-defined]
    if reply_at is None and now is not None and now < ends:
        return None
    if reply_at is not None:
        waited = Decimal((reply_at - start).total_seconds())
        limit = rules.no_reply_after_seconds  # type: ignore[attr-defined]
        if not (reply_at >= ends or (limit is not None and waited > limit)):
            return Round(conversation, start, reply_at, agent, counted, min(waited, cap), waited <= rules.fast_seconds)  # type: ignore[attr-defined]
    return Round(conversation, start, None, agent or {"c2": "K104"}.get(conversation), counted, cap, False)


def _edges() -> list[dt.datetime]:
    """Where the rule changes its mind: each window's ends, to the microsecond either side."""
    out = []
    for day in (DAY - dt.timedelta(days=1), DAY, DAY + dt.timedelta(days=1)):
        for rules in (TAOBAO, PDD):
            for t in (rules.window_start, rules.window_end or dt.time(0, 0)):
                edge = dt.datetime.combine(day, t, tzinfo=TZ)
                out += [edge - dt.timedelta(microseconds=1), edge, edge + dt.timedelta(microseconds=1)]
    return out


instants = st.one_of(
    st.integers(min_value=-6 * 3600 * 10**6, max_value=42 * 3600 * 10**6).map(
        lambda us: at(0, 0) + dt.timedelta(microseconds=us)  # two days, to the microsecond
    ),
    st.sampled_from(_edges()),
)
# a reply: none yet, a wait after the question (around the cap, the 3 minutes, the hour), or an instant
waits = st.one_of(
    st.integers(min_value=0, max_value=5 * 3600 * 10**6),
    st.sampled_from([180, 600, 3600]).flatmap(lambda s: st.sampled_from([s * 10**6 - 1, s * 10**6, s * 10**6 + 1])),
)
drawn_turns = st.lists(
    st.tuples(
        st.sampled_from(["c1", "c2", "c3"]),
        st.one_of(st.none(), instants),
        st.one_of(st.none(), waits, instants),
        st.sampled_from([None, "K103", "K104"]),
    ),
    max_size=40,
)


@given(drawn_turns, st.sampled_from([TAOBAO, PDD]), st.one_of(st.none(), instants))
def test_the_bulk_pass_is_the_rule_turn_by_turn(
    spec: list[tuple[str, Any, Any, str | None]], rules: object, now: dt.datetime | None
) -> None:
    all_turns = []
    for c, start, reply, agent in spec:
        if isinstance(reply, int):
            reply = start + dt.timedelta(microseconds=reply) if start else None
        elif reply is not None and start is not None and reply < start:
            reply = None  # a reply is never before its question
        all_turns.append(Turn(c, start, reply, agent))
    expected = [r for r in (_round_of(t, rules, now) for t in all_turns) if r is not None]
    expected.sort(key=lambda r: (r.start, str(r.conversation)))
    assert rounds_of_turns(all_turns, rules, TZ, {"c2": "K104"}, now) == expected  # type: ignore[arg-type]
