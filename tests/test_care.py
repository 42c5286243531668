"""Customer care R-CARE-1 … R-CARE-3: the pure rules (worked examples and hypothesis properties) and
the flows through the services and pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.care import selectors, services
from kefu.care.models import Assignment, Complaint, ReturnVisit
from kefu.commerce.models import Customer
from kefu.core import clock
from kefu.core.errors import ApplicationError
from kefu.core.models import Event
from kefu.org.models import Staff
from kefu.policies import care, handbook

from .conftest import PASSWORD, World
from .factories import CustomerFactory, OrderFactory

POLICY = handbook.load_preset()
REST = POLICY["care"]["rest_windows"]


# --- R-CARE-1: the emotion suggested from the text ----------------------------------------------


@pytest.mark.parametrize(
    ("text", "emotion"),
    [
        ("你们这是什么破产品，骗子！", "anger"),
        ("到底什么时候能修好？我很急，赶紧安排", "anxiety"),
        ("太失望了，真的很伤心", "sadness"),
        ("听到没有！！叫你们领导来", "shouting"),
        ("请问保修期多久", None),
        ("我不着急，你们慢慢查", None),  # issue 18: a negated keyword is not the emotion
        ("不太急，下周送到就行", None),
        ("我不着急，但是你们什么破服务", "anger"),
    ],
)
def test_the_emotion_is_suggested_from_the_words_r_care_1(text: str, emotion: str | None) -> None:
    guess = care.suggest_emotion(POLICY, text)
    assert guess.code == emotion
    if emotion:
        assert guess.matches[emotion]  # the words that suggested it, shown to the agent


@settings(max_examples=200)
@given(st.text(max_size=80), st.sampled_from(["气死", "赶紧", "失望", "听到没有"]))
def test_adding_an_emotions_keyword_never_lowers_its_score(text: str, word: str) -> None:
    """A keyword added as a clause of its own (after "。") always counts: a negation ends with its
    clause ("不" + "气死" reads as 不气死, not angry — hypothesis found that case)."""
    before = care.suggest_emotion(POLICY, text).scores
    after = care.suggest_emotion(POLICY, text + "。" + word).scores
    assert all(after.get(code, 0) >= n for code, n in before.items())
    assert sum(after.values()) > sum(before.values())


# --- R-CARE-3: rest hours ------------------------------------------------------------------------


def test_rest_windows_include_the_night_across_midnight_r_care_3() -> None:
    for hhmm in ("12:00", "13:59", "21:00", "23:30", "00:10", "08:59"):
        assert care.in_rest_hours(dt.time.fromisoformat(hhmm), REST), hhmm
    for hhmm in ("09:00", "11:59", "14:00", "20:59"):
        assert not care.in_rest_hours(dt.time.fromisoformat(hhmm), REST), hhmm
    assert care.next_allowed(dt.datetime(2026, 11, 30, 22, 15), REST) == dt.datetime(2026, 12, 1, 9, 0)
    assert care.next_allowed(dt.datetime(2026, 11, 30, 12, 30), REST) == dt.datetime(2026, 11, 30, 14, 0)


@settings(max_examples=300)
@given(st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2027, 1, 1)))
def test_the_next_allowed_time_is_never_in_rest_and_never_earlier(moment: dt.datetime) -> None:
    allowed = care.next_allowed(moment, REST)
    assert not care.in_rest_hours(allowed.time(), REST)
    assert allowed >= moment.replace(second=0, microsecond=0)


# --- R-CARE-2: assignment by count and skill ----------------------------------------------------


def test_customers_are_spread_by_count_and_skill_r_care_2() -> None:
    pairs = care.propose_assignment(list(range(9)), [("甲", 0, 1), ("乙", 0, 2)])
    counts = {name: sum(1 for _c, a in pairs if a == name) for name in ("甲", "乙")}
    assert counts == {"甲": 3, "乙": 6}  # twice the skill, twice the customers
    # an agent who already has customers gets the new ones last
    pairs = care.propose_assignment(list(range(4)), [("甲", 5, 1), ("乙", 0, 1)])
    assert [a for _c, a in pairs] == ["乙", "乙", "乙", "乙"]


@settings(max_examples=200)
@given(st.integers(0, 60), st.lists(st.tuples(st.integers(0, 20), st.integers(1, 5)), min_size=1, max_size=6))
def test_the_proposal_keeps_loads_proportional_to_skill(n: int, agents: list[tuple[int, int]]) -> None:
    pairs = care.propose_assignment(list(range(n)), [(i, c, s) for i, (c, s) in enumerate(agents)])
    assert len(pairs) == n
    loads = {i: c for i, (c, _s) in enumerate(agents)}
    got = {i: 0 for i in loads}
    for _c, a in pairs:
        got[a] += 1
    # whoever received a customer had, before their last one, the lowest weighted load then
    for i, k in got.items():
        if k:
            before = Decimal(loads[i] + k) / agents[i][1]
            others = [Decimal(loads[j] + got[j] + 1) / agents[j][1] for j in loads if j != i]
            assert all(before <= o + 1 for o in others)


def test_coverage_is_a_percentage_r_care_3() -> None:
    assert care.coverage(3, 2) == Decimal("66.67") and care.coverage(0, 0) is None and care.coverage(4, 9) == 100


# --- flows ---------------------------------------------------------------------------------------


def test_a_complaint_from_intake_to_its_return_visit(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # 10:00 today: outside the rest hours whatever time the suite runs (R-CARE-3 checks the call time)
    morning = dt.datetime.combine(clock.today(), dt.time(10, 0), tzinfo=clock.local_tz())
    monkeypatch.setattr(clock, "now", lambda: morning)
    item = services.complaint_create(
        actor=world.agent_a,
        shop=world.shop_a,
        contact_name="周先生",
        text="修了三次还是坏的，什么破服务，骗子！",
        customer=world.customer_a,
    )
    assert item.emotion == item.emotion_suggested == "anger" and item.number.startswith("TS")
    confirmed = services.complaint_create(
        actor=world.agent_a,
        shop=world.shop_a,
        contact_name="周",
        text="什么破",
        emotion="anxiety",
        contact_phone="13900001111",
    )
    assert confirmed.emotion == "anxiety" and confirmed.emotion_suggested == "anger"  # the agent's word wins
    with pytest.raises(ApplicationError):  # the handling steps come first
        services.complaint_resolve(actor=world.agent_a, item=item, reason="quality", resolution="换新", our_fault=True)
    for code in ("listen", "judge", "understand", "explain", "record", "win_back"):
        services.complaint_step(actor=world.agent_a, item=item, code=code, done=True)
    with pytest.raises(ApplicationError):
        services.complaint_resolve(actor=world.agent_a, item=item, reason="weather", resolution="x", our_fault=True)
    item = services.complaint_resolve(
        actor=world.agent_a, item=item, reason="quality", resolution="换新", our_fault=True
    )
    assert item.status.category == "resolved"
    resolved = Event.objects.for_object(item).get(verb="complaint.resolved")
    assert resolved.after["reason"] == "产品质量"  # the timeline names the reason as the catalogue words it
    agent = Staff.objects.get(user=world.agent_a)
    tz = clock.local_tz()
    tomorrow = clock.today() + dt.timedelta(days=1)
    with pytest.raises(ApplicationError) as rest:  # 12:30 is the customer's lunch rest
        services.visit_schedule(
            actor=world.agent_a,
            customer=world.customer_a,
            agent=agent,
            at=dt.datetime.combine(tomorrow, dt.time(12, 30), tzinfo=tz),
            complaint=item,
        )
    assert rest.value.code == "rest_hours" and "14:00" in rest.value.message
    visit = services.visit_schedule(
        actor=world.agent_a,
        customer=world.customer_a,
        agent=agent,
        at=dt.datetime.combine(tomorrow, dt.time(15, 0), tzinfo=tz),
        complaint=item,
        topic="after_complaint",
    )
    with pytest.raises(ApplicationError):  # recorded completely: what the customer said is required
        services.visit_record(actor=world.agent_a, visit=visit, opinion="", satisfaction=4)
    monkeypatch.setattr(clock, "now", lambda: morning.replace(hour=22))
    with pytest.raises(ApplicationError) as late:  # the call is not made in the customer's rest hours either
        services.visit_record(actor=world.agent_a, visit=visit, opinion="满意新机", satisfaction=5)
    assert late.value.code == "rest_hours"
    monkeypatch.setattr(clock, "now", lambda: morning + dt.timedelta(days=1, hours=5))
    services.visit_record(actor=world.agent_a, visit=visit, opinion="满意新机", satisfaction=5, suggestions="无")
    item.refresh_from_db()
    assert item.status.category == "closed"
    verbs = set(Event.objects.for_object(item).values_list("verb", flat=True))
    assert {"complaint.received", "complaint.resolved", "complaint.step_done"} <= verbs


def test_customers_are_proposed_confirmed_and_flagged_when_not_contacted(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    morning = dt.datetime.combine(clock.today(), dt.time(10, 0), tzinfo=clock.local_tz())
    monkeypatch.setattr(clock, "now", lambda: morning)
    extra = []
    for i in range(4):
        c = CustomerFactory(nick=f"member{i}", member_level="VIP1")
        OrderFactory(shop=world.shop_a, customer=c)
        extra.append(c)
    Staff.objects.filter(user=world.agent_a).update(care_skill=3)
    proposal = selectors.assignment_proposal(actor=world.supervisor)
    assert {c.pk for c, _a in proposal} >= {c.pk for c in extra}
    with pytest.raises(ApplicationError):
        services.assignments_confirm(actor=world.lead_a, pairs=proposal)  # the supervisor assigns
    done = services.assignments_confirm(actor=world.supervisor, pairs=proposal)
    assert len(done) == len(proposal) and selectors.assignment_proposal(actor=world.supervisor) == []
    first = next(a for a in done if a.customer.member_level)
    assert first.contact_due - first.assigned_at == dt.timedelta(days=7)
    assert Customer.objects.get(pk=first.customer_id).assigned_agent_id == first.agent_id
    assert selectors.contacts_overdue(actor=world.supervisor) == []
    Assignment.objects.filter(pk=first.pk).update(contact_due=morning - dt.timedelta(minutes=1))
    assert [a.pk for a in selectors.contacts_overdue(actor=world.supervisor)] == [first.pk]
    # a first-contact visit ends the duty, and the member counts as visited
    visit = ReturnVisit.objects.create(
        customer=first.customer, agent=first.agent, channel="phone", topic="new_customer", scheduled_at=clock.now()
    )
    services.visit_record(actor=world.supervisor, visit=visit, opinion="欢迎", satisfaction=5)
    assert selectors.contacts_overdue(actor=world.supervisor) == []
    today = clock.today()
    rows = selectors.coverage_rows(actor=world.supervisor, first=today, last=today)
    total = sum(r["members"] for r in rows)
    assert total == len(extra) and sum(r["visited"] for r in rows) == 1


def test_care_pages_and_scope(world: World) -> None:
    lead = Client()
    lead.login(username="lead_a", password=PASSWORD)
    answer = lead.post(
        "/care/complaints/",
        {
            "shop": world.shop_a.pk,
            "contact_name": "吴女士",
            "contact_phone": "13900002222",
            "text": "怎么还没到，急死了",
            "channel": "phone",
        },
    )
    assert answer.status_code == 302
    item = Complaint.objects.get(contact_name="吴女士")
    page = lead.get(f"/care/complaints/{item.pk}/").content.decode()
    assert "焦急" in page and "急" in page
    outsider = Client()
    outsider.login(username="agent_b", password=PASSWORD)
    assert outsider.get(f"/care/complaints/{item.pk}/").status_code == 404
    assert outsider.post(f"/care/complaints/{item.pk}/step/", {"step": "listen", "done": "1"}).status_code == 404
    # the lead reads their team's overdue first contacts (the home card links there), not the proposal
    read = lead.get("/care/assignment/")
    assert read.status_code == 200 and 'data-testid="assignment"' not in read.content.decode()
    assert lead.post("/care/assignment/", {}).status_code == 403
    assert outsider.get("/care/assignment/").status_code == 403
    boss = Client()
    boss.login(username="boss", password=PASSWORD)
    assert boss.get("/care/assignment/").status_code == 200
    assert lead.get("/care/visits/").status_code == 200
    assert lead.post("/care/complaints/", {"shop": "x"}).status_code in (400, 404)


def test_coverage_counts_members_without_an_agent_and_the_emotion_can_be_changed(world: World) -> None:
    for i in range(2):
        c = CustomerFactory(nick=f"lone{i}", member_level="VIP")
        OrderFactory(shop=world.shop_a, customer=c)
    today = clock.today()
    rows = selectors.coverage_rows(actor=world.supervisor, first=today, last=today)
    assert sum(r["members"] for r in rows) == 2 and rows[0]["coverage"] == 0  # not left out for lack of an agent
    item = services.complaint_create(
        actor=world.agent_a, shop=world.shop_a, contact_name="周", text="气死了", contact_phone="13900003333"
    )
    assert item.emotion == "anger"
    services.complaint_emotion_set(actor=world.agent_a, item=item, emotion="sadness")
    item.refresh_from_db()
    assert item.emotion == "sadness" and item.emotion_suggested == "anger"
    with pytest.raises(ApplicationError):
        services.complaint_emotion_set(actor=world.agent_a, item=item, emotion="joy")
    agent = Staff.objects.get(user=world.agent_a)
    with pytest.raises(ApplicationError):  # a return visit is not scheduled in the past
        services.visit_schedule(
            actor=world.agent_a,
            customer=world.customer_a,
            agent=agent,
            at=dt.datetime(2020, 1, 1, 10, 0, tzinfo=clock.local_tz()),
        )
