"""Form posts through web.http.form_post (issue 19 §4), as a fresh-clone review tried them: a malformed
value is a message and saves nothing, a crafted id is a 404 never a 500, and the words people read."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from kefu.core.models import Event
from kefu.desk.models import Conversation
from kefu.org.models import Staff
from kefu.workforce.models import Punch

from .conftest import PASSWORD, World
from .test_aftersales import _wrong_item
from .test_desk import msg

pytestmark = pytest.mark.django_db


def _client(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


def test_a_refused_deadline_saves_none_of_the_facts_and_an_amount_reads_as_typed(world: World) -> None:
    case = _wrong_item(world)
    before = dict(case.facts)
    agent = _client("agent_a")
    r = agent.post(f"/aftersales/{case.pk}/facts/", {"line_value": "120", "platform_deadline": "garbage"}, follow=True)
    assert "有效的时限" in r.content.decode()
    case.refresh_from_db()
    assert case.facts == before  # the deadline was read first: nothing of the form was saved
    agent.post(f"/aftersales/{case.pk}/facts/", {"line_value": "¥1,250.00"})
    case.refresh_from_db()
    assert case.facts["line_value"] == "1250.00"


def test_a_crafted_conversation_id_is_a_404_not_a_500(world: World) -> None:
    agent = _client("agent_a")
    for path, body in (
        ("/desk/followups/", {"conversation": "-1", "problem": "x", "due_at": "2027-01-01T10:00"}),
        ("/desk/questions/", {"conversation": "-1", "question": "x"}),
    ):
        assert agent.post(path, body).status_code == 404


def test_a_make_up_cannot_be_dated_after_now_and_a_transfer_to_the_owner_is_refused(world: World) -> None:
    agent = Staff.objects.get(user=world.agent_a)
    r = _client("boss").post("/attendance/team/makeup/", {"staff": agent.pk, "at": "2030-12-01T09:00", "kind": "on"})
    assert r.status_code == 302 and not Punch.objects.filter(staff=agent).exists()
    from kefu.core.events import SystemActor
    from kefu.desk import services

    services.messages_ingest(actor=SystemActor("t"), channel=services.channel_default("api"), items=[msg("f1")])
    conv = Conversation.objects.get()
    Conversation.objects.filter(pk=conv.pk).update(owner=agent)
    r = _client("lead_a").post(f"/desk/{conv.pk}/transfer/", {"staff": agent.pk}, follow=True)
    assert "已经是其负责" in r.content.decode()
    assert not Event.objects.for_object(conv).filter(verb="conversation.transferred").exists()


def test_the_audit_filter_offers_the_workflow_cores_verbs_by_workflow(world: World) -> None:
    page = _client("boss").get("/audit/").content.decode()
    for code in ("case.status_changed", "case.escalated", "conversation.deadline_breached"):
        assert f'value="{code}"' in page
    assert "售后工单 · " in page  # named by its workflow: two "changed the status" no longer read alike


def test_a_policy_number_written_as_an_exponent_is_refused(world: World) -> None:
    from kefu.core import rulebook
    from kefu.policies import handbook

    doc = handbook.load_preset()
    doc["attendance"]["full_attendance_bonus"] = "2E+2"
    problems = [str(p) for p in rulebook.policy_problems(doc)]
    assert any(p.startswith("attendance.full_attendance_bonus") for p in problems), problems


def test_histories_hide_ids_and_unchanged_values(world: World) -> None:
    from kefu.core import wording

    rows = wording.changes({"queue": "presales", "owner": "甲"}, {"queue": "presales", "owner": "乙", "line": 6})
    assert [str(label) for label, _b, _a in rows] == [str(wording.field("owner"))]


def test_the_outbox_says_when_a_retry_finds_nothing(world: World, settings: Any) -> None:
    r = _client("boss").post("/outbox/", {"message": "999999"}, follow=True)
    assert "已发出或已不存在" in r.content.decode()
