"""After-sales services and pages: cases, refunds (approved once, even concurrently), claims, deadlines,
evidence, reviews, appeal pack, weekly report."""

from __future__ import annotations

import datetime as dt
import io
import threading
import zipfile
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.db import connection, connections
from django.test import Client

from kefu.aftersales import services
from kefu.aftersales.models import AgentCharge, Case, MoneyLine
from kefu.aftersales.report import weekly_report_send
from kefu.aftersales.selectors import weekly_report
from kefu.commerce.models import Order
from kefu.core import clock
from kefu.core.errors import ApplicationError
from kefu.core.models import Event
from kefu.core.outbox import outbox_drain
from kefu.org.models import Staff
from kefu.workflow.models import StatusLabel

from .conftest import PASSWORD, World

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


def _status(name: str) -> StatusLabel:
    services.statuses_ensure()  # transactional tests elsewhere flush the migration's rows
    return StatusLabel.objects.get(workflow="aftersales.case", name=name)


def _wrong_item(world: World, actor: Any = None) -> Case:
    world.order_a.province = "广东"
    world.order_a.save()
    return services.case_open(
        actor=actor or world.agent_a,
        case_type="wrong_item",
        order=world.order_a,
        facts={"line_value": "39.00", "wrong_item_value": "8.00", "shipped_matches_order": False},
    )


@pytest.mark.django_db
def test_open_a_case_from_an_order_in_scope_only(world: World) -> None:
    case = _wrong_item(world)
    assert case.shop == world.shop_a and case.buyer_nick == world.order_a.buyer_nick
    assert case.category == "open" and case.responsibility == "ours_warehouse"
    assert case.owner == Staff.objects.get(user=world.agent_a) and case.sla_due_at is not None
    with pytest.raises(ApplicationError) as exc:
        services.case_open(actor=world.agent_a, case_type="defect", order=world.order_b)
    assert exc.value.status == 404
    assert Event.objects.for_object(case).get().verb == "case.opened"


@pytest.mark.django_db
def test_wrong_item_keep_at_discount_refund_approved_once(world: World) -> None:
    case = _wrong_item(world)
    services.resolution_choose(actor=world.agent_a, case=case, code="keep_discount")
    line = MoneyLine.objects.get(case=case)
    assert (line.kind, line.amount, line.status, line.needs_supervisor) == (
        "partial_refund",
        Decimal("1.60"),
        "requested",
        False,
    )
    with pytest.raises(ApplicationError):
        services.refund_approve(actor=world.agent_a, line=line)  # no refund-approval permission
    services.refund_approve(actor=world.deputy, line=line)
    with pytest.raises(ApplicationError) as exc:
        services.refund_approve(actor=world.supervisor, line=line)
    assert exc.value.code == "refund_decided"
    assert Event.objects.filter(verb="case.refund_approved").count() == 1


@pytest.mark.django_db
def test_the_seeds_no_return_options_need_the_supervisor(world: World) -> None:
    case = _wrong_item(world)
    services.resolution_choose(actor=world.agent_a, case=case, code="refund_no_return")
    line = MoneyLine.objects.get(case=case)
    assert line.amount == Decimal("39.00") and line.needs_supervisor
    with pytest.raises(ApplicationError):
        services.refund_approve(actor=world.deputy, line=line)  # above the cap: the supervisor (R-AS-7)
    services.refund_approve(actor=world.supervisor, line=line)


@pytest.mark.django_db
def test_partial_refund_above_the_cap_needs_the_supervisor(world: World) -> None:
    case = _wrong_item(world)
    small = services.money_post(actor=world.agent_a, case=case, kind="partial_refund", amount=Decimal("20.00"))
    big = services.money_post(actor=world.agent_a, case=case, kind="partial_refund", amount=Decimal("20.01"))
    assert not small.needs_supervisor and big.needs_supervisor  # cap = 2 × 10.00 for 广东


