"""R-ORG-2: walk every URL and API route; a team-A user gets 404 for team-B objects.

A new route with a path parameter this test does not know fails the test, so no route is missed.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from kefu.commerce.selectors import OrderFilters, order_list
from kefu.core.imports import run_start
from kefu.core.models import ImportRun
from kefu.core.scoping import access_object
from kefu.org.models import Staff

from .conftest import PASSWORD, World

pytestmark = pytest.mark.django_db
PARAM = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")


def _patterns(resolver: URLResolver | None = None, prefix: str = "") -> list[str]:
    resolver = resolver or get_resolver()
    out: list[str] = []
    for entry in resolver.url_patterns:
        route = str(entry.pattern)
        if isinstance(entry, URLResolver):
            if route.startswith("admin/"):
                continue  # the admin is for superusers only (tested below)
            out += _patterns(entry, prefix + route)
        elif isinstance(entry, URLPattern):
            out.append(prefix + route)
    return out


def _b_objects(world: World, n: int = 1) -> dict[str, Any]:
    """One of every kind of record in team B (``n`` > 1: another batch, on other days and ids)."""
    import datetime as dt
    from decimal import Decimal

    from kefu.workforce.models import LeaveRequest, PointEntry, RedPacket

    run = run_start(kind="orders", file_name="b.csv", data=b"x", actor=world.agent_b, params={})
    staff_b = Staff.objects.get(user=world.agent_b)
    request_b = LeaveRequest.objects.create(
        staff=staff_b,
        kind="personal",
        start_date=dt.date(2026, 12, n),
        end_date=dt.date(2026, 12, n),
        status="submitted",
    )
    packet_b = RedPacket.objects.create(
        staff=staff_b,
        incident_date=dt.date(2026, 11, 1 + n),
        kind="late",
        minutes=5,
        amount=Decimal("10"),
        due_date=dt.date(2026, 11, 9),
        rule="R-WF-4",
    )
    entry_b = PointEntry.objects.create(
        staff=staff_b,
        item_code="noise",
        item_name="喧哗",
        points=-2,
        at="2026-11-02T10:00:00+08:00",
        recorded_by=world.supervisor,
    )
    from django.core.files.base import ContentFile

    from kefu.aftersales.models import Case, CourierClaim, Evidence, MoneyLine, NegativeReview
    from kefu.aftersales.services import statuses_ensure
    from kefu.workflow.models import StatusLabel

    statuses_ensure()
    now = "2026-11-02T10:00:00+08:00"
    case_b = Case.objects.create(
        case_type="lost_parcel",
        shop=world.shop_b,
        order=world.order_b,
        status=StatusLabel.objects.get(workflow="aftersales.case", name="新建"),
        opened_at=now,
        updated_at=now,
    )
    evidence_b = Evidence(
        case=case_b, kind="photo", original_name="b.png", content_type="image/png", size=3, sha256="0", uploaded_at=now
    )
    evidence_b.file.save("scoping-b.png", ContentFile(b"png"), save=False)
    evidence_b.save()
    line_b = MoneyLine.objects.create(
        case=case_b, kind="refund", amount=Decimal("10"), status="requested", created_at=now
    )
    claim_b = CourierClaim.objects.create(case=case_b, courier="中通", amount=Decimal("10"), filed_at=now)
    review_b = NegativeReview.objects.create(shop=world.shop_b, content="差", reviewed_at=now)
    from kefu.core.events import SystemActor
    from kefu.desk.models import Conversation, Message
    from kefu.desk.services import channel_default, messages_ingest

    messages_ingest(
        actor=SystemActor("t"),
        channel=channel_default("api"),
        items=[
            {
                "external_id": f"b{n}",
                "shop": world.shop_b.code,
                "buyer": f"buyer_b{n}",
                "direction": "in",
                "sent_at": now,
                "text": "在吗",
            }
        ],
    )
    from kefu.desk.models import Script

    script_b = Script.objects.create(
        shop=world.shop_b, category="物流", title=f"b{n}", text="b", status="approved", created_at=now
    )
    from kefu.care.services import complaint_create, visit_schedule
    from kefu.service.services import request_create

    service_b = request_create(
        actor=world.agent_b,
        shop=world.shop_b,
        channel="phone",
        contact_name="b",
        contact_phone="1",
        product="b",
        fault="b",
        purchase_date=dt.date(2026, 1, 1),
    )
    complaint_b = complaint_create(
        actor=world.agent_b, shop=world.shop_b, contact_name="b", text="b", customer=world.customer_b
    )
    visit_b = visit_schedule(
        actor=world.agent_b,
        customer=world.customer_b,
        agent=staff_b,
        at=dt.datetime(2026, 12, n, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        complaint=complaint_b,
    )
    from kefu.service.services import agreement_create

    agreement_b = agreement_create(
        actor=world.supervisor,
        shop=world.shop_b,
        customer_name="b",
        contact_name="b",
        contact_phone="1",
        products=[{"product": "b"}],
        starts_on=dt.date(2026, 1, 1),
        ends_on=dt.date(2026, 12, 31),
        fee=Decimal("100"),
        billing="quarterly",
    )
    from kefu.connectors.models import Connector

    connector_b, _new = Connector.objects.get_or_create(
        name="b-connector",
        defaults={"platform": "taobao", "shop": world.shop_b, "gateway": "http://127.0.0.1:9/", "app_key": "k"},
    )
    from kefu.core import clock
    from kefu.quality.models import Hit, Sample
    from kefu.staffing.models import RosterProposal

    conversation_b = Conversation.objects.get(shop=world.shop_b, buyer=f"buyer_b{n}")
    proposal_b = RosterProposal.objects.create(
        team=world.team_b,
        month=dt.date(2027, 1, 1),
        solver_status="optimal",
        solver_seconds=Decimal("0.1"),
        cells={str(staff_b.pk): {"2027-01-01": "day"}},
        made_at=clock.now(),
    )
    hit_b = Hit.objects.create(
        conversation=conversation_b,
        message=Message.objects.filter(conversation=conversation_b).first(),
        shop=world.shop_b,
        team=world.team_b,
        staff=staff_b,
        day=dt.date(2026, 11, 25),
        kind="forbidden_word",
        text="不知道",
        points=5,
        found_at=clock.now(),
    )
    sample_b = Sample.objects.create(
        day=dt.date(2026, 11, 25), team=world.team_b, staff=staff_b, conversation=conversation_b, reason="hits"
    )
    return {
        "proposal_id": proposal_b.pk,
        "hit_id": hit_b.pk,
        "sample_id": sample_b.pk,
        "connector_id": connector_b.pk,
        # a report is not an object: its rows are scoped inside (tests/test_reports.py, scope and
        # filters); an unknown report is a 404
        "slug": "no-such-report",
        "agreement_id": agreement_b.pk,
        "item_id": agreement_b.plan.first().pk,  # type: ignore[union-attr]
        "bill_id": agreement_b.bills.first().pk,  # type: ignore[union-attr]
        "service_id": service_b.pk,
        "complaint_id": complaint_b.pk,
        "visit_id": visit_b.pk,
        "script_id": script_b.pk,
        "conversation_id": Conversation.objects.get(shop=world.shop_b, buyer=f"buyer_b{n}").pk,
        # a webhook is not scoped by the caller but signed: unsigned it answers 401 whatever the channel
        "channel": "api",
        # a widget serves the public on its shop's site (CORS-limited); an unknown one is a 404
        "code": "no-such-widget",
        "case_id": case_b.pk,
        "evidence_id": evidence_b.pk,
        "line_id": line_b.pk,
        "claim_id": claim_b.pk,
        "review_id": review_b.pk,
        "request_id": request_b.pk,
        "packet_id": packet_b.pk,
        "entry_id": entry_b.pk,
        "order_id": world.order_b.pk,
        "customer_id": world.customer_b.pk,
        "product_id": world.product_b.pk,
        "shop_id": world.shop_b.pk,
        "team_id": world.team_b.pk,
        "staff_id": Staff.objects.get(user=world.agent_b).pk,
        "run_id": run.pk,
        # status labels are admin data, not team-scoped: their routes are capability-gated (403 for a lead)
        "key": "aftersales.case",
        "label_id": StatusLabel.objects.filter(workflow="aftersales.case").first().pk,  # type: ignore[union-attr]
    }


ADMIN_DATA = ("/workflow/",)  # routes over configuration every team shares: 403 without the capability
SIGNED = ("/api/v1/desk/webhook/",)  # signed by the sender, not scoped to a user: 401 unsigned


def _login(user: Any) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _fill(route: str, values: dict[str, Any]) -> str:
    def sub(match: re.Match[str]) -> str:
        name = match.group("name")
        assert name in values, f"route {route!r} has parameter {name!r}: add a team-B object for it to this test"
        return str(values[name])

    path = "/" + PARAM.sub(sub, route).lstrip("^").rstrip("$")
    return path.replace("\\Z", "")


def _visit(client: Client, path: str) -> Any:
    """GET the route, or POST an empty body where it only takes POST (JSON for the API)."""
    response = client.get(path)
    if response.status_code == 405:
        if path.startswith("/api/"):
            return client.post(path, {}, content_type="application/json")
        return client.post(path, {})
    return response


def test_every_route_with_an_object_answers_404_outside_scope(world: World, settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    values = _b_objects(world)
    client = _login(world.lead_a)
    routes = [r for r in _patterns() if PARAM.search(r)]
    assert len(routes) >= 12, routes
    for route in routes:
        path = _fill(route, values)
        response = _visit(client, path)
        expected = 403 if path.startswith(ADMIN_DATA) else 401 if path.startswith(SIGNED) else 404
        assert response.status_code == expected, f"{path} answered {response.status_code} for a team-B object"


def test_inside_scope_the_same_routes_answer(world: World) -> None:
    client = _login(world.lead_a)
    run = run_start(kind="orders", file_name="a.csv", data=b"x", actor=world.lead_a, params={})
    for path in (
        f"/orders/{world.order_a.pk}/",
        f"/customers/{world.customer_a.pk}/",
        f"/products/{world.product_a.pk}/",
        f"/shops/{world.shop_a.pk}/",
        f"/teams/{world.team_a.pk}/",
        f"/imports/{run.pk}/",
        f"/staff/{Staff.objects.get(user=world.agent_a).pk}/",
        f"/api/v1/orders/{world.order_a.pk}",
        f"/api/v1/customers/{world.customer_a.pk}",
        f"/api/v1/shops/{world.shop_a.pk}",
    ):
        assert client.get(path).status_code == 200, path


def test_lists_never_show_team_b(world: World) -> None:
    client = _login(world.agent_a)
    staff_b = Staff.objects.get(user=world.agent_b)
    markers = [
        world.order_b.order_no,
        world.customer_b.nick,
        world.product_b.sku,
        world.team_b.name,
        world.shop_b.name,
        staff_b.employee_no,
    ]
    for route in _patterns():
        if PARAM.search(route) or route.startswith(("i18n/", "login/", "logout/")):
            continue
        path = _fill(route, {})
        response = client.get(path)
        assert response.status_code in {200, 302, 403, 405}, f"{path}: {response.status_code}"
        if response.streaming:  # the desk's live stream runs for a minute; test_desk checks its scope
            continue
        body = response.content.decode()
        for marker in markers:
            assert marker not in body, f"{path} shows {marker!r} of team B"
    own = client.get("/orders/").content.decode()
    assert world.order_a.order_no in own


def test_supervisor_and_deputy_see_everything(world: World) -> None:
    for user in (world.supervisor, world.deputy):
        page = order_list(actor=user, filters=OrderFilters())
        assert {o.pk for o in page.items} >= {world.order_a.pk, world.order_b.pk}
        assert access_object(user, Staff.objects.all(), user_id=world.agent_b.pk)


def test_a_user_without_staff_record_sees_nothing(world: World) -> None:
    from .factories import UserFactory

    loner = UserFactory()
    assert order_list(actor=loner, filters=OrderFilters()).items == []


def test_admin_is_closed_to_non_superusers(world: World) -> None:
    client = _login(world.supervisor)
    response = client.get(f"/admin/commerce/order/{world.order_b.pk}/change/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_import_runs_of_others_are_hidden(world: World) -> None:
    run = ImportRun.objects.create(
        kind="orders", file_name="x", sha256="0", started_at="2026-10-01T00:00:00+08:00", actor=world.agent_b
    )
    assert _login(world.lead_a).get(f"/imports/{run.pk}/").status_code == 404
    assert _login(world.supervisor).get(f"/imports/{run.pk}/").status_code == 200


def _team_b_footprint(world: World) -> dict[str, int]:
    """Everything a write aimed at team B could leave behind."""
    from kefu.aftersales.models import Case, NegativeReview
    from kefu.commerce.models import Order
    from kefu.core.models import Event
    from kefu.workforce.models import LeaveRequest, PointEntry, Punch, RosterEntry

    staff_b = Staff.objects.get(user=world.agent_b)
    return {
        "cases": Case.objects.filter(shop=world.shop_b).count(),
        "reviews": NegativeReview.objects.filter(shop=world.shop_b).count(),
        "orders": Order.objects.filter(shop=world.shop_b).count(),
        "punches": Punch.objects.filter(staff=staff_b).count(),
        "roster": RosterEntry.objects.filter(staff=staff_b).count(),
        "points": PointEntry.objects.filter(staff=staff_b).count(),
        "requests": LeaveRequest.objects.filter(staff=staff_b).count(),
        "events on B": Event.objects.for_object(staff_b).count()
        + Event.objects.for_object(world.order_b).count()
        + Event.objects.for_object(world.shop_b).count(),
    }


@pytest.mark.parametrize("who", ["lead_a", "agent_a"])
def test_ids_in_request_bodies_are_scoped_on_every_route(world: World, who: str) -> None:
    """Post team-B ids in the form body (pages) or JSON payload (API) of every route that takes a
    POST: nothing of team B changes, and nothing answers 5xx. A new POST route is covered as soon as
    it exists; a new id field name must be added to ``body`` below."""
    import datetime as dt

    staff_b = Staff.objects.get(user=world.agent_b)
    day = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    body: dict[str, Any] = {
        "shop": world.shop_b.pk,
        "staff": staff_b.pk,
        "owner": staff_b.pk,
        "order": world.order_b.pk,
        "order_id": world.order_b.pk,
        "order_no": world.order_b.order_no,
        "employee_no": staff_b.employee_no,
        "team": world.team_b.pk,
        "case_type": "lost_parcel",
        "kind": "personal",
        "start_date": day,
        "end_date": day,
        "date": day,
        "shift": "day",
        "item": "noise",
        "content": "差评内容",
        "rating": "1",
        "at": f"{day}T08:30:00+08:00",
        "reason": "x",
        "from_monday": "2026-11-02",
        "to_monday": "2026-11-09",
        "orders": [{"order_no": world.order_b.order_no, "status": "交易成功", "ordered_at": "2026-10-01T09:00:00"}],
        "refunds": [{"refund_id": "RB-1", "tid": world.order_b.order_no, "refund_fee": "1.00"}],
    }
    user = getattr(world, who)
    client = _login(user)
    before = _team_b_footprint(world)
    posted = 0
    for route in _patterns():
        if PARAM.search(route) or route.startswith(("i18n/", "login/", "logout/")):
            continue
        path = _fill(route, {})
        if path.startswith("/api/"):
            response = client.post(path, body, content_type="application/json")
        else:
            form = {k: v for k, v in body.items() if not isinstance(v, list)}
            response = client.post(path, form)
        if response.status_code == 405:
            continue
        posted += 1
        assert response.status_code < 500, f"{path} answered {response.status_code}"
        assert _team_b_footprint(world) == before, f"POST {path} as {who} changed team B"
    assert posted >= 12  # the walk really posted to the write routes


def test_scope_hooks_take_the_action(world: World) -> None:
    """A model's hook decides per action: a team lead reads and changes their team's leave requests,
    but only supervisors and the deputy have them in scope for approval."""
    import datetime as dt

    from kefu.workforce.models import LeaveRequest

    agent = Staff.objects.get(user=world.agent_a)
    day = dt.date(2026, 12, 1)
    request = LeaveRequest.objects.create(staff=agent, kind="rest", start_date=day, end_date=day)
    assert LeaveRequest.objects.restrict(world.lead_a, "read").filter(pk=request.pk).exists()
    assert LeaveRequest.objects.restrict(world.lead_a, "change").filter(pk=request.pk).exists()
    assert not LeaveRequest.objects.restrict(world.lead_a, "approve").filter(pk=request.pk).exists()
    assert LeaveRequest.objects.restrict(world.deputy, "approve").filter(pk=request.pk).exists()
    assert not LeaveRequest.objects.restrict(world.agent_b, "read").filter(pk=request.pk).exists()
    with pytest.raises(ValueError):
        LeaveRequest.objects.restrict(world.lead_a, "delete")


# --- issue 16 §2: technicians and the warehouse contact reach their work, not their team's customers


TEAM_DATA = {"product_id", "shop_id", "team_id", "staff_id"}  # no customer's facts (docs/roles.md)


def _service_request(world: World, **kw: Any) -> Any:
    import datetime as dt

    from kefu.core import clock
    from kefu.service import services as field

    return field.request_create(
        actor=world.lead_a, shop=world.shop_a, channel="phone", contact_name="李女士", contact_phone="13912345678",
        address="扬州市邗江区文昌西路 1 号", product="投影机 X1", serial_no="SN-0001", fault="开机无画面",
        purchase_date=clock.today() - dt.timedelta(days=100), **kw,
    )  # fmt: skip


@pytest.mark.parametrize("position", ["technician", "warehouse"])
def test_every_route_outside_their_work_answers_404_to_a_technician_and_the_warehouse(
    world: World, settings: Any, tmp_path: Any, position: str
) -> None:
    """Placed in team B itself, so a team's scope would let them in: every object of team B that is
    not their work (a request not assigned to them, a case not waiting on the warehouse, the
    team's orders, customers, chats, complaints, agreements, colleagues' records) answers 404 — or
    403 where the route needs a capability they lack — on every page and API route."""
    from .conftest import _person

    settings.MEDIA_ROOT = tmp_path
    values = _b_objects(world)
    worker = _person(position, world.team_b, f"{position}_b")
    client = _login(worker)
    routes = [r for r in _patterns() if PARAM.search(r)]
    reached = []
    for route in routes:
        names = {m.group("name") for m in PARAM.finditer(route)}
        path = _fill(route, values)
        response = _visit(client, path)
        assert response.status_code < 500, path
        if names & TEAM_DATA or response.status_code in (401, 403, 404):
            continue
        reached.append((path, response.status_code))
    assert reached == [], reached


def test_a_technician_reads_the_customer_of_their_request_and_the_warehouse_its_waiting_cases(
    world: World,
) -> None:
    from kefu.aftersales.models import Case
    from kefu.aftersales.services import statuses_ensure
    from kefu.workflow.models import StatusLabel

    from .conftest import _person

    statuses_ensure()
    tech = _person("technician", world.team_a, "tech_a")
    warehouse = _person("warehouse", world.team_a, "wh_a")
    item = _service_request(world)
    from kefu.service.models import ServiceRequest

    ServiceRequest.objects.filter(pk=item.pk).update(customer=world.customer_a, order=world.order_a)
    for who in (tech, warehouse):
        c = _login(who)
        assert c.get(f"/customers/{world.customer_a.pk}/").status_code == 404
        assert c.get(f"/orders/{world.order_a.pk}/").status_code == 404
        assert c.get("/orders/").content.decode().count(world.order_a.order_no) == 0
    ServiceRequest.objects.filter(pk=item.pk).update(technician=Staff.objects.get(user=tech))
    t = _login(tech)
    assert t.get(f"/service/{item.pk}/").status_code == 200
    assert t.get(f"/customers/{world.customer_a.pk}/").status_code == 200
    assert t.get(f"/orders/{world.order_a.pk}/").status_code == 200
    case = Case.objects.create(
        case_type="missing_item",
        shop=world.shop_a,
        order=world.order_a,
        customer=world.customer_a,
        status=StatusLabel.objects.filter(workflow="aftersales.case", category="open").first(),
        opened_at=world.order_a.ordered_at,
        updated_at=world.order_a.ordered_at,
    )
    w = _login(warehouse)
    assert w.get(f"/aftersales/{case.pk}/").status_code == 404
    Case.objects.filter(pk=case.pk).update(
        status=StatusLabel.objects.filter(workflow="aftersales.case", category="waiting_warehouse").first()
    )
    assert w.get(f"/aftersales/{case.pk}/").status_code == 200
    assert w.get(f"/orders/{world.order_a.pk}/").status_code == 200
    assert w.get(f"/service/{item.pk}/").status_code == 404


@pytest.mark.parametrize("position", ["technician", "warehouse"])
def test_no_list_page_shows_a_technician_or_the_warehouse_their_teams_customers(
    world: World, settings: Any, tmp_path: Any, position: str
) -> None:
    """The route walk above checks the object routes; this reads every page without an id (lists,
    boards, search, exports) as a technician and as the warehouse contact of team A itself, with
    team A holding a customer, an order, a chat, a service request and a complaint none of which is
    their work: none of the customer's facts appears on any page."""
    from kefu.care import services as care
    from kefu.commerce.models import Customer
    from kefu.core.events import SystemActor
    from kefu.desk import services as desk

    from .conftest import _person
    from .test_desk import msg

    settings.MEDIA_ROOT = tmp_path
    secret_phone = "13955550123"
    Customer.objects.filter(pk=world.customer_a.pk).update(phone=secret_phone, name="秘密客户")
    desk.messages_ingest(
        actor=SystemActor("t"),
        channel=desk.channel_default("api"),
        items=[msg("sec1", buyer="buyer_a", text="地址是秘密路")],
    )
    _service_request(world)  # contact 李女士 13912345678, not assigned to anyone
    care.complaint_create(
        actor=world.lead_a, shop=world.shop_a, contact_name="投诉人秘密", text="投诉秘密内容", customer=world.customer_a
    )
    secrets = [
        "buyer_a",
        secret_phone,
        "秘密客户",
        world.order_a.order_no,
        "秘密路",
        "13912345678",
        "李女士",
        "投诉秘密内容",
        "投诉人秘密",
    ]
    worker = _person(position, world.team_a, f"{position}_a")
    client = _login(worker)
    routes = [r for r in _patterns() if not PARAM.search(r) and not r.startswith(("api/", "i18n/", "logout"))]
    read = []
    for route in routes:
        response = client.get("/" + route)
        assert response.status_code < 500, route
        if response.status_code != 200 or response.streaming:
            continue
        body = response.content.decode(errors="replace")
        read += [(route, s) for s in secrets if s in body]
    assert read == [], read
    assert len(routes) > 30


