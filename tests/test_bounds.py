"""Extreme values an attacker or a broken integration sends (found by the independent review of the
write path): dates of year 1 and 9999 in filters, forms, cursors and API parameters; 31-digit
quantities; negative amounts; a sparse one-cell sheet that lays out 60 M cells; unknown API paths and
methods. Each is a 400 (or the form again with its message) in the one error shape, never a 500,
and nothing is stored."""

from __future__ import annotations

import base64
import io
import json
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from django.test import Client

from kefu.commerce.models import Order
from kefu.imports.tabular import FileFormatError, inspect_xlsx
from kefu.org.models import Staff
from kefu.workforce.models import LeaveRequest, RosterEntry

from .conftest import PASSWORD, World
from .samples import legacy_csv, legacy_row

pytestmark = pytest.mark.django_db

EXTREME_DATES = ["0001-01-01", "1969-12-31", "9999-12-31", "2101-01-01"]


def _login(username: str = "boss") -> Client:
    client = Client(raise_request_exception=False)
    assert client.login(username=username, password=PASSWORD)
    return client


def _cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize("day", EXTREME_DATES)
def test_list_filters_with_extreme_dates_are_a_400_or_ignored(world: World, day: str) -> None:
    client = _login()
    page = client.get(f"/orders/?date_from={day}&date_to={day}")
    assert page.status_code == 200  # the form shows its error, the list is unfiltered
    assert "2000" in page.content.decode()  # the message names the range
    for url in (f"/api/v1/orders?date_to={day}", f"/api/v1/orders?date_from={day}", f"/api/v1/punches?date_to={day}"):
        answer = client.get(url)
        assert answer.status_code == 400, url
        assert answer.json()["error"]["code"] == "validation_error"


@pytest.mark.parametrize(
    "values",
    [
        ["0001-01-01", 1],
        ["9999-12-31", 1],
        ["9999-12-31T23:59:59-12:00", 1],
        ["0001-01-01T00:00:00+14:00", 1],
        ["2026-01-01T00:00:00", 1],  # a time without its offset
    ],
)
def test_forged_cursors_with_extreme_dates_are_a_400(world: World, values: list[Any]) -> None:
    client = _login()
    cursor = _cursor(values)
    for url in ("/api/v1/orders", "/api/v1/aftersales/cases", "/api/v1/punches"):
        answer = client.get(f"{url}?cursor={cursor}")
        assert answer.status_code == 400, url
        assert answer.json()["error"]["code"] == "bad_cursor"
    for url in ("/orders/", "/aftersales/", "/audit/", "/imports/"):
        assert client.get(f"{url}?cursor={cursor}").status_code == 400, url


def test_workforce_forms_refuse_extreme_dates_with_a_message(world: World) -> None:
    lead = _login("lead_a")
    answer = lead.post(
        "/attendance/team/copy-week/",
        {"team": world.team_a.pk, "from_monday": "9999-12-27", "to_monday": "9999-12-20"},
        follow=True,
    )
    assert answer.status_code == 200 and "2000" in answer.content.decode()
    agent = _login("agent_a")
    for start, end in (("0001-01-01", "0001-01-02"), ("2026-12-01", "9999-12-31"), ("2027-01-01", "2029-01-01")):
        answer = agent.post("/attendance/requests/new/", {"kind": "leave", "start_date": start, "end_date": end})
        assert answer.status_code in {200, 302}, (start, end)
    assert not LeaveRequest.objects.exists()
    member = Staff.objects.get(user=world.agent_a)
    for day in ("0001-01-01", "9999-12-31", "not-a-date"):
        cell = lead.post("/attendance/team/roster/", {"staff": member.pk, "date": day, "shift": "day"})
        assert cell.status_code == 400, day
    htmx = lead.post(
        "/attendance/team/roster/",
        {"staff": member.pk, "date": "2026-11-03", "shift": "nonsense"},
        HTTP_HX_REQUEST="true",
    )
    assert htmx.status_code == 400 and htmx["Content-Type"].startswith("text/plain")
    assert not RosterEntry.objects.exists()