@pytest.mark.django_db(transaction=True)
@pytest.mark.many_connections
def test_a_refund_is_never_approved_twice_under_100_concurrent_attempts(world: World) -> None:
    case = _wrong_item(world)
    line = services.money_post(actor=world.agent_a, case=case, kind="refund", amount=Decimal("39.00"))
    results: list[str] = []
    lock = threading.Lock()

    def attempt() -> None:
        try:
            services.refund_approve(actor=world.supervisor, line=MoneyLine.objects.get(pk=line.pk))
            outcome = "approved"
        except ApplicationError as exc:
            outcome = exc.code
        finally:
            connections.close_all()
        with lock:
            results.append(outcome)

    if connection.vendor == "postgresql":  # 100 attempts, at most 80 connections at once (limit: 100)
        with ThreadPoolExecutor(max_workers=80) as pool:
            for future in [pool.submit(attempt) for _ in range(100)]:
                future.result(30)
    else:  # SQLite serialises writers; the same 100 attempts run one after another
        for _ in range(100):
            attempt()
    assert results.count("approved") == 1 and results.count("refund_decided") == 99
    assert Event.objects.filter(verb="case.refund_approved").count() == 1


@pytest.mark.django_db
def test_transitions_are_guarded_and_reopen_is_recorded(world: World) -> None:
    case = _wrong_item(world)
    with pytest.raises(ApplicationError):
        services.case_transition(actor=world.agent_a, case=case, status=_status("已关闭"))  # open → closed
    services.case_transition(actor=world.agent_a, case=case, status=_status("待买家回复"))
    with pytest.raises(ApplicationError) as unresolved:  # resolved means a resolution was chosen
        services.case_transition(actor=world.agent_a, case=case, status=_status("已解决"))
    assert unresolved.value.code == "transition_guard"
    services.money_post(actor=world.agent_a, case=case, kind="refund", amount=Decimal("5"))
    services.resolution_choose(actor=world.agent_a, case=case, code="keep_discount")
    case.refresh_from_db()
    assert case.category == "waiting_buyer"  # refunds await approval: the case does not move on yet
    with pytest.raises(ApplicationError) as pending:  # nor can it be resolved by hand meanwhile
        services.case_transition(actor=world.agent_a, case=case, status=_status("已解决"))
    assert pending.value.code == "case_pending_refund"
    for line in case.money.filter(status="requested"):
        services.refund_approve(actor=world.supervisor, line=line)
    case.refresh_from_db()
    assert case.category == "resolved"  # the last approval carried the resolution out
    services.case_transition(actor=world.agent_a, case=case, status=_status("已关闭"))
    case.refresh_from_db()
    assert case.closed_at is not None
    services.case_transition(actor=world.agent_a, case=case, status=_status("新建"))
    verbs = list(Event.objects.for_object(case).order_by("id").values_list("verb", flat=True))
    assert verbs.count("case.status_changed") == 3 and verbs[-1] == "case.reopened"


@pytest.mark.django_db
def test_missing_item_with_a_wrong_remark_charges_the_agent_r_as_8(world: World) -> None:
    world.order_a.province = "江苏"
    world.order_a.save()
    case = services.case_open(
        actor=world.agent_a,
        case_type="missing_item",
        order=world.order_a,
        facts={"remark_ok": False, "line_value": "5"},
    )
    agent = Staff.objects.get(user=world.agent_a)
    services.case_set_responsible_staff(actor=world.lead_a, case=case, staff=agent)
    services.resolution_choose(actor=world.lead_a, case=case, code="reship_missing_agent")
    charge = AgentCharge.objects.get()
    assert (charge.staff, charge.amount) == (agent, Decimal("6.00"))
    assert MoneyLine.objects.get(case=case).kind == "reship_cost"


