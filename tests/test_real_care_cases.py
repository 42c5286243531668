"""Issue 18: customer-care cases worked whole through the pages and the API (SPEC §7 clarified).

The suite's clock is 2026-11-26 10:00 (Asia/Shanghai), outside the rest hours (12:00–14:00,
21:00–09:00)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from kefu.care import selectors, services
from kefu.care.models import Assignment, Complaint, ReturnVisit
from kefu.care.workflow import HANDLING_STEPS
from kefu.commerce.models import Customer
from kefu.core import clock
from kefu.org.models import Staff

from .conftest import PASSWORD, World

pytestmark = pytest.mark.django_db


def _client(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


def test_a_complaint_from_the_web_form_through_its_return_visit(world: World) -> None:
    """SPEC §7 (clarified). 吴女士 calls (phone 13900002222, no order, no nick): the form finds no
    customer and records one, so the return visit can be made. The lead gives the complaint to
    agent A (an agent cannot assign). Agent A works the six handling steps — the sixth winning the
    customer back — resolves it, schedules the tracking visit for tomorrow 15:00 and records it:
    the complaint is closed (已回访关闭)."""
    lead = _client("lead_a")
    answer = lead.post(
        "/care/complaints/",
        {"shop": world.shop_a.pk, "contact_name": "吴女士", "contact_phone": "13900002222",
         "text": "我不着急，但是三次上门都没修好", "channel": "phone"},
    )  # fmt: skip
    assert answer.status_code == 302
    item = Complaint.objects.get(contact_name="吴女士")
    customer = Customer.objects.get(pk=item.customer_id)
    assert (customer.phone, customer.name, customer.nick) == ("13900002222", "吴女士", "13900002222")
    assert item.emotion_suggested == ""  # "我不着急" is not anxiety
    again = lead.post(
        "/care/complaints/",
        {"shop": world.shop_a.pk, "contact_name": "吴女士", "contact_phone": "13900002222", "text": "还是没修好"},
    )
    assert again.status_code == 302 and Complaint.objects.filter(customer=customer).count() == 2  # one customer
    agent = Staff.objects.get(user=world.agent_a)
    agent_client = _client("agent_a")
    assert agent_client.post(f"/care/complaints/{item.pk}/assign/", {"owner": agent.pk}).status_code == 403
    lead.post(f"/care/complaints/{item.pk}/assign/", {"owner": agent.pk})
    assert Complaint.objects.get(pk=item.pk).owner_id == agent.pk
    assert [code for code, _label in HANDLING_STEPS][-1] == "win_back"
    for code, _label in HANDLING_STEPS:
        agent_client.post(f"/care/complaints/{item.pk}/step/", {"step": code, "done": "1"})
    resolved = agent_client.post(
        f"/care/complaints/{item.pk}/resolve/",
        {"reason": "quality", "resolution": "更换整机并赠送保养", "our_fault": "1"},
    )
    assert resolved.status_code == 302 and Complaint.objects.get(pk=item.pk).resolved_at is not None
    tomorrow = dt.datetime.combine(clock.today() + dt.timedelta(days=1), dt.time(15, 0))
    agent_client.post(
        f"/care/complaints/{item.pk}/visit/",
        {"agent": agent.pk, "at": tomorrow.strftime("%Y-%m-%dT%H:%M"), "channel": "phone"},
    )
    visit = ReturnVisit.objects.get(complaint=item)
    services.visit_record(actor=world.agent_a, visit=visit, opinion="已换新，满意", satisfaction=5)
    assert Complaint.objects.select_related("status").get(pk=item.pk).status.category == "closed"


def test_member_visits_are_scheduled_so_that_coverage_reaches_100_percent(world: World) -> None:
    """R-CARE-3 (clarified). Two member customers assigned to agent A, none visited in November:
    coverage 0 %. The daily job schedules each one visit this month (with agent A, outside the rest
    hours; run twice, still two); agent A records both: coverage 100 %. A member without an agent
    is not scheduled (the supervisor assigns first)."""
    agent = Staff.objects.get(user=world.agent_a)
    Customer.objects.filter(pk=world.customer_a.pk).update(member_level="VIP1")
    other = Customer.objects.create(platform="tmall", nick="member2", member_level="VIP2")
    services.assignments_confirm(actor=world.supervisor, pairs=[(world.customer_a, agent), (other, agent)])
    Customer.objects.create(platform="tmall", nick="nobody", member_level="VIP1")

    def coverage() -> Any:
        rows = selectors.coverage_rows(actor=world.supervisor, first=dt.date(2026, 11, 1), last=dt.date(2026, 11, 30))
        return next(r["coverage"] for r in rows if r["agent"] == agent.name)

    assert str(coverage()) == "0.00"
    assert services.member_visits_schedule(today=dt.date(2026, 11, 26)) == 2
    assert services.member_visits_schedule(today=dt.date(2026, 11, 26)) == 0  # once a month
    windows = [["12:00", "14:00"], ["21:00", "09:00"]]
    from kefu.policies import care as rules

    for visit in ReturnVisit.objects.filter(agent=agent):
        local = visit.scheduled_at.astimezone(clock.local_tz())
        assert not rules.in_rest_hours(local.time(), windows) and local.month == 11
        services.visit_record(actor=world.agent_a, visit=visit, opinion="满意", satisfaction=5)
    assert str(coverage()) == "100.00"


def test_the_first_contact_is_recorded_on_the_customers_page(world: World) -> None:
    """R-CARE-2: a newly assigned customer shows "due by" on their page; the agent records the first
    contact there (once); a colleague of another team does not see the panel's agent."""
    agent = Staff.objects.get(user=world.agent_a)
    (assignment,) = services.assignments_confirm(actor=world.supervisor, pairs=[(world.customer_a, agent)])
    agent_client = _client("agent_a")
    page = agent_client.get(f"/customers/{world.customer_a.pk}/").content.decode()
    assert 'data-testid="record-first-contact"' in page
    assert agent_client.post(f"/care/customers/{world.customer_a.pk}/first-contact/", {"note": ""}).status_code == 302
    assert Assignment.objects.get(pk=assignment.pk).contacted_at is None  # a note is needed
    agent_client.post(f"/care/customers/{world.customer_a.pk}/first-contact/", {"note": "介绍了专属客服"})
    assert Assignment.objects.get(pk=assignment.pk).contacted_at is not None
    page = agent_client.get(f"/customers/{world.customer_a.pk}/").content.decode()
    assert 'data-testid="record-first-contact"' not in page
    outsider = _client("agent_b")
    assert outsider.post(f"/care/customers/{world.customer_a.pk}/first-contact/", {"note": "x"}).status_code == 404


