"""Issue 18: field-service cases worked whole, by hand, through the API (SPEC §6, §6.1).

The suite's clock is 2026-11-26 10:00 (Asia/Shanghai). The world's team A has a lead (``lead_a``,
who takes requests and dispatches) and here a technician, 王师傅.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from kefu.core import clock
from kefu.org.models import Position, Staff
from kefu.service import services
from kefu.service.models import Part, ServiceRequest

from .conftest import PASSWORD, World, _person

pytestmark = pytest.mark.django_db


def _client(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


def _post(client: Client, url: str, body: dict[str, Any] | None = None) -> Any:
    answer = client.post(url, body or {}, content_type="application/json")
    return answer


def _ok(answer: Any) -> dict[str, Any]:
    assert answer.status_code == 200, answer.content.decode()
    return answer.json()  # type: ignore[no-any-return]


@pytest.fixture
def tech(world: World) -> Any:
    user = _person(Position.TECHNICIAN, world.team_a, "tech")
    Staff.objects.filter(user=user).update(name="王师傅", phone="13800001111")
    return user


def _new(world: World, lead: Client, **kw: Any) -> dict[str, Any]:
    body = {
        "shop_id": world.shop_a.pk,
        "channel": "phone",
        "contact_name": "李女士",
        "contact_phone": "13912345678",
        "address": "扬州市邗江区文昌西路 1 号",
        "product": "投影机 X1",
        "serial_no": "SN-0001",
        "fault": "开机无画面",
        "purchase_date": (clock.today() - dt.timedelta(days=100)).isoformat(),
        **kw,
    }
    return _ok(_post(lead, "/api/v1/service/requests", body))


def _on_site(world: World, lead: Client, technician: Client, item: dict[str, Any], hours: int = 2) -> dict[str, Any]:
    url = f"/api/v1/service/requests/{item['id']}"
    _ok(_post(lead, f"{url}/evaluate"))
    tech_id = Staff.objects.get(user__username="tech").pk
    at = (clock.now() + dt.timedelta(hours=hours)).isoformat()
    _ok(_post(lead, f"{url}/appointment", {"technician_id": tech_id, "at": at}))
    return _ok(_post(technician, f"{url}/arrive"))


def test_misuse_found_on_site_turns_the_free_repair_into_a_paid_one(world: World, tech: Any) -> None:
    """R-SVC-2 (SPEC §6.1). Bought 100 days ago, in warranty: evaluated free. On site the technician
    first records the customer's consent to parts (free), then finds misuse (damp storage): the
    verdict is taken again — paid — and the consent given for a free repair no longer stands, so
    the ¥380.00 lamp cannot be issued until the customer consents to the price. Then: lamp 380.00
    + labour 100.00 = 480.00 due, no discount (no agreement)."""
    lead, technician = _client("lead_a"), _client("tech")
    item = _new(world, lead)
    url = f"/api/v1/service/requests/{item['id']}"
    evaluated = _ok(_post(lead, f"{url}/evaluate"))
    assert (evaluated["charge"], evaluated["paid_reasons"]) == ("free", [])
    _on_site(world, lead, technician, item)
    consented = _ok(_post(technician, f"{url}/diagnosis", {"diagnosis": "灯泡烧坏", "parts_consent": True}))
    assert consented["parts_consent_at"] is not None
    found = _ok(_post(technician, f"{url}/diagnosis", {"diagnosis": "受潮导致灯泡烧坏", "findings": ["misuse"]}))
    assert (found["charge"], found["paid_reasons"], found["parts_consent_at"]) == ("paid", ["misuse"], None)
    lamp = Part.objects.create(code="LAMP", name="灯泡", price=Decimal("380.00"))
    services.stock_receive(actor=world.supervisor, part=lamp, quantity=2)
    refused = _post(technician, f"{url}/parts", {"part_id": lamp.pk, "quantity": 1})
    assert refused.status_code == 400  # the customer has not agreed to the paid price
    _ok(_post(technician, f"{url}/diagnosis", {"diagnosis": "受潮导致灯泡烧坏", "parts_consent": True}))
    _ok(_post(technician, f"{url}/parts", {"part_id": lamp.pk, "quantity": 1, "idempotency_key": "lamp-1"}))
    # a time without its offset is a 400, never a 500 (review)
    naive = _post(
        lead, f"{url}/appointment", {"technician_id": Staff.objects.get(user=tech).pk, "at": "2026-12-07T10:00:00"}
    )
    assert naive.status_code == 400 and naive.json()["error"]["code"] == "validation_error"
    _ok(_post(technician, f"{url}/signature", {"signed_by": "李女士", "signature": "M1 1 L2 2"}))
    settled = _ok(_post(lead, f"{url}/settlement", {"labour": "100.00"}))
    assert (settled["parts_amount"], settled["labour"], settled["discount"], settled["amount_due"]) == (
        "380.00", "100.00", "0.00", "480.00"
    )  # fmt: skip
    from kefu.core.models import Event

    reevaluated = Event.objects.get(verb="service_request.reevaluated", subject_id=str(item["id"]))
    assert (reevaluated.before["charge"], reevaluated.after["charge"]) == ("free", "paid")


def test_findings_and_consent_in_one_post_do_not_consent_to_the_new_price(world: World, tech: Any) -> None:
    """Review of issue 18: the technician sends "misuse" and the consent together — the consent was
    given for the free repair the customer saw, so it is not recorded; asked again, it is."""
    lead, technician = _client("lead_a"), _client("tech")
    item = _new(world, lead)
    _on_site(world, lead, technician, item)
    url = f"/api/v1/service/requests/{item['id']}"
    both = _ok(
        _post(technician, f"{url}/diagnosis", {"diagnosis": "受潮", "findings": ["misuse"], "parts_consent": True})
    )
    assert (both["charge"], both["parts_consent_at"]) == ("paid", None)
    body = {"diagnosis": "受潮", "findings": ["misuse"], "parts_consent": True}
    assert _ok(_post(technician, f"{url}/diagnosis", body))["parts_consent_at"] is None  # a double tap: no consent
    assert _ok(_post(technician, f"{url}/diagnosis", {"diagnosis": "受潮", "parts_consent": True}))["parts_consent_at"]


def test_two_maintenances_then_a_repair_is_not_a_replacement_and_a_replacement_raises_no_other(
    world: World, tech: Any
) -> None:
    """R-SVC-3 (SPEC §6.1). Unit SN-0001 had two quarterly maintenances (no fault), both completed:
    its first repair request is a free repair, not "repaired twice → replace". After two completed
    repairs, the third request is due a replacement; the replacement work order, evaluated, raises
    no replacement of its own (before: each raised another)."""
    lead = _client("lead_a")
    tech_staff = Staff.objects.get(user=tech)

    def complete(kind: str) -> None:
        done = services.request_create(
            actor=world.lead_a, shop=world.shop_a, channel="phone", contact_name="李女士",
            contact_phone="13912345678", product="投影机 X1", serial_no="SN-0001", fault="定期保养",
            purchase_date=clock.today() - dt.timedelta(days=100), kind=kind,
        )  # fmt: skip
        services.request_evaluate(actor=world.lead_a, item=done)
        services.appointment_set(
            actor=world.lead_a, item=done, technician=tech_staff, at=clock.now() + dt.timedelta(hours=1)
        )
        services.visit_arrive(actor=tech, item=done)
        services.visit_diagnose(actor=tech, item=done, diagnosis="正常")
        services.report_sign(actor=tech, item=done, signed_by="李女士", signature="M1 1 L2 2")

    complete("maintenance")
    complete("maintenance")
    first = _new(world, lead)
    verdict = _ok(_post(lead, f"/api/v1/service/requests/{first['id']}/evaluate"))
    assert (verdict["charge"], verdict["replacement_due"]) == ("free", False)
    complete("repair")
    complete("repair")
    third = _new(world, lead)
    verdict = _ok(_post(lead, f"/api/v1/service/requests/{third['id']}/evaluate"))
    assert verdict["replacement_due"]
    (replacement,) = ServiceRequest.objects.filter(replaces_id=third["id"])
    again = _ok(_post(lead, f"/api/v1/service/requests/{replacement.pk}/evaluate"))
    assert (again["kind"], again["replacement_due"]) == ("replacement", False)
    assert ServiceRequest.objects.filter(kind="replacement").count() == 1


def test_a_year_agreement_is_reviewed_plans_its_visits_and_discounts_a_covered_repair(world: World, tech: Any) -> None:
    """SPEC §6.1. A one-year agreement (2026-11-26 … 2027-11-25, ¥1,200.00 quarterly, parts −20 %,
    labour −50 %, warranty 8 months) plans 12 return visits, 4 maintenances and 1 yearly service.
    Until the supervisor reviews it, a repair of its unit is not linked; once reviewed, a repair of
    SN-A1 links to it. Its accessory (a remote) is covered 12 months, not 8 (R-SVC-1): bought
    2026-01-10, requested 2026-11-26, in warranty to 2027-01-10. A paid repair (bought 2024: out of
    warranty) of the unit: lamp 380.00 × 80 % = 304.00 + labour 100.00 × 50 % = 50.00 → 354.00."""
    boss, lead, technician = _client("boss"), _client("lead_a"), _client("tech")
    body = {
        "shop_id": world.shop_a.pk, "customer_name": "扬州市第一中学", "contact_name": "陈老师",
        "contact_phone": "0514-1234567", "products": [{"product": "投影机 X1", "serial_no": "SN-A1"}],
        "starts_on": "2026-11-26", "ends_on": "2027-11-25", "fee": "1200.00", "billing": "quarterly",
        "parts_discount": "20", "labour_discount": "50", "warranty_months": 8,
    }  # fmt: skip
    assert _post(lead, "/api/v1/service/agreements", body).status_code == 403
    agreement = _ok(_post(boss, "/api/v1/service/agreements", body))
    kinds = [p["kind"] for p in agreement["plan"]]
    assert (kinds.count("return_visit"), kinds.count("maintenance"), kinds.count("service")) == (12, 4, 1)
    assert [b["amount"] for b in agreement["bills"]] == ["300.00"] * 4 and agreement["reviewed_at"] is None
    unlinked = _new(world, lead, serial_no="SN-A1")
    assert unlinked["agreement_id"] is None
    assert _post(_client("deputy"), f"/api/v1/service/agreements/{agreement['id']}/review").status_code == 403
    assert _ok(_post(boss, f"/api/v1/service/agreements/{agreement['id']}/review"))["reviewed_at"] is not None
    remote = _new(world, lead, serial_no="SN-A1", part="accessory", purchase_date="2026-01-10")
    assert remote["agreement_id"] == agreement["id"]
    verdict = _ok(_post(lead, f"/api/v1/service/requests/{remote['id']}/evaluate"))
    assert (verdict["warranty_ends"], verdict["charge"]) == ("2027-01-10", "free")
    repair = _new(world, lead, serial_no="SN-A1", purchase_date="2024-03-01")
    _on_site(world, lead, technician, repair)
    url = f"/api/v1/service/requests/{repair['id']}"
    _ok(_post(technician, f"{url}/diagnosis", {"diagnosis": "灯泡老化", "parts_consent": True}))
    lamp = Part.objects.create(code="LAMP", name="灯泡", price=Decimal("380.00"))
    services.stock_receive(actor=world.supervisor, part=lamp, quantity=1)
    _ok(_post(technician, f"{url}/parts", {"part_id": lamp.pk}))
    _ok(_post(technician, f"{url}/signature", {"signed_by": "陈老师", "signature": "M1 1 L2 2"}))
    settled = _ok(_post(lead, f"{url}/settlement", {"labour": "100.00"}))
    assert (settled["charge"], settled["discount"], settled["amount_due"]) == ("paid", "126.00", "354.00")


def test_an_appointment_past_the_24_hours_needs_the_customers_reason_and_arrival_in_time_is_no_breach(
    world: World, tech: Any
) -> None:
    """R-SVC-6 (SPEC §6.1). Requested 11-26 10:00: on site by 11-27 10:00.
    - booked for 11-28 09:00 without a reason: a missed commitment, flagged on the request;
    - booked for 11-28 09:00 because the customer asked: recorded, not a miss;
    - booked for 11-26 16:00 and on site at 10:00 (early): the deadline sweep that night flags
      nothing (before: "overdue" once 11-27 10:00 passed while the visit was still open)."""
    from kefu.workflow.services import deadlines_sweep

    lead = _client("lead_a")
    tech_id = Staff.objects.get(user=tech).pk
    late_at = dt.datetime(2026, 11, 28, 9, 0, tzinfo=clock.local_tz()).isoformat()
    missed = _new(world, lead)
    url = f"/api/v1/service/requests/{missed['id']}"
    _ok(_post(lead, f"{url}/evaluate"))
    booked = _ok(_post(lead, f"{url}/appointment", {"technician_id": tech_id, "at": late_at}))
    assert (booked["commitment_missed"], booked["appointment_reason"]) == (True, "")
    asked = _new(world, lead, serial_no="SN-0002")
    url = f"/api/v1/service/requests/{asked['id']}"
    _ok(_post(lead, f"{url}/evaluate"))
    booked = _ok(_post(lead, f"{url}/appointment", {"technician_id": tech_id, "at": late_at, "reason": "客户周六在家"}))
    assert (booked["commitment_missed"], booked["appointment_reason"]) == (False, "客户周六在家")
    other = _client("tech")
    early = _new(world, lead, serial_no="SN-0003")
    _on_site(world, lead, other, early, hours=6)
    assert deadlines_sweep(now=dt.datetime(2026, 11, 28, 0, 0, tzinfo=clock.local_tz()))["breached"] >= 1  # the others
    assert not ServiceRequest.objects.get(pk=early["id"]).breached
    assert ServiceRequest.objects.get(pk=missed["id"]).breached


def test_a_bring_in_repair_with_a_loaner_past_60_days_is_due_a_replacement(world: World, tech: Any) -> None:
    """R-SVC-7 with R-SVC-4. Requested 2026-09-20 (bought 2026-06-01, in warranty, free). On site the
    projector cannot be repaired: it goes to the service centre with its power cable (the receipt)
    and the customer gets a loaner (备用机 BY-01). On 11-26 — 67 days after the request, past the
    60-day limit — the daily sweep flags a replacement and raises its work order; the loaner is
    still out, shown on the request, until returned. The unit cannot be signed for while at the
    centre."""
    import time_machine

    lead, technician = _client("lead_a"), _client("tech")
    requested = dt.datetime(2026, 9, 20, 10, 0, tzinfo=clock.local_tz())
    with time_machine.travel(requested, tick=False):
        item = _new(world, lead, purchase_date="2026-06-01", proof_kind="invoice", proof_ref="FP-2026-001")
        _on_site(world, lead, technician, item)
        url = f"/api/v1/service/requests/{item['id']}"
        _ok(_post(technician, f"{url}/diagnosis", {"diagnosis": "主板故障，需返厂"}))
        taken = _ok(_post(technician, f"{url}/bring-in", {"taken": "主机、电源线", "loaner": "备用机 BY-01"}))
        assert (taken["brought_in_items"], taken["loaner"]) == ("主机、电源线", "备用机 BY-01")
        assert (taken["proof_kind"], taken["proof_ref"]) == ("invoice", "FP-2026-001")
        refused = _post(technician, f"{url}/signature", {"signed_by": "李女士", "signature": "M1 1 L2 2"})
        assert refused.status_code == 400  # the unit is still at the service centre
    assert services.replacements_sweep() == 1  # 2026-11-26: 67 days ≥ 60
    (replacement,) = ServiceRequest.objects.filter(replaces_id=item["id"])
    assert replacement.kind == "replacement"
    page = lead.get(f"/service/{item['id']}/").content.decode()
    assert 'data-testid="loaner"' in page and "备用机 BY-01" in page
    _ok(_post(technician, f"{url}/bring-back"))
    signing = {"signed_by": "李女士", "signature": "M1 1 L2 2"}
    assert _post(technician, f"{url}/signature", signing).status_code == 400  # the loaner first
    assert _ok(_post(technician, f"{url}/loaner-returned"))["loaner_back_at"] is not None
    assert _post(technician, f"{url}/loaner-returned").status_code == 409  # once
    assert _post(technician, f"{url}/signature", signing).status_code == 200


def test_a_request_outside_the_service_area_is_referred_and_followed_up(world: World) -> None:
    """R-SVC-8: an address in 苏州 is outside the service centre's area (扬州, 镇江, 泰州, 南京): the page
    proposes the 苏州 point; referred, then followed up — the request closes. One in 扬州 cannot be
    referred."""
    lead = _client("lead_a")
    item = _new(world, lead, address="江苏省苏州市工业园区星湖街 1 号")
    page = lead.get(f"/service/{item['id']}/").content.decode()
    assert 'data-testid="referral-due"' in page and "苏州特约服务点" in page
    referred = _ok(_post(lead, f"/api/v1/service/requests/{item['id']}/referral"))
    assert referred["referred_to"] == "苏州特约服务点 0512-65230000"
    done = _ok(_post(lead, f"/api/v1/service/requests/{item['id']}/referral/follow-up", {"outcome": "网点已上门修好"}))
    assert done["category"] == "closed"
    local = _new(world, lead, serial_no="SN-YZ")
    assert _post(lead, f"/api/v1/service/requests/{local['id']}/referral").status_code == 400


def test_a_paid_repair_gets_a_numbered_receipt(world: World, tech: Any) -> None:
    """R-SVC-9: a paid repair (out of warranty: bought 2023) settled at ¥100.00 labour gets the
    company's receipt SJ20261126…, downloadable as a PDF; a free repair gets none."""
    lead, technician = _client("lead_a"), _client("tech")
    item = _new(world, lead, purchase_date="2023-01-01", proof_kind="card", proof_ref="BX-9")
    _on_site(world, lead, technician, item)
    url = f"/api/v1/service/requests/{item['id']}"
    _ok(_post(technician, f"{url}/diagnosis", {"diagnosis": "清洁保养"}))
    unsigned = _post(technician, f"{url}/signature", {"signed_by": "李女士", "signature": "M1 1 L2 2"})
    assert unsigned.status_code == 400  # a paid repair: the customer agrees to the price first
    _ok(_post(technician, f"{url}/diagnosis", {"diagnosis": "清洁保养", "parts_consent": True}))
    _ok(_post(technician, f"{url}/signature", {"signed_by": "李女士", "signature": "M1 1 L2 2"}))
    settled = _ok(_post(lead, f"{url}/settlement", {"labour": "100.00"}))
    assert settled["receipt_no"] == f"SJ20261126{item['id']:06d}" and settled["amount_due"] == "100.00"
    pdf = lead.get(f"/service/{item['id']}/receipt.pdf")
    assert pdf.status_code == 200 and pdf.content[:4] == b"%PDF" and "attachment" in pdf["Content-Disposition"]
    free = _new(world, lead, serial_no="SN-F")
    _on_site(world, lead, technician, free)
    furl = f"/api/v1/service/requests/{free['id']}"
    _ok(_post(technician, f"{furl}/diagnosis", {"diagnosis": "调试"}))
    _ok(_post(technician, f"{furl}/signature", {"signed_by": "李女士", "signature": "M1 1 L2 2"}))
    assert _ok(_post(lead, f"{furl}/settlement", {"labour": "50.00"}))["receipt_no"] == ""
    assert lead.get(f"/service/{free['id']}/receipt.pdf").status_code == 404


