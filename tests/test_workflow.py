"""The shared workflow core (ADR 0010): a second module (tests/workflow_app, < 50 lines) gets
status labels over its categories, guarded transitions, an SLA with escalation, a checklist,
assignment with workload and safe attachments; the supervisor edits labels on /workflow/statuses/."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from kefu.core import clock
from kefu.core.errors import ApplicationError
from kefu.core.events import timeline
from kefu.org.models import Staff
from kefu.workflow import registry, selectors, services
from kefu.workflow.models import StatusLabel
from tests.workflow_app.models import Ticket, TicketFile

from .conftest import PASSWORD, World

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


def _ticket(world: World) -> Ticket:
    flow = registry.get("tests.ticket")
    return Ticket.objects.create(shop=world.shop_a, **services.open_fields(flow, clock.now()))


def test_a_second_module_runs_on_the_core(world: World) -> None:
    flow = registry.get("tests.ticket")
    ticket = _ticket(world)
    assert ticket.category == "new" and ticket.status.name == "新工单"
    assert ticket.sla_due_at is not None and ticket.sla_due_at - ticket.opened_at == dt.timedelta(hours=4)
    waiting = selectors.label_named(flow, "等待中")
    assert waiting is not None
    assert [label.name for label in selectors.transition_choices(ticket)] == ["等待中", "已完成"]
    services.transition(actor=world.agent_a, item=ticket, label=waiting, note="asked the buyer")
    assert ticket.category == "waiting"
    done = selectors.label_named(flow, "done")
    assert done is not None
    services.transition(actor=world.agent_a, item=ticket, label=done)
    assert ticket.closed_at is not None
    with pytest.raises(ApplicationError) as refused:  # done → anything is not a move of this workflow
        services.transition(actor=world.agent_a, item=ticket, label=waiting)
    assert refused.value.code == "transition"
    verbs = [e.verb for e in timeline(ticket)]
    assert verbs.count("ticket.status_changed") == 2


def test_checklist_attachment_assignment_and_workload(world: World) -> None:
    flow = registry.get("tests.ticket")
    ticket = _ticket(world)
    services.checklist_toggle(actor=world.agent_a, item=ticket, code="greet", done=True)
    assert [(code, state is not None) for code, _label, state in selectors.checklist(ticket)] == [
        ("greet", True),
        ("solve", False),
    ]
    with pytest.raises(ApplicationError):
        services.checklist_toggle(actor=world.agent_a, item=ticket, code="unknown", done=True)
    row = services.attach(actor=world.agent_a, item=ticket, kind="photo", name="../x.html", data=PNG)
    assert isinstance(row, TicketFile) and row.content_type == "image/png" and row.file.name.endswith(".png")
    with pytest.raises(ApplicationError) as bad:
        services.attach(actor=world.agent_a, item=ticket, kind="photo", name="x.png", data=b"MZ evil")
    assert bad.value.code == "attachment_type"
    agent = Staff.objects.get(user=world.agent_a)
    services.assign(actor=world.lead_a, item=ticket, assignee=agent)
    _ticket(world)  # unassigned
    assert selectors.workload(flow, [agent.pk]) == {agent.pk: 1}
    # another team's member cannot be assigned by team A's lead (scope of every named object)
    other = Staff.objects.get(user=world.agent_b)
    with pytest.raises(ApplicationError) as outside:
        services.assign(actor=world.lead_a, item=ticket, assignee=other)
    assert outside.value.status == 404


def test_one_deadline_sweep_for_every_workflow(world: World) -> None:
    ticket = _ticket(world)
    assert ticket.sla_due_at is not None
    result = services.deadlines_sweep(now=ticket.sla_due_at + dt.timedelta(minutes=1))
    assert result["escalated"] >= 1 and result["breached"] >= 1
    ticket.refresh_from_db()
    assert ticket.breached and ticket.escalated_at is not None
    again = services.deadlines_sweep(now=ticket.sla_due_at + dt.timedelta(minutes=2))
    assert again == {"escalated": 0, "breached": 0}  # each flag once


def test_the_supervisor_edits_labels_and_records_follow(world: World) -> None:
    ticket = _ticket(world)
    boss = Client()
    assert boss.login(username="boss", password=PASSWORD)
    page = boss.get("/workflow/statuses/")
    assert page.status_code == 200 and "新工单" in page.content.decode()
    added = boss.post("/workflow/tests.ticket/statuses/", {"name": "待确认", "category": "waiting"})
    assert added.status_code == 302
    label = StatusLabel.objects.get(workflow="tests.ticket", name="待确认")
    new_label = ticket.status
    # recategorising the label a record carries moves the record's category with it (derived, never copied)
    StatusLabel.objects.create(workflow="tests.ticket", name="另一个新", category="new")
    boss.post(
        f"/workflow/tests.ticket/statuses/{new_label.pk}/",
        {"name": "新工单", "category": "waiting", "position": "0"},
    )
    ticket.refresh_from_db()
    assert ticket.category == "waiting"
    # a label in use cannot be removed; an unused one can
    boss.post(f"/workflow/tests.ticket/statuses/{new_label.pk}/", {"delete": "1"})
    assert StatusLabel.objects.filter(pk=new_label.pk).exists()
    boss.post(f"/workflow/tests.ticket/statuses/{label.pk}/", {"delete": "1"})
    assert not StatusLabel.objects.filter(pk=label.pk).exists()
    # agents may not configure; another workflow's label id is a 404
    agent = Client()
    assert agent.login(username="agent_a", password=PASSWORD)
    assert agent.get("/workflow/statuses/").status_code == 403
    assert agent.post("/workflow/tests.ticket/statuses/", {"name": "x", "category": "new"}).status_code == 403
    case_label = StatusLabel.objects.filter(workflow="aftersales.case").first()
    if case_label is None:
        from kefu.aftersales.services import statuses_ensure

        statuses_ensure()
        case_label = StatusLabel.objects.filter(workflow="aftersales.case").first()
    assert case_label is not None
    assert boss.post(f"/workflow/tests.ticket/statuses/{case_label.pk}/", {"delete": "1"}).status_code == 404
    assert boss.post("/workflow/nope/statuses/", {"name": "x", "category": "new"}).status_code == 404