def test_a_complaint_through_the_api(world: World) -> None:
    """SPEC §7 over the API: intake by buyer nick (the customer is found), assignment by the lead,
    the six steps, resolution, the tracking visit and its record; another team sees a 404."""

    def post(client: Client, url: str, body: dict[str, Any] | None = None) -> Any:
        return client.post(url, body or {}, content_type="application/json")

    lead, agent = _client("lead_a"), _client("agent_a")
    made = post(
        agent,
        "/api/v1/care/complaints",
        {"shop_id": world.shop_a.pk, "contact_name": "买家甲", "buyer_nick": world.customer_a.nick,
         "text": "气死了，骗子！", "channel": "phone"},
    )  # fmt: skip
    assert made.status_code == 200, made.content
    complaint = made.json()
    assert (complaint["customer_id"], complaint["emotion"]) == (world.customer_a.pk, "anger")
    url = f"/api/v1/care/complaints/{complaint['id']}"
    assert _client("agent_b").get(url).status_code == 404
    staff = Staff.objects.get(user=world.agent_a)
    assert post(agent, f"{url}/assign", {"owner_id": staff.pk}).status_code == 403
    assert post(lead, f"{url}/assign", {"owner_id": staff.pk}).json()["owner_id"] == staff.pk
    refused = post(agent, f"{url}/resolve", {"reason": "quality", "resolution": "换新"})
    assert refused.status_code == 400  # the steps first
    for code, _label in HANDLING_STEPS:
        post(agent, f"{url}/steps", {"code": code})
    done = post(agent, f"{url}/resolve", {"reason": "quality", "resolution": "换新", "our_fault": True}).json()
    assert done["category"] == "resolved"
    at = dt.datetime.combine(clock.today() + dt.timedelta(days=1), dt.time(22, 0), tzinfo=clock.local_tz())
    assert post(agent, f"{url}/visits", {"agent_id": staff.pk, "at": at.isoformat()}).status_code == 400  # rest hours
    visit = post(agent, f"{url}/visits", {"agent_id": staff.pk, "at": at.replace(hour=15).isoformat()}).json()
    recorded = post(agent, f"/api/v1/care/visits/{visit['id']}", {"opinion": "满意", "satisfaction": 5}).json()
    assert recorded["done_at"] is not None
    assert agent.get(url).json()["category"] == "closed"