def test_copy_week_of_another_team_is_a_404(world: World) -> None:
    lead = _login("lead_a")
    answer = lead.post(
        "/attendance/team/copy-week/", {"team": world.team_b.pk, "from_monday": "2026-11-02", "to_monday": "2026-11-09"}
    )
    assert answer.status_code == 404


def test_order_push_refuses_absurd_numbers_row_by_row(world: World) -> None:
    client = _login()
    orders = [
        {"order_no": "Q1", "ordered_at": "2026-10-01T10:00:00+08:00", "lines": [{"title": "x", "quantity": 10**30}]},
        {"order_no": "Q2", "ordered_at": "2026-10-01T10:00:00+08:00", "paid_amount": "-1"},
        {"order_no": "Q3", "ordered_at": "2026-10-01T10:00:00+08:00", "lines": [{"title": "x", "quantity": "1.5"}]},
        {"order_no": "Q4", "ordered_at": "2026-10-01T10:00:00+08:00", "paid_amount": "12.50"},
    ]
    answer = client.post(
        "/api/v1/orders/push", {"shop": world.shop_a.pk, "orders": orders}, content_type="application/json"
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["created"] == 1 and sorted(f["row"] for f in body["failed"]) == [1, 2, 3]
    assert list(Order.objects.filter(order_no__startswith="Q").values_list("order_no", flat=True)) == ["Q4"]


def test_a_csv_row_dated_year_1_is_one_bad_row(world: World) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = _login()
    data = legacy_csv([legacy_row("700001", created="0001-01-01 00:00:00"), legacy_row("700002")])
    answer = client.post("/api/v1/orders/import", {"shop": world.shop_a.pk, "file": SimpleUploadedFile("o.csv", data)})
    assert answer.status_code == 200, answer.content
    assert answer.json()["created"] == 1 and answer.json()["failed"][0]["row"] == 2


def test_a_sparse_sheet_is_refused_before_it_is_laid_out() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "订单编号"
    ws["ALL60000"] = "x"  # exactly 1000 columns × 60,000 rows: 60 M empty cells for one value
    out = io.BytesIO()
    wb.save(out)
    with pytest.raises(FileFormatError, match="单元格"):
        inspect_xlsx(out.getvalue())
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "订单编号"
    ws["Z100000"] = "x"  # 2.6 M laid-out cells for two values: under the area limit, refused as sparse
    out = io.BytesIO()
    wb.save(out)
    with pytest.raises(FileFormatError, match="空白区域"):
        inspect_xlsx(out.getvalue())


def test_api_unknown_paths_and_methods_answer_in_the_error_shape(world: World) -> None:
    client = _login()
    missing = client.get("/api/v1/no-such-thing")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong = client.delete("/api/v1/orders")
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"


def test_pages_for_404_and_403_sit_in_the_layout(world: World) -> None:
    agent = _login("agent_a")
    missing = agent.get("/orders/999999999/")
    assert missing.status_code == 404
    text = missing.content.decode()
    assert 'data-testid="error"' in text and "<nav" in text
    forbidden = agent.get("/policy/new/")
    assert forbidden.status_code == 403 and 'data-testid="error"' in forbidden.content.decode()


def test_second_review_findings_are_400s_not_500s(world: World) -> None:
    """A huge exponent is refused without computing it; a [null, 1] cursor and offsets beyond ±14:00
    are 400s; lines that are not a list are one bad record; the policy refuses inf, deep nesting
    and absurd amounts; anonymous error pages and a CSRF failure are pages of the app."""
    import time

    client = _login()
    started = time.monotonic()
    push = {
        "shop": world.shop_a.pk,
        "orders": [
            {"order_no": "X1", "ordered_at": "2026-11-18T10:00:00+08:00", "item_count": "1e999999999"},
            {"order_no": "X2", "ordered_at": "2026-11-18T10:00:00+23:59"},
            {"order_no": "X3", "ordered_at": "2026-11-18T10:00:00+08:00", "lines": 5},
            {"order_no": "X4", "ordered_at": "2026-11-18T10:00:00+08:00"},
        ],
    }
    answer = client.post("/api/v1/orders/push", push, content_type="application/json")
    assert time.monotonic() - started < 5
    assert answer.status_code == 200
    assert answer.json()["created"] == 1 and sorted(f["row"] for f in answer.json()["failed"]) == [1, 2, 3]
    for cursor in (_cursor([None, 1]), _cursor(["2000-01-01T00:00:00+23:59", 1])):
        assert client.get(f"/api/v1/orders?cursor={cursor}").status_code == 400
        assert client.get(f"/orders/?cursor={cursor}").status_code == 400
    agent = Staff.objects.get(user=world.agent_a)
    punch = {"employee_no": agent.employee_no, "at": "2026-11-18T08:00:00+23:59", "kind": "on"}
    assert client.post("/api/v1/punches", punch, content_type="application/json").status_code == 400
    from kefu.core.policy_store import policy_in_force
    from kefu.policies import handbook

    text = handbook.dump_toml(policy_in_force().document)
    for bad in (
        text + "\nnote_x = inf\n",
        "a=" + "[" * 5000 + "]" * 5000,
        text.replace('coupon_amount = "10.00"', 'coupon_amount = "1e999999"'),
    ):
        page = client.post("/policy/new/", {"effective_from": "2026-12-01", "note": "", "text": bad})
        assert page.status_code == 400, bad[:40]
    fields = client.post(
        "/policy/new/", {"mode": "fields", "effective_from": "2026-12-01", "aftersales.coupon_amount": "1e999999"}
    )
    assert fields.status_code == 400
    anonymous = Client()
    missing = anonymous.get("/nope/")
    assert missing.status_code == 404 and 'data-testid="error"' in missing.content.decode()
    strict = Client(enforce_csrf_checks=True)
    refused = strict.post("/login/", {"username": "boss", "password": "x"})
    assert refused.status_code == 403 and 'data-testid="error"' in refused.content.decode()
    wrong = client.get("/aftersales/refunds/approve/")
    assert wrong.status_code == 405 and 'data-testid="error"' in wrong.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/attendance/team/?month=2026-13",
        "/attendance/?month=abc",
        "/attendance/statement/?month=2026-1",
        "/attendance/publication/?week=2026-02-30",
        "/aftersales/report/?week=2026-02-30",
        "/desk/kpis/?date=yesterday",
        "/desk/summary/?date=2026-11-299",
    ],
)
def test_a_malformed_month_week_or_day_in_a_link_is_a_clear_400_not_another_period(world: Any, path: str) -> None:
    from django.test import Client

    from .conftest import PASSWORD

    client = Client()
    client.login(username="boss", password=PASSWORD)
    r = client.get(path)
    assert r.status_code == 400, (path, r.status_code)
    body = r.content.decode()
    assert "2026-11" in body  # the message shows how to write it


