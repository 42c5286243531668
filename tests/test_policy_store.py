"""Versioned policies: the preset is in force until a newer version; past dates keep their version."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from kefu.core.errors import ApplicationError
from kefu.core.events import SystemActor
from kefu.core.models import Event, PolicyVersion
from kefu.core.policy_store import policy_cache_clear, policy_in_force, policy_save
from kefu.policies import handbook

from .conftest import PASSWORD, World

ACTOR = SystemActor("t")


def _with_bonus(amount: str) -> dict:
    doc = copy.deepcopy(handbook.load_preset())
    doc["attendance"]["full_attendance_bonus"] = amount
    return doc


@pytest.mark.django_db
def test_preset_is_in_force_for_any_date_before_a_version_exists() -> None:
    for day in (dt.date(1999, 1, 1), dt.date(2026, 10, 15), dt.date(2040, 1, 1)):
        policy = policy_in_force(day)
        assert (policy.name, policy.version) == ("seed-handbook", 1)
        assert policy.document["attendance"]["full_attendance_bonus"] == "200.00"


@pytest.mark.django_db
def test_a_new_version_applies_from_its_date_and_older_months_keep_the_old_one() -> None:
    policy_save(actor=ACTOR, document=_with_bonus("300.00"), effective_from=dt.date(2026, 11, 1), note="raise")
    assert policy_in_force(dt.date(2026, 10, 31)).version == 1
    assert policy_in_force(dt.date(2026, 10, 31)).document["attendance"]["full_attendance_bonus"] == "200.00"
    assert policy_in_force(dt.date(2026, 11, 1)).document["attendance"]["full_attendance_bonus"] == "300.00"
    policy_save(actor=ACTOR, document=_with_bonus("250.00"), effective_from=dt.date(2026, 12, 1))
    assert [policy_in_force(dt.date(2026, m, 15)).version for m in (10, 11, 12)] == [1, 2, 3]
    event = Event.objects.filter(verb="policy.version_saved").first()
    assert event is not None and "attendance.full_attendance_bonus" in event.data["changed"]


@pytest.mark.django_db
def test_an_invalid_policy_is_refused_with_its_problems() -> None:
    with pytest.raises(ApplicationError) as exc:
        policy_save(actor=ACTOR, document=_with_bonus("lots"), effective_from=dt.date(2026, 11, 1))
    assert exc.value.code == "policy_invalid"
    assert any("full_attendance_bonus" in p for p in exc.value.details)
    assert PolicyVersion.objects.count() == 0


@pytest.mark.django_db
def test_versions_are_immutable() -> None:
    version = policy_save(actor=ACTOR, document=_with_bonus("300.00"), effective_from=dt.date(2026, 11, 1))
    version.note = "edited"
    with pytest.raises(RuntimeError):
        version.save()


class TestInForceProperty(HypothesisTestCase):
    @settings(max_examples=25, deadline=None)
    @given(
        st.lists(st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 1, 1)), min_size=1, max_size=4),
        st.dates(min_value=dt.date(2019, 1, 1), max_value=dt.date(2031, 1, 1)),
    )
    def test_in_force_is_the_newest_effective_on_or_before_the_day(
        self, effective: list[dt.date], day: dt.date
    ) -> None:
        # Policy versions are a ledger (no delete): Hypothesis' Django TestCase rolls each example back.
        policy_cache_clear()
        assert not PolicyVersion.objects.exists()
        for i, when in enumerate(effective):
            policy_save(actor=ACTOR, document=_with_bonus(f"{200 + i}.00"), effective_from=when)
        candidates = [(when, i + 2) for i, when in enumerate(effective) if when <= day]
        expected = max(candidates)[1] if candidates else 1
        assert policy_in_force(day).version == expected


@pytest.mark.django_db
def test_supervisor_saves_a_version_in_the_ui_and_others_may_not(world: World) -> None:
    boss = Client()
    boss.login(username="boss", password=PASSWORD)
    page = boss.get("/policy/new/")
    assert page.status_code == 200
    text = (
        page.context["form"]
        .initial["text"]
        .replace('full_attendance_bonus = "200.00"', 'full_attendance_bonus = "260.00"')
    )
    bad = boss.post(
        "/policy/new/",
        {"text": text.replace("rest_days_per_month = 2", "rest_days_per_month = -2"), "effective_from": "2026-12-01"},
    )
    assert bad.status_code == 400 and "leave.rest_days_per_month" in bad.content.decode()
    broken = boss.post("/policy/new/", {"text": "[attendance\n", "effective_from": "2026-12-01"})
    assert broken.status_code == 400 and "TOML" in broken.content.decode()
    ok = boss.post("/policy/new/", {"text": text, "effective_from": "2026-12-01", "note": "全勤奖调整"})
    assert ok.status_code == 302
    assert policy_in_force(dt.date(2026, 12, 2)).document["attendance"]["full_attendance_bonus"] == "260.00"
    lead = Client()
    lead.login(username="lead_a", password=PASSWORD)
    assert lead.get("/policy/new/").status_code == 403
    assert lead.get("/policy/").status_code == 200
    assert "260.00" in lead.get("/policy/?on=2026-12-05").content.decode()


@pytest.mark.django_db
def test_supervisor_changes_single_values_in_the_form(world: World) -> None:
    boss = Client()
    boss.login(username="boss", password=PASSWORD)
    page = boss.get("/policy/new/").content.decode()
    assert 'name="attendance.full_attendance_bonus"' in page and "R-WF-13" in page
    bad = boss.post(
        "/policy/new/",
        {
            "mode": "fields",
            "effective_from": "2026-12-01",
            "attendance.full_attendance_bonus": "很多",
            "leave.rest_days_per_month": "x",
        },
    )
    assert bad.status_code == 400
    body = bad.content.decode()
    assert "attendance.full_attendance_bonus" in body and "leave.rest_days_per_month" in body
    assert PolicyVersion.objects.count() == 0
    ok = boss.post(
        "/policy/new/",
        {
            "mode": "fields",
            "effective_from": "2026-12-01",
            "note": "调整",
            "attendance.full_attendance_bonus": "300.00",
            "leave.rest_days_per_month": "3",
        },
    )
    assert ok.status_code == 302
    doc = policy_in_force(dt.date(2026, 12, 1)).document
    assert doc["attendance"]["full_attendance_bonus"] == "300.00" and doc["leave"]["rest_days_per_month"] == 3
    assert doc["attendance"]["late_tiers"] == handbook.load_preset()["attendance"]["late_tiers"]  # tables untouched


def test_the_policy_preview_shows_each_persons_change_and_saves_nothing(world: World) -> None:
    """Raising the full-attendance bonus by 100 changes last month's net pay of everyone who had
    full attendance by exactly 100, person by person; nothing is saved by a preview."""
    import datetime as dt

    from django.test import Client

    from kefu.core import clock
    from kefu.core.models import PolicyVersion
    from kefu.core.policy_store import policy_in_force
    from kefu.org.models import Staff
    from kefu.workforce.models import Punch, RosterEntry

    agent = Staff.objects.get(user=world.agent_a)
    first = (clock.today().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    day = first + dt.timedelta(days=2)
    RosterEntry.objects.create(staff=agent, date=day, shift_code="day")
    for hh, mm, kind in ((8, 20, "on"), (17, 40, "off")):
        Punch.objects.create(staff=agent, at=clock.make_aware(dt.datetime.combine(day, dt.time(hh, mm))), kind=kind)
    bonus = policy_in_force().document["attendance"]["full_attendance_bonus"]
    raised = f"{float(bonus) + 100:.2f}"
    versions = PolicyVersion.objects.count()
    boss = Client()
    assert boss.login(username="boss", password=PASSWORD)
    page = boss.post(
        "/policy/new/",
        {
            "mode": "fields",
            "preview": "1",
            "effective_from": clock.today().isoformat(),
            "attendance.full_attendance_bonus": raised,
        },
    )
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-testid="policy-preview"' in text and agent.name in text and "+¥100.00" in text
    assert PolicyVersion.objects.count() == versions  # a preview saves nothing
    # effective today (11-26): statements from 2026-12 use it; October is shown only as an illustration
    assert "2026-12" in text and 'data-testid="illustration"' in text
    # effective 11-01 (a month that has begun): November itself is recomputed, no illustration
    november = boss.post(
        "/policy/new/",
        {"mode": "fields", "preview": "1", "effective_from": "2026-11-01", "attendance.full_attendance_bonus": raised},
    ).content.decode()
    assert 'data-testid="illustration"' not in november and "2026-11" in november
    # the form proposes the first day of next month
    assert 'value="2026-12-01"' in boss.get("/policy/new/").content.decode()
    bad = boss.post(
        "/policy/new/",
        {"mode": "fields", "preview": "1", "effective_from": "2026-12-01", "attendance.full_attendance_bonus": "lots"},
    )
    assert bad.status_code == 400 and 'data-testid="field-error"' in bad.content.decode()
    assert "必须是金额" in bad.content.decode()


def test_the_preview_shows_red_packet_changes_and_every_month_a_back_dated_version_changes(world: World) -> None:
    """Issue 17 review: raising tier 1's red packet (10 → 15) changes no net pay but does change the
    person's packets — the preview shows it; a version back-dated to October changes every month from
    October to this one (the suite's clock says 2026-11-26): both are shown, not October alone."""
    from kefu.core import clock
    from kefu.core.policy_store import policy_in_force
    from kefu.org.models import Staff
    from kefu.policies import handbook
    from kefu.web.preview import policy_preview
    from kefu.workforce.models import Punch, RosterEntry

    agent = Staff.objects.get(user=world.agent_a)
    day = dt.date(2026, 10, 6)
    RosterEntry.objects.create(staff=agent, date=day, shift_code="day")
    for hh, mm, kind in ((8, 33, "on"), (17, 40, "off")):  # late 3 minutes: tier 1
        Punch.objects.create(staff=agent, at=clock.make_aware(dt.datetime.combine(day, dt.time(hh, mm))), kind=kind)
    draft = handbook.with_defaults(dict(policy_in_force().document))
    import copy

    draft = copy.deepcopy(draft)
    tiers = draft["attendance"]["late_tiers"]
    tiers[0]["red_packet"] = "15.00"
    preview = policy_preview(actor=world.supervisor, draft=draft, effective=dt.date(2026, 10, 1))
    assert [m["month"] for m in preview["months"]] == [dt.date(2026, 10, 1), dt.date(2026, 11, 1)]
    october = preview["months"][0]
    (row,) = [r for r in october["people"] if r["staff"] == agent]
    assert (row["red_packets"], row["draft_red_packets"], row["difference"]) == (
        Decimal("10.00"), Decimal("15.00"), Decimal("0.00")
    )  # fmt: skip
    assert october["red_packet_difference"] == Decimal("5.00") and not preview["illustration"]


def test_the_policy_tables_are_forms_with_errors_on_the_cell(world: World) -> None:
    """A supervisor adds a shift type and removes a point item through the table forms; a bad cell
    is refused with its error beside it (in Chinese) and nothing is saved."""
    from kefu.core import clock

    boss = Client()
    assert boss.login(username="boss", password=PASSWORD)
    page = boss.get("/policy/new/").content.decode()
    assert 'name="attendance.shift_types[1].start"' in page and 'name="points.items[1].points"' in page
    current = policy_in_force().document
    post: dict[str, str] = {"mode": "fields", "effective_from": (clock.today() + dt.timedelta(days=1)).isoformat()}
    for i, shift in enumerate(current["attendance"]["shift_types"], start=1):
        for col in ("code", "name", "start", "end"):
            post[f"attendance.shift_types[{i}].{col}"] = shift[col]
    n = len(current["attendance"]["shift_types"]) + 1
    row = f"attendance.shift_types[{n}]"
    post.update({f"{row}.code": "mid", f"{row}.name": "中班", f"{row}.start": "12:00", f"{row}.end": "25:00"})
    versions = PolicyVersion.objects.count()
    bad = boss.post("/policy/new/", post)
    assert bad.status_code == 400 and PolicyVersion.objects.count() == versions
    assert 'data-testid="field-error"' in bad.content.decode() and "时:分" in bad.content.decode()
    assert "这个字段是必填项" not in bad.content.decode()  # the collapsed TOML form is not judged by a fields post
    post[f"attendance.shift_types[{n}].end"] = "21:00"
    items = current["points"]["items"]
    for i, item in enumerate(items, start=1):
        for col in ("code", "name", "points"):
            post[f"points.items[{i}].{col}"] = "" if i == 1 else str(item[col])  # the first one removed
    saved = boss.post("/policy/new/", post)
    assert saved.status_code == 302, saved.content.decode()[:500]
    policy_cache_clear()
    new = policy_in_force(clock.today() + dt.timedelta(days=1)).document
    assert [s["code"] for s in new["attendance"]["shift_types"]][-1] == "mid"
    assert len(new["points"]["items"]) == len(items) - 1 and new["points"]["items"][0]["code"] == items[1]["code"]
    assert new["points"]["items"][0].get("category") == items[1].get("category")
