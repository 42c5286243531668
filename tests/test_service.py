"""Field service (SPEC §6): a request from intake to settlement, R-SVC-3/4/6 on stored requests,
stock that never goes negative, scope, and the warranty API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from kefu.core import clock
from kefu.core.errors import ApplicationError, PermissionDenied
from kefu.core.events import SystemActor
from kefu.core.models import AppendOnlyError, Event, OutboxMessage
from kefu.core.outbox import outbox_drain
from kefu.org.models import Position, Staff
from kefu.policies import warranty
from kefu.service import selectors, services
from kefu.service.models import Part, ServiceRequest, StockEntry
from kefu.workflow import services as wf

from .conftest import PASSWORD, World, _person

SYSTEM = SystemActor("test")


@pytest.fixture
def tech(world: World) -> Any:
    user = _person(Position.TECHNICIAN, world.team_a, "tech")
    Staff.objects.filter(user=user).update(name="王师傅", phone="13800001111")
    return user


def _request(world: World, **kw: Any) -> ServiceRequest:
    fields = {
        "shop": world.shop_a,
        "channel": "phone",
        "contact_name": "李女士",
        "contact_phone": "13912345678",
        "address": "扬州市邗江区文昌西路 1 号",
        "product": "投影机 X1",
        "serial_no": "SN-0001",
        "fault": "开机无画面",
        "purchase_date": clock.today() - dt.timedelta(days=100),
    }
    return services.request_create(actor=world.lead_a, **{**fields, **kw})


def _to_site(world: World, tech: Any, item: ServiceRequest) -> ServiceRequest:
    services.request_evaluate(actor=world.lead_a, item=item)
    technician = Staff.objects.get(user=tech)
    services.appointment_set(
        actor=world.lead_a, item=item, technician=technician, at=clock.now() + dt.timedelta(hours=2)
    )
    item = services.visit_arrive(actor=tech, item=item)
    return services.visit_diagnose(actor=tech, item=item, diagnosis="灯泡老化", parts_consent=True)


def test_a_request_from_intake_to_settlement(world: World, tech: Any) -> None:
    item = _request(world)
    assert item.number.startswith("FW") and item.status.category == "new"
    assert item.sla_due_at == item.opened_at + dt.timedelta(hours=24)  # R-SVC-6
    item = services.request_evaluate(actor=world.lead_a, item=item)
    assert item.charge == "free" and item.verdict["rules"] == ["R-SVC-1"] and not item.replacement_due
    technician = Staff.objects.get(user=tech)
    at = clock.now() + dt.timedelta(hours=3)
    item = services.appointment_set(actor=world.lead_a, item=item, technician=technician, at=at)
    assert item.status.category == "scheduled"
    # the confirmation (seed 003: time, technician's name and phone) leaves through the outbox
    message = OutboxMessage.objects.get(kind="service.notify")
    assert "王师傅" in message.payload["text"] and "13800001111" in message.payload["text"]
    assert f"{at.astimezone(clock.local_tz()):%H:%M}" in message.payload["text"]
    assert message.payload["phone"] == "13912345678"
    assert outbox_drain()["sent"] >= 1
    item = services.visit_arrive(actor=tech, item=item)
    assert item.status.category == "on_site" and item.on_site_at is not None
    arrived = Event.objects.for_object(item).get(verb="service_request.arrived")
    assert arrived.after["on_time"] is True and arrived.after["rule"] == "R-SVC-6"
    with pytest.raises(ApplicationError):  # parts need the customer's consent first
        services.parts_issue(
            actor=tech, item=item, part=Part.objects.create(code="X", name="灯泡", price=50), quantity=1
        )
    item = services.visit_diagnose(actor=tech, item=item, diagnosis="灯泡老化", parts_consent=True)
    lamp = Part.objects.get(code="X")
    services.stock_receive(actor=world.supervisor, part=lamp, quantity=3)
    services.parts_issue(actor=tech, item=item, part=lamp, quantity=2)
    services.parts_return(actor=tech, item=item, part=lamp, quantity=1)
    assert Part.objects.get(pk=lamp.pk).on_hand == 2
    assert [(p["part"].code, p["quantity"]) for p in selectors.issued_parts(item)] == [("X", 1)]
    services.visit_step(actor=tech, item=item, code="shoe_covers", done=True)
    with pytest.raises(ApplicationError):  # only the request's technician ticks the visit's steps
        services.visit_step(actor=world.agent_a, item=item, code="greet", done=True)
    with pytest.raises(ApplicationError):  # the verdict is fixed once the visit has started
        services.request_evaluate(actor=world.lead_a, item=item, causes=["misuse"])
    with pytest.raises(ApplicationError):
        services.report_sign(actor=tech, item=item, signed_by="李女士", signature="<script>")
    item = services.report_sign(actor=tech, item=item, signed_by="李女士", signature="M10 10 L20 20 L30 15")
    assert item.status.category == "signed" and item.signed_by == "李女士"
    item = services.request_settle(actor=world.lead_a, item=item, labour=Decimal("80.00"))
    # a free repair under warranty: parts ¥50 + labour ¥80, all of it discounted
    assert (item.parts_amount, item.labour, item.discount, item.amount_due) == (
        Decimal("50.00"),
        Decimal("80.00"),
        Decimal("130.00"),
        Decimal("0.00"),
    )
    assert item.status.category == "settled"
    with pytest.raises(ApplicationError):
        services.request_settle(actor=world.lead_a, item=item, labour=Decimal("80.00"))  # once
    verbs = list(Event.objects.for_object(item).values_list("verb", flat=True))
    for verb in (
        "service_request.created",
        "service_request.evaluated",
        "service_request.appointed",
        "service_request.signed",
        "service_request.settled",
        "stock.issued",
        "stock.returned",
    ):
        assert verb in verbs


def test_a_paid_repair_is_settled_with_the_agreement_discount(world: World, tech: Any) -> None:
    item = _request(world, purchase_date=clock.today() - dt.timedelta(days=800))  # out of warranty
    item = _to_site(world, tech, item)
    assert item.charge == "paid" and item.verdict["paid_reasons"] == ["out_of_warranty"]
    part = Part.objects.create(code="RC", name="遥控器", price=Decimal("40.00"))
    services.stock_receive(actor=world.supervisor, part=part, quantity=1)
    services.parts_issue(actor=tech, item=item, part=part, quantity=1)
    item = services.report_sign(actor=tech, item=item, signed_by="李女士", signature="M1 1 L2 2")
    item = services.request_settle(
        actor=world.lead_a, item=item, labour=Decimal("60.00"), discount_percent=Decimal("10")
    )
    assert (item.parts_amount, item.discount, item.amount_due) == (Decimal("40.00"), Decimal("10.00"), Decimal("90.00"))


def test_the_on_site_deadline_is_flagged_when_missed_r_svc_6(world: World, tech: Any) -> None:
    item = _request(world)
    assert wf.deadlines_sweep(now=item.opened_at + dt.timedelta(hours=23))["breached"] == 0
    assert wf.deadlines_sweep(now=item.opened_at + dt.timedelta(hours=25))["breached"] == 1
    item.refresh_from_db()
    assert item.breached and Event.objects.for_object(item).filter(verb="service_request.deadline_breached").exists()


def test_twice_repaired_units_and_slow_repairs_raise_a_replacement_r_svc_3_4(world: World, tech: Any) -> None:
    for _ in range(2):  # two completed repairs of SN-0001 under warranty
        done = _to_site(world, tech, _request(world))
        services.report_sign(actor=tech, item=done, signed_by="李女士", signature="M1 1 L2 2")
    third = services.request_evaluate(actor=world.lead_a, item=_request(world))
    assert third.replacement_due and "R-SVC-3" in third.verdict["rules"]
    assert Event.objects.for_object(third).filter(verb="service_request.replacement_due").count() == 1
    # the replacement is raised as a work order of its own, for the same unit, once
    raised = ServiceRequest.objects.get(replaces=third)
    assert (raised.kind, raised.serial_no, raised.contact_phone) == ("replacement", "SN-0001", third.contact_phone)
    assert third.number in raised.fault and raised.status.category == "new"
    other = services.request_evaluate(actor=world.lead_a, item=_request(world, serial_no="SN-0002"))
    assert not other.replacement_due
    # R-SVC-4: the same unit's request open for 60 days
    ServiceRequest.objects.filter(pk=other.pk).update(opened_at=clock.now() - dt.timedelta(days=60))
    other.refresh_from_db()
    slow = services.request_evaluate(actor=world.lead_a, item=other)
    assert slow.replacement_due and "R-SVC-4" in slow.verdict["rules"]
    # a request already being worked is flagged by the daily sweep, once
    working = _to_site(world, tech, _request(world, serial_no="SN-0003"))
    assert services.replacements_sweep() == 0
    ServiceRequest.objects.filter(pk=working.pk).update(opened_at=clock.now() - dt.timedelta(days=61))
    assert services.replacements_sweep() == 1 and services.replacements_sweep() == 0
    working.refresh_from_db()
    assert working.replacement_due and ServiceRequest.objects.filter(replaces=working, kind="replacement").count() == 1


def test_stock_never_goes_negative_and_its_ledger_cannot_change(world: World, tech: Any) -> None:
    item = _to_site(world, tech, _request(world))
    part = Part.objects.create(code="P1", name="电源板", price=Decimal("120.00"))
    services.stock_receive(actor=world.supervisor, part=part, quantity=1)
    with pytest.raises(ApplicationError) as short:
        services.parts_issue(actor=tech, item=item, part=part, quantity=2)
    assert short.value.code == "stock_short" and Part.objects.get(pk=part.pk).on_hand == 1
    services.parts_issue(actor=tech, item=item, part=part, quantity=1, key="k1")
    services.parts_issue(actor=tech, item=item, part=part, quantity=1, key="k1")  # a resent form: one issue
    assert Part.objects.get(pk=part.pk).on_hand == 0 and StockEntry.objects.filter(kind="issued").count() == 1
    with pytest.raises(ApplicationError):
        services.parts_return(actor=tech, item=item, part=part, quantity=2)  # holds only 1
    entry = StockEntry.objects.first()
    assert entry is not None
    with pytest.raises(AppendOnlyError):
        StockEntry.objects.filter(pk=entry.pk).update(quantity=5)
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(ApplicationError):
        services.stock_receive(actor=world.lead_a, part=part, quantity=5)  # a capability of the supervisor


def test_scope_technicians_see_their_visits_and_teams_their_shops(world: World, tech: Any) -> None:
    item = _request(world)
    other_tech = _person(Position.TECHNICIAN, world.team_a, "tech2")
    outsider = Client()
    outsider.login(username="agent_b", password=PASSWORD)  # team B: shop A's request is not there
    assert outsider.get(f"/service/{item.pk}/").status_code == 404
    assert outsider.post(f"/service/{item.pk}/evaluate/", {}).status_code == 404
    _to_site(world, tech, item)
    mine, theirs = Client(), Client()
    mine.login(username="tech", password=PASSWORD)
    theirs.login(username="tech2", password=PASSWORD)
    assert mine.get(f"/service/{item.pk}/").status_code == 200
    assert theirs.get(f"/service/{item.pk}/").status_code == 404
    with pytest.raises(ApplicationError):
        services.visit_diagnose(actor=other_tech, item=item, diagnosis="x")
    page = mine.get("/service/day/").content.decode()
    assert item.number in page and "uri.amap.com" in page
    with pytest.raises(ApplicationError):  # an agent cannot dispatch
        services.appointment_set(
            actor=world.agent_a, item=item, technician=Staff.objects.get(user=tech), at=clock.now()
        )


def test_the_pages_walk_a_request(world: World, tech: Any) -> None:
    lead = Client()
    lead.login(username="lead_a", password=PASSWORD)
    bad = lead.post("/service/new/", {"shop": world.shop_a.pk, "channel": "phone"})
    assert bad.status_code == 400
    form = {
        "shop": world.shop_a.pk,
        "channel": "wechat",
        "contact_name": "赵先生",
        "contact_phone": "13700000000",
        "product": "幕布",
        "part": "accessory",
        "purchase_date": (clock.today() - dt.timedelta(days=30)).isoformat(),
        "fault": "遥控失灵",
    }
    created = lead.post("/service/new/", form)
    assert created.status_code == 302
    item = ServiceRequest.objects.get(contact_name="赵先生")
    lead.post(f"/service/{item.pk}/evaluate/", {"causes": ["misuse"]})
    item.refresh_from_db()
    assert item.charge == "paid" and item.causes == ["misuse"]
    page = lead.get(f"/service/{item.pk}/").content.decode()
    assert "使用、维护或保管不当" in page or "Damaged by use" not in page
    listing = lead.get("/service/?category=new").content.decode()
    assert item.number in listing
    assert lead.get("/service/?technician=abc&shop=x&category=zzz").status_code == 200


def test_the_warranty_api_answers_and_stores_nothing(world: World) -> None:
    client = Client()
    client.login(username="agent_a", password=PASSWORD)
    body = {
        "part": "unit",
        "purchase_date": "2026-01-10",
        "request_date": "2026-06-01",
        "repairs_in_warranty": 2,
        "return": {"invoice_date": "2026-01-01", "return_date": "2026-03-02", "price": "1000.00", "repair_days": 10},
    }
    answer = client.post("/api/v1/service/warranty/evaluate", body, content_type="application/json")
    assert answer.status_code == 200, answer.content
    data = answer.json()
    assert data["charge"] == "free" and data["replacement_due"] is True and data["warranty_ends"] == "2027-01-10"
    assert data["rules"] == ["R-SVC-1", "R-SVC-3", "R-SVC-5"] and data["depreciation"] == "50.00"
    assert ServiceRequest.objects.count() == 0
    for bad in (
        {**body, "part": "lamp"},
        {**body, "causes": ["weather"]},
        {**body, "request_date": "2025-01-01"},
        {**body, "purchase_date": "20260110"},
        {**body, "return": {**body["return"], "price": "abc"}},
    ):
        refused = client.post("/api/v1/service/warranty/evaluate", bad, content_type="application/json")
        assert refused.status_code == 400 and "error" in refused.json()
    assert Client().post("/api/v1/service/warranty/evaluate", body, content_type="application/json").status_code == 401


def test_an_agreement_bills_plans_and_discounts_its_work_orders(world: World, tech: Any) -> None:
    start = clock.today()
    agreement = services.agreement_create(
        actor=world.supervisor,
        shop=world.shop_a,
        customer_name="扬州市第一中学",
        contact_name="陈老师",
        contact_phone="0514-1234567",
        address="扬州市文昌中路 1 号",
        products=[{"product": "投影机 X1", "serial_no": "SN-9"}, {"product": ""}],
        starts_on=start,
        ends_on=start + dt.timedelta(days=364),
        fee=Decimal("1000.00"),
        billing="quarterly",
        parts_discount=Decimal("20"),
        labour_discount=Decimal("50"),
        warranty_months=24,
    )
    assert agreement.number.startswith("XY") and agreement.products == [{"product": "投影机 X1", "serial_no": "SN-9"}]
    bills = list(agreement.bills.values_list("amount", flat=True))
    assert len(bills) == 4 and sum(bills) == Decimal("1000.00")  # quarterly over a year
    kinds = sorted(agreement.plan.values_list("kind", flat=True))
    # SPEC §6.1: a plan of 12 months (start … start + 364 days) has 12 monthly return visits, 4
    # quarterly maintenances and 1 yearly service, each due on its period's last day
    assert (kinds.count("return_visit"), kinds.count("maintenance"), kinds.count("service")) == (12, 4, 1)
    dues = sorted(agreement.plan.filter(kind="maintenance").values_list("due_on", flat=True))
    assert dues[0] == warranty.add_months(start, 3) - dt.timedelta(days=1) and dues[-1] == agreement.ends_on
    item = agreement.plan.order_by("due_on").first()
    assert item is not None
    services.plan_decide(actor=world.lead_a, item=item, state="reviewed")
    with pytest.raises(ApplicationError) as not_reviewed:
        services.plan_release(actor=world.lead_a, item=item)  # the agreement is not in effect yet
    assert not_reviewed.value.code == "agreement"
    with pytest.raises(PermissionDenied):
        services.agreement_review(actor=world.lead_a, agreement=agreement)
    services.agreement_review(actor=world.supervisor, agreement=agreement)
    work = services.plan_release(actor=world.lead_a, item=item)
    with pytest.raises(ApplicationError):
        services.plan_release(actor=world.lead_a, item=item)  # once
    assert work.agreement_id == agreement.pk and work.channel == "plan" and work.kind == item.kind
    # R-SVC-6 (clarified): planned work is due on its plan date, not 24 hours after release
    assert clock.local_date(work.sla_due_at - dt.timedelta(seconds=1)) == item.due_on
    bill = agreement.bills.first()
    assert bill is not None
    services.bill_pay(actor=world.supervisor, bill=bill)
    with pytest.raises(ApplicationError):
        services.bill_pay(actor=world.supervisor, bill=bill)
    # a paid repair under the agreement: its own discounts on parts and labour
    repair = _request(
        world, agreement=agreement, serial_no="SN-9", purchase_date=clock.today() - dt.timedelta(days=900)
    )
    repair = services.request_evaluate(actor=world.lead_a, item=repair)
    assert repair.verdict["facts"]["agreement_months"] == 24 and repair.charge == "paid"
    repair = _to_site(world, tech, repair)
    part = Part.objects.create(code="F", name="滤网", price=Decimal("30.00"))
    services.stock_receive(actor=world.supervisor, part=part, quantity=1)
    services.parts_issue(actor=tech, item=repair, part=part, quantity=1)
    repair = services.report_sign(actor=tech, item=repair, signed_by="陈老师", signature="M1 1 L2 2")
    repair = services.request_settle(actor=world.lead_a, item=repair, labour=Decimal("100.00"))
    assert (repair.discount, repair.amount_due) == (Decimal("56.00"), Decimal("74.00"))  # 30×20% + 100×50%


def test_the_return_visit_closes_the_request_outside_rest_hours(
    world: World, tech: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = _to_site(world, tech, _request(world))
    item = services.report_sign(actor=tech, item=item, signed_by="李女士", signature="M1 1 L2 2")
    item = services.request_settle(actor=world.lead_a, item=item, labour=Decimal("0"))
    tz = clock.local_tz()
    lunch = dt.datetime.combine(clock.today() + dt.timedelta(days=1), dt.time(12, 30), tzinfo=tz)
    monkeypatch.setattr(clock, "now", lambda: lunch)
    with pytest.raises(ApplicationError) as rest:
        services.request_return_visit(actor=world.lead_a, item=item, satisfaction=5)
    assert rest.value.code == "rest_hours"
    monkeypatch.setattr(clock, "now", lambda: lunch + dt.timedelta(hours=3))
    item = services.request_return_visit(actor=world.lead_a, item=item, satisfaction=4, notes="很满意")
    assert item.status.category == "closed" and item.satisfaction == 4


def test_the_signed_report_is_a_pdf_with_the_signature(world: World, tech: Any) -> None:
    from kefu.service.report import signature_strokes

    assert signature_strokes("M10 10 L20 20 L30 15 M5 5 Q6 6 7 7") == [[(10, 10), (20, 20), (30, 15)], [(5, 5), (7, 7)]]
    item = _to_site(world, tech, _request(world))
    client = Client()
    client.login(username="tech", password=PASSWORD)
    assert client.get(f"/service/{item.pk}/report.pdf").status_code == 404  # not signed yet
    services.report_sign(actor=tech, item=item, signed_by="李女士", signature="M10 10 L200 100 L300 50")
    pdf = client.get(f"/service/{item.pk}/report.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and b"STSong-Light" in pdf.content
    outsider = Client()
    outsider.login(username="agent_b", password=PASSWORD)
    assert outsider.get(f"/service/{item.pk}/report.pdf").status_code == 404


def test_a_malformed_signature_is_refused_and_a_long_diagnosis_is_printed_whole(
    world: World, tech: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 16 §10: "M 10 10 L 1.2.3 40" was accepted and the signed PDF then always answered 500;
    the PDF cut each line at 90 characters, so the customer signed a truncated diagnosis."""
    from kefu.service.report import signature_strokes, wrap

    for bad in ("M 10 10 L 1.2.3 40", "M 10", "L", "M 1 2 3", "Q 1 2 3 4 5 6", "M1-2-3 4", "M..1 2"):
        assert signature_strokes(bad, strict=True) is None, bad
    assert signature_strokes("M 10 10 L 1.5 40 Q 1 2 3 4", strict=True) == [[(10, 10), (1.5, 40), (3, 4)]]
    assert signature_strokes("M 10 10 L 1.2.3 40") == [[(10, 10)]]  # an old stored one still draws
    diagnosis = "灯泡老化" + "并且驱动电源电容鼓包需要更换" * 12 + "结束"
    lines = wrap(diagnosis, "STSong-Light", 10, 170 * 2.8346)
    assert "".join(lines) == diagnosis and len(lines) > 1
    item = _to_site(world, tech, _request(world))
    services.ServiceRequest.objects.filter(pk=item.pk).update(diagnosis=diagnosis)
    with pytest.raises(ApplicationError):
        services.report_sign(actor=tech, item=item, signed_by="李女士", signature="M 10 10 L 1.2.3 40")
    services.report_sign(actor=tech, item=item, signed_by="李女士", signature="M10 10 L200 100")
    from reportlab.pdfgen.canvas import Canvas

    drawn: list[str] = []
    original = Canvas.drawString

    def capture(self: Any, x: float, y: float, text: str, *a: Any, **kw: Any) -> Any:
        drawn.append(text)
        return original(self, x, y, text, *a, **kw)

    monkeypatch.setattr(Canvas, "drawString", capture)
    client = Client()
    client.login(username="tech", password=PASSWORD)
    pdf = client.get(f"/service/{item.pk}/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert diagnosis in "".join(drawn)  # every character drawn, over several lines


def test_agreement_and_parts_pages(world: World, tech: Any) -> None:
    boss = Client()
    boss.login(username="boss", password=PASSWORD)
    start = clock.today()
    form = {
        "shop": world.shop_a.pk,
        "customer_name": "扬州一中",
        "contact_name": "陈老师",
        "contact_phone": "0514-1",
        "products": "投影机 X1, SN-1\n幕布",
        "starts_on": start.isoformat(),
        "ends_on": (start + dt.timedelta(days=180)).isoformat(),
        "fee": "600.00",
        "billing": "monthly",
        "parts_discount": "10",
        "labour_discount": "0",
    }
    assert boss.post("/service/agreements/", {**form, "fee": "1e999"}).status_code == 400
    created = boss.post("/service/agreements/", form)
    assert created.status_code == 302, created.content.decode()[:300]
    page = boss.get(created["Location"]).content.decode()
    assert "扬州一中" in page and "待审核" in page and "幕布" in page
    lead = Client()
    lead.login(username="lead_a", password=PASSWORD)
    assert lead.post("/service/parts/", {"do": "create", "code": "X", "name": "x", "price": "1"}).status_code == 403
    assert (
        boss.post("/service/parts/", {"do": "create", "code": "L1", "name": "灯泡", "price": "88.00"}).status_code
        == 302
    )
    part = Part.objects.get(code="L1")
    for _ in range(2):  # a resent form with its key receives once
        boss.post("/service/parts/", {"part": part.pk, "quantity": "5", "idempotency_key": "k-1"})
    assert Part.objects.get(pk=part.pk).on_hand == 5
    assert boss.post("/service/parts/", {"part": part.pk, "quantity": "abc"}).status_code == 302
    assert Part.objects.get(pk=part.pk).on_hand == 5


def test_technicians_do_not_judge_the_warranty_and_a_resent_settlement_says_so(world: World, tech: Any) -> None:
    item = _request(world)
    with pytest.raises(ApplicationError):
        services.request_evaluate(actor=tech, item=item, causes=["misuse"])
    item = _to_site(world, tech, item)
    item = services.report_sign(actor=tech, item=item, signed_by="李女士", signature="M1 1 L2 2")
    item = services.request_settle(actor=world.lead_a, item=item, labour=Decimal("-0"))
    assert str(item.labour) == "0.00"  # never "-0.00"
    with pytest.raises(ApplicationError) as again:
        services.request_settle(actor=world.lead_a, item=item, labour=Decimal("10"))
    assert again.value.code == "changed"
    with pytest.raises(ApplicationError):
        services.agreement_create(
            actor=world.lead_a,
            shop=world.shop_a,
            customer_name="x",
            contact_name="x",
            contact_phone="1",
            products=[{"product": "x"}],
            starts_on=clock.today(),
            ends_on=clock.today(),
            fee=Decimal("1"),
            billing="once",
        )  # agreements are the supervisor's and the deputy's


def test_the_filtered_work_orders_export_to_xlsx(world: World, tech: Any) -> None:
    import io

    import openpyxl

    first = _request(world, contact_name="=HYPERLINK(1)")
    _request(world, serial_no="SN-9")
    lead = Client()
    lead.login(username="lead_a", password=PASSWORD)
    answer = lead.get("/service/", {"q": "SN-9", "format": "xlsx"})
    assert answer["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(answer.content)).active
    assert sheet is not None and sheet.max_row == 2 and sheet.cell(2, 8).value == "SN-9"  # the filter applies
    everything = openpyxl.load_workbook(io.BytesIO(lead.get("/service/", {"format": "xlsx"}).content)).active
    assert everything is not None and everything.max_row == 3
    names = [everything.cell(r, 5).value for r in (2, 3)]
    assert "'=HYPERLINK(1)" in names  # Excel-safe: a text, never a formula
    outsider = Client()
    outsider.login(username="agent_b", password=PASSWORD)
    other = openpyxl.load_workbook(io.BytesIO(outsider.get("/service/", {"format": "xlsx"}).content)).active
    assert other is not None and other.max_row == 1 and first.number  # team B sees none of team A's