def test_case_facts_and_money_forms_refuse_what_they_would_store_wrongly(world: World) -> None:
    """Third review: year-9999 facts were stored through the case page (the page then showed a
    deadline of -2,912,119 days), and the money form rounded 12.345 and read 1_000 as 1000."""
    from kefu.aftersales import services as aftersales
    from kefu.aftersales.models import Case, MoneyLine

    case = aftersales.case_open(
        actor=world.agent_a, case_type="wrong_item", order=world.order_a, facts={"line_value": "39.00"}
    )
    client = _login("agent_a")
    for day in ("9999-12-31", "0001-01-01", "1999-12-31"):
        page = client.post(f"/aftersales/{case.pk}/facts/", {"received_date": day}, follow=True)
        assert page.status_code == 200 and "2000" in page.content.decode()
        assert "received_date" not in Case.objects.get(pk=case.pk).facts
    assert client.post(f"/aftersales/{case.pk}/facts/", {"received_date": "2026-11-20"}).status_code == 302
    assert Case.objects.get(pk=case.pk).facts["received_date"] == "2026-11-20"
    for amount in ("12.345", "1_000", "1e3", "abc", "", "12,50", "1,2", "1,2345"):
        page = client.post(
            f"/aftersales/{case.pk}/money/", {"kind": "partial_refund", "amount": amount, "note": "x"}, follow=True
        )
        assert page.status_code == 200 and "12.50" in page.content.decode(), amount
    assert not MoneyLine.objects.filter(case=case).exists()
    # full-width digits, a ¥ and commas grouping thousands are read as meant
    client.post(f"/aftersales/{case.pk}/money/", {"kind": "partial_refund", "amount": "¥１２.５", "note": "x"})
    assert MoneyLine.objects.get(case=case).amount == Decimal("12.50")
    from kefu.core.params import amount_param

    assert amount_param("1,250.00") == Decimal("1250.00") and amount_param("１,２５０") == Decimal("1250")
    for typed in ("1e3", "0.001e3", "1_000", "12.345"):  # case facts too: stored as typed, so refused
        page = client.post(f"/aftersales/{case.pk}/facts/", {"line_value": typed}, follow=True)
        assert Case.objects.get(pk=case.pk).facts["line_value"] == "39.00", typed
    client.post(f"/aftersales/{case.pk}/facts/", {"received_date": "2026-W48-1"})
    assert Case.objects.get(pk=case.pk).facts["received_date"] == "2026-11-20"