def test_a_request_naming_an_agreement_must_be_for_a_covered_unit(world: World) -> None:
    """Review of issue 18: a request named an agreement that does not cover its serial number and
    would have taken its discounts."""
    boss, lead = _client("boss"), _client("lead_a")
    body = {
        "shop_id": world.shop_a.pk, "customer_name": "一中", "contact_name": "陈", "contact_phone": "1",
        "products": [{"product": "投影机", "serial_no": "SN-A1"}], "starts_on": "2026-11-01",
        "ends_on": "2027-10-31", "fee": "100.00", "billing": "once",
    }  # fmt: skip
    agreement = _ok(_post(boss, "/api/v1/service/agreements", body))
    _ok(_post(boss, f"/api/v1/service/agreements/{agreement['id']}/review"))
    other = _post(
        lead,
        "/api/v1/service/requests",
        {"shop_id": world.shop_a.pk, "channel": "phone", "contact_name": "李", "contact_phone": "1",
         "product": "投影机", "fault": "无画面", "purchase_date": "2026-06-01", "serial_no": "SN-OTHER",
         "agreement_id": agreement["id"]},
    )  # fmt: skip
    assert other.status_code == 400 and other.json()["error"]["code"] == "agreement"
    unnamed = _post(
        lead,
        "/api/v1/service/requests",
        {"shop_id": world.shop_a.pk, "channel": "phone", "contact_name": "李", "contact_phone": "1",
         "product": "投影机", "fault": "无画面", "purchase_date": "2026-06-01", "agreement_id": agreement["id"]},
    )  # fmt: skip
    assert unnamed.status_code == 400  # no serial: the agreement's discounts would go to an unknown unit
