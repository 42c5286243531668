"""The `kefu` console script and its management commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from kefu.cli import main
from kefu.commerce.models import Order
from kefu.org.models import Shop, Staff, Team
from kefu.org.services import token_authenticate

from .samples import legacy_csv, legacy_row

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _keep_test_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    # run_from_argv closes every connection when a command ends, which would end the test's transaction.
    from django.db import connections

    monkeypatch.setattr(connections, "close_all", lambda: None)


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = 0
    try:
        main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    _run.stderr = captured.err  # type: ignore[attr-defined]
    return code, captured.out


def test_import_orders_json_summary_and_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "ExportOrderList.csv"
    good.write_bytes(legacy_csv([legacy_row("1"), legacy_row("2")]))
    code, _ = _run(["import", "orders", str(good), "--shop", "新店", "--json"], capsys)
    assert code == 1 and "unknown shop" in _run.stderr  # type: ignore[attr-defined]
    code, out = _run(["import", "orders", str(good), "--shop", "新店", "--create-shop", "--json"], capsys)
    assert code == 0 and json.loads(out) == {"created": 2, "updated": 0, "unchanged": 0, "failed": []}
    code, out = _run(["import", "orders", str(good), "--shop", "新店", "--json"], capsys)
    assert json.loads(out) == {"created": 0, "updated": 0, "unchanged": 2, "failed": []}
    bad = tmp_path / "bad.csv"
    bad.write_bytes(legacy_csv([legacy_row("3"), legacy_row("4", status="??")]))
    code, out = _run(["import", "orders", str(bad), "--shop", "新店", "--json"], capsys)
    summary = json.loads(out)
    assert code == 1 and summary["created"] == 1 and summary["failed"][0]["row"] == 3
    assert "订单状态" in summary["failed"][0]["reason"]
    assert Order.objects.filter(shop=Shop.objects.get(name="新店")).count() == 3


def test_import_staff_is_idempotent_and_creates_teams(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "staff.csv"
    path.write_text(
        "工号,姓名,岗位,团队,基本工资,钉钉UserId,入职日期\n"
        "K1,张敏,售前客服,扬州客服组,4500,ding1,2022-03-15\n"
        "K2,李婷,组长,扬州客服组,6000,ding2,2021-06-01\n"
        "K3,某人,火箭工程师,扬州客服组,6000,,\n"
        ",无工号,售后客服,,4000,,\n",
        encoding="utf-8",
    )
    code, out = _run(["import", "staff", str(path), "--json"], capsys)
    summary = json.loads(out)
    assert code == 1 and summary["created"] == 2 and [f["row"] for f in summary["failed"]] == [4, 5]
    assert Team.objects.get(name="扬州客服组").members.count() == 2
    code, out = _run(["import", "staff", str(path), "--json"], capsys)
    assert json.loads(out)["unchanged"] == 2
    english = tmp_path / "staff_en.csv"
    english.write_text(
        "employee_no,name,position,team,base_salary,dingtalk_user_id,hire_date\n"
        "K1,张敏,售前客服,扬州客服组,4800,ding1,2022-03-15\n",
        encoding="utf-8",
    )
    code, out = _run(["import", "staff", str(english), "--json"], capsys)
    assert json.loads(out)["updated"] == 1 and str(Staff.objects.get(employee_no="K1").base_salary) == "4800.00"


def test_user_and_token_create(capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = _run(["user", "create", "xiaowang", "--password", "s3cret-pass", "--position", "售后客服"], capsys)
    assert code == 0
    user = get_user_model().objects.get(username="xiaowang")
    assert user.check_password("s3cret-pass") and user.staff.position == "aftersales"
    code, out = _run(["token", "create", "xiaowang"], capsys)
    assert token_authenticate(out.strip()) == user
    code, _ = _run(["user", "create", "xiaowang", "--password", "x", "--position", "组长"], capsys)
    assert code == 1 and "已存在" in _run.stderr  # type: ignore[attr-defined]


def test_demo_loads_the_seed_organisation(capsys: pytest.CaptureFixture[str]) -> None:
    from django.core.management import call_command

    call_command("kefu_demo", "--orders-per-shop", "20")
    out = capsys.readouterr().out
    assert "zhuguan" in out and "kefu-demo-2026" in out
    teams = {t.name: sorted(s.name for s in t.shops.all()) for t in Team.objects.all()}
    assert teams == {"扬州客服组": ["亿境", "亿果", "海盗船"], "海丰客服组": ["乐泰思", "魔甲人"]}
    # the imported exports, plus the orders of buyers who paid after a demo conversation (pushed)
    assert Order.objects.exclude(order_no__startswith="36").count() == 100
    assert not Order.objects.filter(order_no__startswith="36", paid_at__isnull=True).exists()
    assert set(Staff.objects.values_list("position", flat=True)) == {
        "supervisor",
        "deputy",
        "team_lead",
        "presales",
        "aftersales",
        "technician",
        "warehouse",
    }
    # field service and care: a week of each technician's visits in every state, an agreement, complaints
    from kefu.care.models import Assignment, Complaint, ReturnVisit
    from kefu.service.models import Agreement, ServiceRequest

    categories = set(ServiceRequest.objects.values_list("status__category", flat=True))
    assert categories == {"new", "scheduled", "on_site", "signed", "settled", "closed"}
    assert ServiceRequest.objects.filter(breached=True).exists()  # one technician arrived a day late
    assert Staff.objects.get(employee_no="K301").phone == "13905140301"
    assert Agreement.objects.count() == 1 and Complaint.objects.filter(resolved_at__isnull=False).count() == 3
    assert ReturnVisit.objects.filter(done_at__isnull=False).exists() and Assignment.objects.exists()
    # issue 18: a misuse found on site, an agreement reviewed with its year of visits, a bring-in
    # repair with its loaner out, a referral to make, shop health on the reports
    from kefu.aftersales.models import ShopRating

    assert any("misuse" in r.causes for r in ServiceRequest.objects.filter(charge="paid"))
    agreement = Agreement.objects.get()
    assert agreement.reviewed_at is not None and agreement.plan.filter(kind="return_visit").count() == 12
    assert ServiceRequest.objects.filter(brought_in_at__isnull=False, loaner_back_at__isnull=True).exists()
    assert ServiceRequest.objects.filter(address__contains="苏州").exists()
    assert ShopRating.objects.exists() and ReturnVisit.objects.filter(done_at__isnull=True).exists()
    # the team lead's daily summary has its questions, follow-ups and reasons for no sale (R-DESK-7)
    import datetime as dt

    from kefu.core import clock
    from kefu.core.scoping import DEPARTMENT
    from kefu.desk import selectors as desk

    for back in (0, 1):
        summary = desk.daily_summary(
            actor=DEPARTMENT, team=Team.objects.get(name="扬州客服组"), day=clock.today() - dt.timedelta(days=back)
        )
        assert summary["questions"] and any(q.answered_at for q in summary["questions"]), back
        assert summary["followups"], back
        if back == 0:
            assert summary["no_sale"]  # today's urging task closed with a reason
            assert summary["overdue_followups"] >= 1  # yesterday's follow-up is past its due time
    # issue 17: last month is a real one — a hire on the 20th, a leaver after the 18th, a half day —
    # and the latest month with a statutory holiday shows holidays worked (R-WF-18, R-WF-20, R-WF-22)
    from kefu.workforce import selectors as workforce

    last = clock.today().replace(day=1) - dt.timedelta(days=1)
    month = {
        st.employee_no: st
        for st in workforce.statements(
            staff=list(Staff.objects.filter(employee_no__in=["K109", "K208", "K103"]).order_by("employee_no")),
            year=last.year,
            month=last.month,
        )
    }
    assert month["K109"].employed_days == last.day - 19 and not month["K109"].full_attendance
    assert month["K208"].employed_days == 18 and not Staff.objects.get(employee_no="K208").active
    assert any(d.status == "half_leave" for d in month["K103"].days)
    october = workforce.statements(staff=list(Staff.objects.filter(employee_no="K103")), year=2026, month=10)
    assert october[0].holidays_worked and any(ln.code == "holiday_pay" for ln in october[0].lines)
    before = Order.objects.count(), Staff.objects.count(), ServiceRequest.objects.count(), Complaint.objects.count()
    call_command("kefu_demo", "--orders-per-shop", "20")
    again = Order.objects.count(), Staff.objects.count(), ServiceRequest.objects.count(), Complaint.objects.count()
    assert again == before


def test_serve_restarts_its_worker_when_it_dies(tmp_path: Path) -> None:
    """The supervisor of ``kefu serve`` starts the task worker again after it is killed."""
    import signal
    import sys
    import time

    from kefu.cli import WorkerSupervisor

    supervisor = WorkerSupervisor(argv=[sys.executable, "-c", "import time; time.sleep(60)"], check_every=0.05)
    supervisor.start()
    try:
        first = supervisor.process
        assert first is not None and first.poll() is None
        first.send_signal(signal.SIGKILL)
        deadline = time.monotonic() + 10
        while supervisor.restarts == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert supervisor.restarts == 1
        assert supervisor.process is not first and supervisor.process.poll() is None
    finally:
        supervisor.stop()
    assert supervisor.process.poll() is not None  # stopped with the server