@pytest.mark.django_db
def test_lost_parcel_claim_lifecycle_r_as_9(world: World) -> None:
    world.order_a.courier, world.order_a.tracking_no = "中通快递", "ZT123"
    world.order_a.save()
    case = services.case_open(actor=world.agent_a, case_type="lost_parcel", order=world.order_a)
    claim = services.claim_open(actor=world.agent_a, case=case)
    assert claim.amount == Decimal("106.00") and claim.courier == "中通快递"  # goods 100 + 江苏 freight 6
    with pytest.raises(ApplicationError):
        services.claim_open(actor=world.agent_a, case=case)
    services.claim_update(actor=world.agent_a, claim=claim, status="answered")
    with pytest.raises(ApplicationError):  # a courier pays at most what was claimed
        services.claim_update(actor=world.agent_a, claim=claim, status="paid", recovered=claim.amount + 1)
    services.claim_update(actor=world.agent_a, claim=claim, status="paid", recovered=Decimal("100"))
    assert case.money.get(kind="claim_recovered").amount == Decimal("100.00")
    with pytest.raises(ApplicationError):
        services.claim_update(actor=world.agent_a, claim=claim, status="rejected")


@pytest.mark.django_db
def test_deadlines_escalate_before_and_flag_breaches(world: World) -> None:
    case = _wrong_item(world)
    now = clock.now()
    Case.objects.filter(pk=case.pk).update(
        platform_deadline=now + dt.timedelta(hours=3), sla_due_at=now + dt.timedelta(days=3)
    )
    assert services.deadlines_escalate(now=now) == {"escalated": 1, "breached": 0}
    assert services.deadlines_escalate(now=now) == {"escalated": 0, "breached": 0}
    assert services.deadlines_escalate(now=now + dt.timedelta(hours=4)) == {"escalated": 0, "breached": 1}
    assert Case.objects.get(pk=case.pk).breached


@pytest.mark.django_db
def test_evidence_is_checked_by_content_and_served_only_in_scope(world: World) -> None:
    case = _wrong_item(world)
    with pytest.raises(ApplicationError) as exc:
        services.evidence_add(actor=world.agent_a, case=case, kind="photo", name="photo.png", data=b"MZ\x90\x00evil")
    assert exc.value.code == "attachment_type"  # the shared core's code for every module
    with pytest.raises(ApplicationError):
        services.evidence_add(
            actor=world.agent_a, case=case, kind="photo", name="big.png", data=PNG + b"0" * (10 * 1024 * 1024)
        )
    evidence = services.evidence_add(actor=world.agent_a, case=case, kind="photo", name="../../etc/x.png", data=PNG)
    assert evidence.original_name == "x.png" and "etc" not in evidence.file.name
    own = Client()
    own.login(username="lead_a", password=PASSWORD)
    response = own.get(f"/aftersales/evidence/{evidence.pk}/")
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff" and b"".join(response.streaming_content) == PNG
    other = Client()
    other.login(username="agent_b", password=PASSWORD)
    assert other.get(f"/aftersales/evidence/{evidence.pk}/").status_code == 404
    # a PNG uploaded as "page.html" downloads with the extension of what it is
    disguised = services.evidence_add(actor=world.agent_a, case=case, kind="photo", name="page.html", data=PNG)
    assert 'filename="page.png"' in own.get(f"/aftersales/evidence/{disguised.pk}/")["Content-Disposition"]


@pytest.mark.django_db
def test_appeal_pack_zip_r_as_12(world: World) -> None:
    case = services.case_open(actor=world.agent_a, case_type="dispute", order=world.order_a, facts={"at_fault": False})
    services.evidence_add(actor=world.agent_a, case=case, kind="chat", name="chat.txt", data="买家:好的".encode())
    services.evidence_add(actor=world.agent_a, case=case, kind="voucher", name="voucher.pdf", data=b"%PDF-1.4 x")
    data = services.dispute_pack(actor=world.agent_a, case=case, reason="商品与描述一致")
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert "summary.json" in names and "申诉理由.txt" in names and len([n for n in names if "evidence/" in n]) == 2


@pytest.mark.django_db
def test_negative_review_reply_and_feedback_r_as_13(world: World) -> None:
    review = services.review_record(
        actor=world.agent_a, shop=world.shop_a, content="锅底不平", rating=1, order=world.order_a
    )
    with pytest.raises(ApplicationError):
        services.review_reply(actor=world.agent_a, review=review, reply=" ")
    services.review_reply(actor=world.agent_a, review=review, reply="已联系买家换货", feedback_reason="锅底变形")
    with pytest.raises(ApplicationError):
        services.review_record(actor=world.agent_a, shop=world.shop_b, content="x")