@pytest.mark.parametrize("limit", ["-1", "0", "201", "99999999999999999999", "abc"])
def test_an_api_list_limit_out_of_range_is_a_400_not_quietly_changed(world: World, limit: str) -> None:
    client = _login()
    for path in ("/api/v1/orders", "/api/v1/customers", "/api/v1/aftersales/cases", "/api/v1/staff"):
        answer = client.get(f"{path}?limit={limit}")
        assert answer.status_code == 400, path
        assert answer.json()["error"]["code"] == "validation_error"
    assert client.get("/api/v1/orders?limit=200").status_code == 200


def test_digits_that_python_cannot_turn_into_numbers_are_not_numbers(world: World) -> None:
    """Third review: "²".isdigit() is true but int("²") fails — the widget's history answered 500
    without signing in; the case search had the same pattern."""
    from kefu.desk import services as desk

    desk.channel_create(
        actor=world.supervisor, code="w1", name="官网", kind="widget", shop=world.shop_a, origins=["https://a.example"]
    )
    from kefu.desk.widget import visitor_issue

    anonymous = Client(raise_request_exception=False)
    visitor = visitor_issue("w1")
    for after in ("%C2%B2", "%E2%91%A0", "9" * 30):
        page = anonymous.get(
            f"/desk/widget/w1/messages?visitor={visitor}&after={after}", HTTP_ORIGIN="https://a.example"
        )
        assert page.status_code == 200, after
    client = _login()
    for q in ("AS²", "AS" + "9" * 5000):
        assert client.get("/aftersales/", {"q": q}).status_code == 200


@pytest.mark.parametrize(
    "target", ["NaN", "abc", "-1", "null", "\\", " 1 ", "//evil.example/x", "https://evil.example/"]
)
def test_a_next_that_is_not_a_path_on_this_site_goes_to_the_default_page(world: World, target: str) -> None:
    """Issue 16 probe (D1): ``next=NaN`` passed the host check, ``redirect`` looked it up as a view
    name and the page answered 500 after the remark was saved. Now anything but a local path is the
    default page."""
    client = _login("agent_a")
    response = client.post(
        f"/orders/{world.order_a.pk}/remark/",
        {"shipping": "顺丰", "gift": "", "special": "", "author": "小王", "next": target},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/orders/{world.order_a.pk}/"
    ok = client.post(
        f"/orders/{world.order_a.pk}/remark/",
        {"shipping": "顺丰", "gift": "", "special": "", "author": "小王", "next": "/desk/"},
    )
    assert ok["Location"] == "/desk/"


def test_a_nul_in_a_multipart_form_field_is_a_400_not_a_500(world: World) -> None:
    """Issue 16 probe (D5): multipart forms were left to their views, and a NUL in a note made the
    event's JSON a 500 on PostgreSQL. Their text fields are checked like URL-encoded ones."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = _login("agent_a")
    response = client.post(
        f"/orders/{world.order_a.pk}/remark/",
        {"shipping": "a\x00b", "author": "x", "file": SimpleUploadedFile("x.txt", b"\x00binary is fine")},
    )
    assert response.status_code == 400
    assert "不允许" in response.content.decode()