def test_dispatch_stays_within_the_dispatchers_scope(world: World) -> None:
    """A Yangzhou lead dispatched a Haifeng technician, who then read that customer's phone."""
    import datetime as dt

    from kefu.core import clock
    from kefu.core.errors import ApplicationError
    from kefu.service import services as field
    from kefu.service.selectors import technicians

    from .conftest import _person

    theirs = Staff.objects.get(user=_person("technician", world.team_b, "tech_b"))
    ours = Staff.objects.get(user=_person("technician", world.team_a, "tech_a"))
    assert technicians(actor=world.lead_a) == [ours]
    item = _service_request(world)
    field.request_evaluate(actor=world.lead_a, item=item)
    at = clock.now() + dt.timedelta(days=1)
    with pytest.raises(ApplicationError) as refused:
        field.appointment_set(actor=world.lead_a, item=item, technician=theirs, at=at)
    assert refused.value.status == 404
    item.refresh_from_db()
    assert item.technician_id is None
    field.appointment_set(actor=world.lead_a, item=item, technician=ours, at=at)
    assert field.appointment_set  # the lead's own technician is dispatched


def test_an_order_pushed_under_another_teams_customer_does_not_pull_their_facts_across(world: World) -> None:
    """Issue 16 §6: pushing an order with a Haifeng customer's nick into a Yangzhou shop let the
    Yangzhou lead read that customer's phone, Haifeng agent and return visits."""
    import datetime as dt

    from kefu.care.models import ReturnVisit
    from kefu.commerce.models import Customer
    from kefu.core import clock
    from kefu.org.services import token_create

    agent_b = Staff.objects.get(user=world.agent_b)
    Customer.objects.filter(pk=world.customer_b.pk).update(phone="13999990000", assigned_agent=agent_b)
    ReturnVisit.objects.create(
        customer=world.customer_b, agent=agent_b, channel="phone", topic="opinion",
        scheduled_at=clock.now() + dt.timedelta(days=1), opinion="很满意 13999990000",
    )  # fmt: skip
    secret = token_create(actor=world.lead_a, user=world.lead_a)
    pushed = Client().post(
        "/api/v1/orders/push",
        {
            "shop": world.shop_a.pk,
            "orders": [
                {
                    "order_no": "PULL-1",
                    "buyer_nick": world.customer_b.nick,
                    "ordered_at": "2026-11-20 10:00:00",
                    "status": "买家已付款,等待卖家发货",
                }
            ],
        },
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert pushed.status_code == 200 and pushed.json()["failed"] == [], pushed.content
    lead = _login(world.lead_a)
    page = lead.get(f"/customers/{world.customer_b.pk}/")
    assert page.status_code == 200  # a buyer of the lead's shop now: the nick and their own orders
    body = page.content.decode()
    assert "13999990000" not in body and agent_b.name not in body
    assert "13999990000" not in lead.get("/customers/").content.decode()
    assert lead.get("/customers/", {"q": "13999990000"}).content.decode().count(world.customer_b.nick) == 0
    api = lead.get(f"/api/v1/customers/{world.customer_b.pk}").json()
    assert api["phone"] == "" and api["assigned_agent_id"] is None
    assert "13999990000" not in lead.get("/care/visits/").content.decode()
    # the customer's own team still sees everything
    b_lead = _login(world.agent_b)
    assert "13999990000" in b_lead.get(f"/customers/{world.customer_b.pk}/").content.decode()
    assert b_lead.get(f"/api/v1/customers/{world.customer_b.pk}").json()["phone"] == "13999990000"


def test_every_link_a_role_is_shown_opens(world: World) -> None:
    """Issue 18: a team lead's home linked to a page that answered 403, a technician's agreement
    page to a work order outside his scope. Every link on each role's home page — and on an
    agreement page with a released plan item for another technician — opens (no 403, no 5xx)."""
    import datetime as dt
    import re
    from decimal import Decimal

    from django.contrib.auth import get_user_model

    from kefu.core import clock
    from kefu.org.models import Position
    from kefu.service import services as field

    from .conftest import _person

    _person(Position.TECHNICIAN, world.team_a, "tech")
    agreement = field.agreement_create(
        actor=world.supervisor, shop=world.shop_a, customer_name="一中", contact_name="陈", contact_phone="1",
        products=[{"product": "投影机", "serial_no": "S1"}], starts_on=clock.today(),
        ends_on=clock.today() + dt.timedelta(days=364), fee=Decimal("100"), billing="once",
    )  # fmt: skip
    field.agreement_review(actor=world.supervisor, agreement=agreement)
    item = agreement.plan.order_by("due_on").first()
    field.plan_decide(actor=world.lead_a, item=item, state="reviewed")
    field.plan_release(actor=world.lead_a, item=item)
    for username in ("boss", "deputy", "lead_a", "agent_a", "agent_b", "tech"):
        client = _login(get_user_model().objects.get(username=username))
        pages = ["/", f"/service/agreements/{agreement.pk}/"]
        for page in pages:
            response = client.get(page)
            if response.status_code != 200:
                continue  # a page outside their work is a 404 (tested above); its links are not shown
            hrefs = set(re.findall(r'href="(/[^"#?]*)', response.content.decode())) - {"/accounts/logout/"}
            bad = [(h, c) for h in sorted(hrefs) if (c := client.get(h).status_code) in (403,) or c >= 500]
            assert not bad, (username, page, bad)