@pytest.mark.django_db
def test_weekly_report_and_the_monday_mail_r_as_15(world: World, settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    world.supervisor.email = "boss@example.com"
    world.supervisor.save()
    case = _wrong_item(world)
    services.resolution_choose(actor=world.agent_a, case=case, code="keep_discount")
    services.case_open(actor=world.agent_a, case_type="lost_parcel", order=world.order_a)
    today = clock.today()
    monday = today - dt.timedelta(days=today.weekday())
    report = weekly_report(actor=world.supervisor, monday=monday)
    assert report["total"] == 2 and report["wrong_items"] == 1
    assert str(report["money"]["partial_refund"]) == "1.60" and str(report["money"]["coupon"]) == "0.00"
    assert {row["case_type"]: row["n"] for row in report["by_type"]} == {"wrong_item": 1, "lost_parcel": 1}
    assert weekly_report_send(monday=monday)["queued"] is True
    assert weekly_report_send(monday=monday)["already"] is True  # once a week
    assert not mail.outbox  # nothing leaves inside the action: the outbox delivers after commit
    assert outbox_drain() == {"sent": 1, "failed": 0}
    assert outbox_drain() == {"sent": 0, "failed": 0}  # delivered once
    (message,) = mail.outbox
    assert message.to == ["boss@example.com"] and message.attachments[0][0].endswith(".xlsx")


@pytest.mark.django_db
def test_pages_inbox_case_refunds_report(world: World) -> None:
    case = _wrong_item(world)
    _wrong_item(world, actor=world.supervisor)
    lead = Client()
    lead.login(username="lead_a", password=PASSWORD)
    inbox = lead.get("/aftersales/?type=wrong_item").content.decode()
    assert case.number in inbox
    page = lead.get(f"/aftersales/{case.pk}/").content.decode()
    assert "R-AS-3" in page and "keep_discount" in page
    response = lead.post(f"/aftersales/{case.pk}/step/", {"step": "verify_photo", "done": "1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "☑" in response.content.decode()
    assert lead.get("/aftersales/refunds/").status_code == 403
    assert lead.get("/aftersales/report/?format=xlsx").content[:2] == b"PK"
    other = Client()
    other.login(username="agent_b", password=PASSWORD)
    assert case.number not in other.get("/aftersales/").content.decode()
    no_summary = lead.post("/aftersales/new/", {"order": world.order_a.pk, "case_type": "defect", "line_value": "50"})
    assert no_summary.status_code == 200 and not Case.objects.filter(case_type="defect").exists()  # needs a summary
    opened = lead.post(
        "/aftersales/new/", {"order": world.order_a.pk, "case_type": "defect", "line_value": "50", "summary": "划痕"}
    )
    assert opened.status_code == 302 and Case.objects.filter(case_type="defect").exists()


@pytest.mark.django_db
def test_evaluate_api_and_cases_api(world: World) -> None:
    client = Client()
    client.login(username="lead_a", password=PASSWORD)
    body = {
        "case_type": "wrong_item",
        "province": "广东",
        "line_value": "39.00",
        "wrong_item_value": "8.00",
        "shipped_matches_order": False,
    }
    decision = client.post("/api/v1/aftersales/evaluate", body, content_type="application/json").json()
    assert [p["code"] for p in decision["proposals"]] == ["keep_discount", "reship_no_return", "refund_no_return"]
    assert decision["partial_refund_cap"] == "20.00" and Case.objects.count() == 0  # nothing stored
    bad = client.post("/api/v1/aftersales/evaluate", {"case_type": "nope"}, content_type="application/json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "case_facts"
    created = client.post(
        "/api/v1/aftersales/cases",
        {"case_type": "defect", "order_id": world.order_a.pk},
        content_type="application/json",
    ).json()
    assert created["number"].startswith("AS")
    listed = client.get("/api/v1/aftersales/cases").json()
    assert [c["id"] for c in listed["items"]] == [created["id"]]
    moved = client.post(
        f"/api/v1/aftersales/cases/{created['id']}/transition",
        {"status": "waiting_buyer"},
        content_type="application/json",
    )
    assert moved.json()["category"] == "waiting_buyer"
    zhejiang = {"case_type": "wrong_item", "province": "浙江省", "line_value": "39", "wrong_item_value": "8"}
    answer = client.post("/api/v1/aftersales/evaluate", zhejiang, content_type="application/json")
    assert answer.status_code == 200 and answer.json()["freight"] == "6.00"  # R-AS-1, not the 10 CNY default
    unknown = client.post(
        "/api/v1/aftersales/evaluate", {**zhejiang, "province": "火星省"}, content_type="application/json"
    )
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "case_facts"


def test_late_shipment_rule_r_as_11() -> None:
    from kefu.policies.aftersales import late_shipment

    paid = dt.datetime(2026, 10, 1, 10, 0)
    promised = paid + dt.timedelta(hours=48)
    on_time = late_shipment(paid_at=paid, shipped_at=promised, promised_at=promised, chased_at=[], now=promised)
    assert on_time is not None and not on_time["late"] and on_time["responsible"] is None
    late = late_shipment(
        paid_at=paid, shipped_at=promised + dt.timedelta(minutes=90), promised_at=promised, chased_at=[], now=promised
    )
    assert late is not None and late["late"] and late["minutes_late"] == 90 and late["responsible"] == "ours_agent"
    chased = late_shipment(
        paid_at=paid,
        shipped_at=None,
        promised_at=promised,
        chased_at=[promised - dt.timedelta(hours=2)],
        now=promised + dt.timedelta(hours=1),
    )
    assert chased is not None and chased["responsible"] == "ours_warehouse"
    too_late = late_shipment(
        paid_at=paid,
        shipped_at=None,
        promised_at=promised,
        chased_at=[promised + dt.timedelta(minutes=1)],
        now=promised + dt.timedelta(hours=1),
    )
    assert too_late is not None and too_late["responsible"] == "ours_agent"  # chasing after the promise is too late
    assert late_shipment(paid_at=None, shipped_at=None, promised_at=None, chased_at=[], now=paid) is None


@pytest.mark.django_db
def test_order_page_shows_the_promise_and_records_a_chase(world: World) -> None:
    world.order_a.paid_at = clock.now() - dt.timedelta(hours=50)
    world.order_a.save()
    lead = Client()
    lead.login(username="agent_a", password=PASSWORD)
    page = lead.get(f"/orders/{world.order_a.pk}/").content.decode()
    assert "R-AS-11" in page and "责任在接单客服" in page
    lead.post(f"/aftersales/orders/{world.order_a.pk}/chase/", {"note": "催仓库"})
    from kefu.aftersales.services import shipping_judgement

    world.order_a.refresh_from_db()
    judgement = shipping_judgement(order=world.order_a)
    assert judgement is not None and judgement["responsible"] == "ours_agent"  # chased after the promise passed
    assert Event.objects.filter(verb="order.warehouse_chased").exists()


@pytest.mark.django_db
def test_platform_refund_records_become_cases_with_the_platform_deadline(world: World) -> None:
    client = Client()
    client.login(username="lead_a", password=PASSWORD)
    record = {
        "refund_id": "R1001",
        "tid": world.order_a.order_no,
        "status": "WAIT_SELLER_AGREE",
        "refund_fee": "59.00",
        "good_status": "BUYER_RECEIVED",
        "reason": "不想要了",
        "timeout": "2026-11-25T10:00:00",
    }
    body = {"shop": world.shop_a.pk, "refunds": [record, {"tid": "x"}]}
    first = client.post("/api/v1/aftersales/refunds", body, content_type="application/json").json()
    assert first["created"] == 1 and first["failed"][0]["row"] == 2
    case = Case.objects.get(external_ref="R1001")
    assert case.case_type == "return" and case.order == world.order_a
    assert case.platform_deadline == dt.datetime(2026, 11, 25, 10, 0, tzinfo=clock.local_tz())
    again = client.post(
        "/api/v1/aftersales/refunds", {"shop": world.shop_a.pk, "refunds": [record]}, content_type="application/json"
    ).json()
    # the same record again changes nothing: counted unchanged, not updated
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 1) and Case.objects.count() == 1
    moved = {**record, "timeout": "2026-11-26T10:00:00", "status": "WAIT_BUYER_RETURN_GOODS"}
    client.post(
        "/api/v1/aftersales/refunds", {"shop": world.shop_a.pk, "refunds": [moved]}, content_type="application/json"
    )
    case.refresh_from_db()
    assert case.platform_deadline.day == 26 and case.facts["platform_status"] == "WAIT_BUYER_RETURN_GOODS"
    assert (
        client.post(
            "/api/v1/aftersales/refunds",
            {"shop": world.shop_b.pk, "refunds": [record]},
            content_type="application/json",
        ).status_code
        == 404
    )


@pytest.mark.django_db
def test_a_refund_record_with_a_malformed_deadline_or_an_overlong_id_is_one_failed_row(world: World) -> None:
    """The review pushed ``timeout`` as a number, a list, an object, a boolean and year 9999 (a 500
    that stopped the batch), and a 65-character refund id (a 500 on its redelivery)."""
    client = Client(raise_request_exception=False)
    client.login(username="lead_a", password=PASSWORD)
    good = {"refund_id": "R-OK", "tid": world.order_a.order_no, "status": "WAIT_SELLER_AGREE", "refund_fee": "9.00"}
    bad = [{**good, "refund_id": f"R-{i}", "timeout": value} for i, value in enumerate([12345, -1, [1], {}, True])]
    bad += [{**good, "refund_id": "R-Y", "timeout": "9999-12-31T00:00:00"}, {**good, "refund_id": "y" * 65}]
    body = {"shop": world.shop_a.pk, "refunds": [*bad, good]}
    for attempt in range(2):  # the second push is a redelivery of the same records
        answer = client.post("/api/v1/aftersales/refunds", body, content_type="application/json")
        assert answer.status_code == 200
        result = answer.json()
        assert [f["row"] for f in result["failed"]] == list(range(1, len(bad) + 1))
        assert (result["created"], result["unchanged"]) == ((1, 0) if attempt == 0 else (0, 1))
    reasons = " ".join(f["reason"] for f in result["failed"])
    assert "timeout" in reasons and "64" in reasons
    assert list(Case.objects.filter(shop=world.shop_a).values_list("external_ref", flat=True)) == ["R-OK"]


@pytest.mark.django_db
def test_platform_deadline_set_by_hand_on_the_case_page(world: World) -> None:
    case = _wrong_item(world)
    client = Client()
    client.login(username="agent_a", password=PASSWORD)
    client.post(f"/aftersales/{case.pk}/facts/", {"platform_deadline": "2026-12-01T18:00"})
    case.refresh_from_db()
    assert case.platform_deadline == dt.datetime(2026, 12, 1, 18, 0, tzinfo=clock.local_tz())
    assert Event.objects.for_object(case).filter(verb="case.deadline_set").exists()


@pytest.mark.django_db
def test_the_shipping_promise_is_shown_in_local_time(world: World) -> None:
    """Paid 2026-11-20 10:00 Asia/Shanghai (02:00 UTC) + 48 h → promised 11-22 10:00 local, never 02:00."""
    world.order_a.paid_at = dt.datetime(2026, 11, 20, 10, 0, tzinfo=clock.local_tz())
    world.order_a.shipped_at = None
    world.order_a.save()
    world.order_a.refresh_from_db()  # as the database returns it (UTC)
    from kefu.aftersales.services import shipping_judgement

    judgement = shipping_judgement(order=world.order_a, now=dt.datetime(2026, 11, 21, 0, 0, tzinfo=dt.UTC))
    assert judgement is not None and "11-22 10:00" in judgement["basis"] and "02:00" not in judgement["basis"]
    client = Client()
    client.login(username="agent_a", password=PASSWORD)
    assert "11-22 10:00" in client.get(f"/orders/{world.order_a.pk}/").content.decode()


@pytest.mark.django_db
def test_the_agent_charged_is_the_remark_author_else_chosen_never_the_owner_r_as_8(world: World) -> None:
    from kefu.policies.remark import build_remark

    agent = Staff.objects.get(user=world.agent_a)
    lead = Staff.objects.get(user=world.lead_a)
    Order.objects.filter(pk=world.order_a.pk).update(province="江苏", memo="")
    world.order_a.refresh_from_db()
    facts = {"remark_ok": False, "line_value": "5"}
    # no remark author, nobody chosen: refused, although the case has an owner
    case = services.case_open(actor=world.lead_a, case_type="missing_item", order=world.order_a, facts=facts)
    assert case.owner == lead
    with pytest.raises(ApplicationError) as refused:
        services.resolution_choose(actor=world.lead_a, case=case, code="reship_missing_agent")
    assert refused.value.code == "responsible_agent" and not AgentCharge.objects.exists()
    # chosen by hand on the case page
    client = Client()
    client.login(username="lead_a", password=PASSWORD)
    assert client.post(f"/aftersales/{case.pk}/responsible/", {"staff": agent.pk}).status_code == 302
    staff_b = Staff.objects.get(user=world.agent_b)
    assert client.post(f"/aftersales/{case.pk}/responsible/", {"staff": staff_b.pk}).status_code == 404
    case.refresh_from_db()
    services.resolution_choose(actor=world.lead_a, case=case, code="reship_missing_agent")
    assert AgentCharge.objects.get(case=case).staff == agent
    # the order remark names its author (R-COM-1): that agent is charged, without any choice
    memo = build_remark(shipping="顺丰", gift="", special="", author=agent.name, at=dt.datetime(2026, 11, 1, 9, 0))
    Order.objects.filter(pk=world.order_a.pk).update(memo=memo)
    world.order_a.refresh_from_db()
    second = services.case_open(actor=world.lead_a, case_type="missing_item", order=world.order_a, facts=facts)
    assert services.responsible_agent(second) == agent
    assert agent.name in client.get(f"/aftersales/{second.pk}/").content.decode()
    services.resolution_choose(actor=world.lead_a, case=second, code="reship_missing_agent")
    assert AgentCharge.objects.get(case=second).staff == agent


@pytest.mark.django_db
def test_without_a_remark_the_pre_sales_agent_who_answered_before_payment_is_charged_r_as_8(world: World) -> None:
    """R-AS-8's middle step (the review found it skipped): no 备注人, so the pre-sales agent who last
    answered the buyer on the desk before the payment bears the reship freight — not an auto-reply,
    not an after-sales agent, not a reply after the payment."""
    from kefu.core.events import SystemActor
    from kefu.desk import services as desk

    from .factories import StaffFactory

    first = StaffFactory(position="presales", team=world.team_a, employee_no="P1", name="张敏")
    later = StaffFactory(position="presales", team=world.team_a, employee_no="P2", name="李娜")
    after = StaffFactory(position="aftersales", team=world.team_a, employee_no="A1", name="王芳")
    paid = dt.datetime(2026, 11, 20, 10, 30, tzinfo=clock.local_tz())
    Order.objects.filter(pk=world.order_a.pk).update(province="江苏", memo="", paid_at=paid)
    world.order_a.refresh_from_db()
    buyer = world.order_a.buyer_nick

    def message(ext: str, at: str, direction: str = "out", agent: str | None = None, kind: str = "text") -> dict:
        return {"external_id": ext, "shop": world.shop_a.code, "buyer": buyer, "direction": direction,
                "kind": kind, "agent": agent, "sent_at": f"2026-11-20T{at}:00+08:00", "text": "亲"}  # fmt: skip

    items = [
        message("m1", "10:00", "in"),
        message("m2", "10:01", agent="P1"),
        message("m3", "10:02", kind="auto"),  # an auto-reply serves nobody
        message("m4", "10:05", agent="A1"),  # after-sales does not take orders
        message("m5", "10:40", agent="P2"),  # after the payment
    ]
    result = desk.messages_ingest(actor=SystemActor("t"), channel=desk.channel_default("api"), items=items)
    assert (result.created, result.failed) == (5, [])
    case = services.case_open(
        actor=world.lead_a, case_type="missing_item", order=world.order_a, facts={"remark_ok": False, "line_value": "5"}
    )
    assert services.responsible_agent(case) == first
    services.resolution_choose(actor=world.lead_a, case=case, code="reship_missing_agent")
    assert AgentCharge.objects.get(case=case).staff == first
    assert later != first and after != first
    # the last reply before payment decides: when it came from someone who has left, or from a
    # team lead, nobody is named (the agent is chosen on the case), never an earlier colleague
    from kefu.desk.selectors import served_before

    assert served_before(world.shop_a.pk, buyer, paid) == first
    Staff.objects.filter(pk=first.pk).update(active=False)
    assert served_before(world.shop_a.pk, buyer, paid) is None
    Staff.objects.filter(pk=first.pk).update(active=True)
    lead = Staff.objects.get(user=world.lead_a)
    lead_reply = message("m6", "10:20", agent=lead.employee_no)
    assert desk.messages_ingest(actor=SystemActor("t"), channel=desk.channel_default("api"), items=[lead_reply]).created
    assert served_before(world.shop_a.pk, buyer, paid) is None


@pytest.mark.django_db
def test_refund_approvals_show_the_evidence_need_a_reason_to_reject_and_approve_in_batch(world: World) -> None:
    cases = [_wrong_item(world) for _ in range(3)]
    lines = [
        services.money_post(actor=world.agent_a, case=c, kind="refund", amount=Decimal("5.00"), note="退一部分")
        for c in cases
    ]
    services.evidence_add(actor=world.agent_a, case=cases[0], kind="photo", name="颜色.png", data=PNG)
    boss = Client()
    assert boss.login(username="boss", password=PASSWORD)
    page = boss.get("/aftersales/refunds/").content.decode()
    assert "颜色.png" in page and f"¥{world.order_a.paid_amount}" in page
    refused = boss.post(f"/aftersales/refunds/{lines[2].pk}/decide/", {"decision": "reject", "note": "  "}, follow=True)
    assert "驳回需填写原因" in refused.content.decode()
    assert MoneyLine.objects.get(pk=lines[2].pk).status == "requested"
    boss.post("/aftersales/refunds/approve/", {"line": [lines[0].pk, lines[1].pk]})
    assert [MoneyLine.objects.get(pk=m.pk).status for m in lines] == ["approved", "approved", "requested"]
    # a lead cannot batch-approve, and another team's line id is a 404 inside the batch
    lead = Client()
    assert lead.login(username="lead_a", password=PASSWORD)
    assert lead.post("/aftersales/refunds/approve/", {"line": [lines[2].pk]}).status_code == 403


@pytest.mark.django_db
def test_a_refund_is_never_approved_by_an_unknown_decision_nor_beyond_the_amount_paid(world: World) -> None:
    case = _wrong_item(world)  # order_a: paid ¥100.00
    line = services.money_post(actor=world.agent_a, case=case, kind="refund", amount=Decimal("60.00"))
    boss = Client()
    boss.login(username="boss", password=PASSWORD)
    boss.post(f"/aftersales/refunds/{line.pk}/decide/", {"decision": "rejected", "note": "不符"})
    line.refresh_from_db()
    assert line.status == "requested"  # neither approved nor rejected by a misspelt decision
    with pytest.raises(ApplicationError) as refused:
        services.money_post(actor=world.agent_a, case=case, kind="refund", amount=Decimal("40.01"))
    assert refused.value.code == "money_amount"
    assert services.money_post(actor=world.agent_a, case=case, kind="partial_refund", amount=Decimal("40.00"))


@pytest.mark.django_db
def test_a_case_on_an_order_with_a_malformed_remark_opens(world: World) -> None:
    Order.objects.filter(pk=world.order_a.pk).update(memo="顺丰 加急")  # not in the R-COM-1 format
    case = _wrong_item(world)
    boss = Client()
    boss.login(username="boss", password=PASSWORD)
    assert boss.get(f"/aftersales/{case.pk}/").status_code == 200
    assert services.responsible_agent(case) is None
