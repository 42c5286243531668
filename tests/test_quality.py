"""Quality inspection (issue 22, R-QA-1 and R-QA-2): the rules on worked conversations, the
inspection as messages are placed, the API's shape and scope, the daily inspection's review, points
and appeal."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.core import clock
from kefu.core.errors import ApplicationError
from kefu.core.events import SystemActor
from kefu.core.policy_store import policy_in_force
from kefu.desk import services as desk
from kefu.desk.models import Conversation
from kefu.org.models import Staff
from kefu.policies import quality as qa
from kefu.policies.handbook import load_preset
from kefu.quality import services
from kefu.quality.models import Appeal, Hit, HitStatus, Sample
from kefu.workforce.models import PointEntry

from .conftest import PASSWORD, World

TZ = ZoneInfo("Asia/Shanghai")
POLICY = load_preset()
RULES = qa.rules_for(POLICY, "taobao")


def at(hhmmss: str, day: str = "2026-11-25") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hhmmss}+08:00")


def line(ident: int, when: str, direction: str, text: str, agent: str | None = None, kind: str = "text") -> qa.Line:
    return qa.Line(ident, at(when), direction, kind, agent if direction == "out" else None, text)


# A worked conversation on 2026-11-25 (Taobao, window 08:00–24:00, 3 minutes):
#  1 10:00:00 buyer  "在吗,这个什么时候发货"
#  2 10:01:00 K1     "在的,明天发货"            no greeting (the day's first reply)          → no_greeting
#  3 10:10:00 buyer  "怎么还没发,急死了"        anxious (R-CARE-1: 急, 怎么还没)
#  4 10:15:30 K1     "我也不知道,你自己看物流"   5:30 after 3 → slow_reply; 不知道 → forbidden_word;
#                                               no soothing word to an upset buyer → rude_to_upset_buyer
#  5 10:16:00 buyer  "能保证明天到吗"
#  6 10:16:40 K1     "亲,保证明天到,百分百"     保证 → over_promise (one hit per message)
#  7 23:00:00 buyer  "还在吗"                    never answered; the window ends at 24:00 → unanswered
# Six hits; K1 loses 5 × 5 = 25 → 75; the unanswered round is the owner's (K1 again) → 70.
WORKED = [
    line(1, "10:00:00", "in", "在吗,这个什么时候发货"),
    line(2, "10:01:00", "out", "在的,明天发货", "K1"),
    line(3, "10:10:00", "in", "怎么还没发,急死了"),
    line(4, "10:15:30", "out", "我也不知道,你自己看物流", "K1"),
    line(5, "10:16:00", "in", "能保证明天到吗"),
    line(6, "10:16:40", "out", "亲,保证明天到,百分百", "K1"),
    line(7, "23:00:00", "in", "还在吗"),
]


def test_the_worked_conversation_has_its_six_hits_and_score() -> None:
    hits = qa.inspect(WORKED, RULES, POLICY, TZ, owner="K1", closed=False, now=at("00:30:00", "2026-11-26"))
    assert [(h.kind, h.message, h.agent) for h in hits] == [
        ("no_greeting", 2, "K1"),
        ("forbidden_word", 4, "K1"),
        ("slow_reply", 4, "K1"),
        ("rude_to_upset_buyer", 4, "K1"),
        ("over_promise", 6, "K1"),
        ("unanswered", 7, "K1"),
    ]
    assert {h.kind: h.text for h in hits}["slow_reply"] == "5:30"
    assert qa.scores([(h.agent, 1) for h in hits], ["K1", "K2"], 5) == {"K1": 70, "K2": 100}


def test_an_open_round_is_not_unanswered_until_its_window_ends() -> None:
    before = qa.inspect(WORKED, RULES, POLICY, TZ, owner="K1", closed=False, now=at("23:30:00"))
    assert "unanswered" not in [h.kind for h in before]
    closed = qa.inspect(WORKED, RULES, POLICY, TZ, owner=None, closed=True, now=at("23:30:00"))
    assert next(h for h in closed if h.kind == "unanswered").agent is None  # no owner: no one to blame


def test_negated_promise_greeting_and_soothing_are_not_hits() -> None:
    lines = [
        line(1, "10:00:00", "in", "气死了,东西坏了"),
        line(2, "10:01:00", "out", "您好,非常抱歉,这个不能保证,我帮您查", "K1"),
    ]
    assert qa.inspect(lines, RULES, POLICY, TZ, owner="K1", closed=False, now=at("12:00:00")) == []


texts = st.sampled_from(["在吗", "您好,在的", "不知道", "保证到", "急死了", "抱歉,马上处理", "好的"])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 600), st.booleans(), texts, st.sampled_from(["K1", "K2"])), min_size=1, max_size=12
    ),
    st.randoms(),
)
def test_hits_do_not_depend_on_arrival_order_and_scores_stay_in_0_100(
    raw: list[tuple[int, bool, str, str]], rnd: Any
) -> None:
    base = at("09:00:00")
    lines = [
        qa.Line(i, base + dt.timedelta(minutes=m), "in" if buyer else "out", "text", None if buyer else a, t)
        for i, (m, buyer, t, a) in enumerate(raw, start=1)
    ]
    shuffled = list(lines)
    rnd.shuffle(shuffled)
    now = at("01:00:00", "2026-11-26")
    one = qa.inspect(lines, RULES, POLICY, TZ, owner="K1", closed=False, now=now)
    two = qa.inspect(shuffled, RULES, POLICY, TZ, owner="K1", closed=False, now=now)
    assert one == two
    assert len({(h.message, h.kind) for h in one}) == len(one)  # one hit per message and kind
    for score in qa.scores([(h.agent, 1) for h in one], ["K1", "K2"], 5).values():
        assert 0 <= score <= 100


# --- end to end: placed messages → inspection → API → daily inspection ----------------------------


def _push(world: World, items: list[dict[str, Any]]) -> None:
    channel = desk.channel_for_pusher(world.lead_a)
    assert channel is not None
    result = desk.messages_ingest(actor=world.lead_a, channel=channel, items=items)
    assert not result.failed, result.failed


def _msg(ext: str, when: str, direction: str, text: str, agent: str | None = None) -> dict[str, Any]:
    out = {
        "external_id": ext,
        "shop": "hdc",
        "buyer": "buyer_q",
        "direction": direction,
        "kind": "text",
        "sent_at": f"2026-11-25T{when}+08:00",
        "text": text,
    }
    if agent:
        out["agent"] = agent
    return out


def _worked_day(world: World) -> str:
    k1 = Staff.objects.get(user=world.agent_a).employee_no
    _push(
        world,
        [
            _msg("q1", "10:00:00", "in", "在吗,这个什么时候发货"),
            _msg("q2", "10:01:00", "out", "在的,明天发货", k1),
            _msg("q3", "10:10:00", "in", "怎么还没发,急死了"),
            _msg("q4", "10:15:30", "out", "我也不知道,你自己看物流", k1),
        ],
    )
    return k1


def _client(user: Any) -> Client:
    c = Client()
    assert c.login(username=user.username, password=PASSWORD)
    return c


@pytest.mark.django_db(transaction=True)
def test_placed_messages_are_inspected_and_the_api_reports_hits_and_scores(world: World) -> None:
    k1 = _worked_day(world)
    # the placing's commit woke the inspection (the queue runs inline in tests)
    assert Hit.objects.count() == 4
    services.inspect_due(actor=SystemActor("t"))  # again: nothing twice
    assert Hit.objects.count() == 4
    body = _client(world.lead_a).get("/api/v1/quality/hits", {"date": "2026-11-25"}).json()
    assert sorted((h["kind"], h["employee_no"], h["rule"]) for h in body["hits"]) == [
        ("forbidden_word", k1, "R-QA-1"),
        ("no_greeting", k1, "R-QA-1"),
        ("rude_to_upset_buyer", k1, "R-QA-1"),
        ("slow_reply", k1, "R-QA-1"),
    ]
    assert body["scores"] == [{"employee_no": k1, "score": 80}]
    # the agent sees their own; the other team's agent sees nothing; a team outside scope is a 404
    assert len(_client(world.agent_a).get("/api/v1/quality/hits", {"date": "2026-11-25"}).json()["hits"]) == 4
    assert _client(world.agent_b).get("/api/v1/quality/hits", {"date": "2026-11-25"}).json()["hits"] == []
    assert (
        _client(world.lead_a).get("/api/v1/quality/hits", {"date": "2026-11-25", "team": world.team_b.pk}).status_code
        == 404
    )
    assert _client(world.lead_a).get("/api/v1/quality/hits", {"date": "2026-13-01"}).status_code in (400, 422)


@pytest.mark.django_db(transaction=True)
def test_daily_inspection_review_points_and_appeal(world: World) -> None:
    k1 = _worked_day(world)
    day = dt.date(2026, 11, 25)
    assert services.sample_draw(actor=world.lead_a, team=world.team_a, day=day) == 1  # one conversation, with hits
    assert services.sample_draw(actor=world.lead_a, team=world.team_a, day=day) == 0  # drawn once
    sample = Sample.objects.get()
    assert sample.reason == "hits"
    with pytest.raises(ApplicationError):  # today is not over: its list would be frozen half-way
        services.sample_draw(actor=world.lead_a, team=world.team_a, day=dt.date(2026, 11, 26))
    lead_page = _client(world.lead_a)
    assert lead_page.get("/quality/", {"date": "2026-11-25", "team": world.team_b.pk}).status_code == 404
    assert "qa-agent-" in lead_page.get("/quality/", {"date": "2026-11-25"}).content.decode()
    # a hit found after the draw for someone not in the list: shown, and the list can take them in
    lead_staff = Staff.objects.get(user=world.lead_a)
    first = Hit.objects.order_by("pk").first()
    assert first is not None
    Hit.objects.create(
        conversation=first.conversation, message=first.message, shop=first.shop, team=world.team_a,
        staff=lead_staff, day=first.day, kind="over_promise", text="保证", points=5, found_at=first.found_at,
    )  # fmt: skip
    page = lead_page.get("/quality/", {"date": "2026-11-25"}).content.decode()
    assert f"qa-agent-{lead_staff.employee_no}" in page and 'data-testid="draw"' in page
    forbidden = Hit.objects.get(kind="forbidden_word")
    greeting = Hit.objects.get(kind="no_greeting")
    services.hit_decide(actor=world.lead_a, hit=forbidden, confirm=True, note="禁用语")
    services.hit_decide(actor=world.lead_a, hit=greeting, confirm=False)
    bogus = _client(world.lead_a).post(f"/quality/hits/{greeting.pk}/decide/", {"decision": "bogus"})
    assert bogus.status_code == 400
    services.sample_review(actor=world.lead_a, sample=sample, note="已读")
    # the team lead may not record points (the supervisor does, R-WF-17)
    with pytest.raises(ApplicationError):
        services.hit_to_points(actor=world.lead_a, hit=forbidden)
    services.hit_to_points(actor=world.supervisor, hit=forbidden)
    services.hit_to_points(actor=world.supervisor, hit=forbidden)  # a double click: one entry
    entry = PointEntry.objects.get()
    assert (entry.staff.employee_no, entry.item_code, entry.points) == (k1, "qa_hit", -1)
    assert f"#{forbidden.conversation_id}" in entry.note
    # a dismissed hit no longer costs score: 100 − 3 × 5
    body = _client(world.lead_a).get("/api/v1/quality/hits", {"date": "2026-11-25"}).json()
    assert {r["employee_no"]: r["score"] for r in body["scores"]}[k1] == 85
    # the agent appeals once; upheld, the hit is dismissed and its points reversed
    forbidden.refresh_from_db()
    services.hit_appeal(actor=world.agent_a, hit=forbidden, reason="买家自己说不知道")
    with pytest.raises(ApplicationError):
        services.hit_appeal(actor=world.agent_a, hit=forbidden, reason="again")
    with pytest.raises(ApplicationError):
        services.hit_appeal(actor=world.agent_b, hit=greeting, reason="not mine")
    with pytest.raises(ApplicationError):  # recorded as points: the team lead cannot undo them
        services.appeal_decide(actor=world.lead_a, hit=forbidden, uphold=True, note="同意")
    services.appeal_decide(actor=world.supervisor, hit=forbidden, uphold=True, note="同意")
    forbidden.refresh_from_db()
    assert (forbidden.verdict, forbidden.appeal) == (HitStatus.DISMISSED, Appeal.UPHELD)
    assert sum(e.points for e in PointEntry.objects.all()) == 0
    # the conversation page shows its hits; the daily summary says the day's result
    conversation = Conversation.objects.get()
    page = _client(world.lead_a).get(f"/desk/{conversation.pk}/")
    assert page.status_code == 200
    assert "conversation-qa" in page.content.decode()
    # the next day's daily summary reports the inspection (R-QA-2 → R-DESK-7)
    from kefu.desk import selectors as desk_selectors

    summary = desk_selectors.daily_summary(actor=world.lead_a, team=world.team_a, day=dt.date(2026, 11, 26))
    assert summary["lines"] and "11-25" in summary["lines"][0]
    assert "1 of 1" in summary["lines"][0] or "1 / 1" in summary["lines"][0]
    assert summary["lines"][0] in desk_selectors.daily_summary_text(summary)


def test_policy_section_is_valid_and_in_force(db: Any) -> None:
    policy = policy_in_force(clock.today())
    assert policy.quality.points_per_hit == 5
    assert "不知道" in policy.quality.forbidden_words
    assert json.dumps(list(policy.staffing.week_weights), default=str)


@pytest.mark.django_db(transaction=True)
def test_the_daily_list_holds_the_policy_count_hits_first_then_random(world: World) -> None:
    # K1 answered six buyers on 11-25: buyers 0–3 without a greeting (one hit each; buyer 0 also a
    # forbidden word: two), buyers 4–5 cleanly. Count 3 → the two conversations with the most hits
    # (buyer 0, then one of 1–3), then one random clean one.
    k1 = Staff.objects.get(user=world.agent_a).employee_no
    items = []
    for b in range(6):
        reply = "在的" if b < 4 else "您好,在的"
        if b == 0:
            reply = "不知道"
        items += [
            {**_msg(f"s{b}i", f"1{b}:00:00", "in", "在吗"), "buyer": f"s{b}"},
            {**_msg(f"s{b}o", f"1{b}:00:30", "out", reply, k1), "buyer": f"s{b}"},
        ]
    _push(world, items)
    services.sample_draw(actor=world.lead_a, team=world.team_a, day=dt.date(2026, 11, 25), seed=1)
    rows = list(Sample.objects.values_list("conversation__buyer", "reason"))
    flagged = sorted(b for b, reason in rows if reason == "hits")
    drawn = [b for b, reason in rows if reason == "random"]
    assert len(rows) == 3
    assert flagged[0] == "s0" and flagged[1] in ("s1", "s2", "s3")
    assert len(drawn) == 1 and drawn[0] in ("s4", "s5")
