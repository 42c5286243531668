"""Exports safe for Excel (OWASP CSV injection): names, reasons and report text that start with a
formula character reach CSV and XLSX as text, never as formulas."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from kefu.aftersales import services as aftersales
from kefu.aftersales.report import report_xlsx
from kefu.aftersales.selectors import weekly_report
from kefu.core import clock
from kefu.core.events import SystemActor
from kefu.core.exports import safe_cell
from kefu.org.models import Staff
from kefu.workforce import services as workforce

from .conftest import PASSWORD, World

HOSTILE = ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\r=1"]


@given(st.text(max_size=20))
def test_no_text_cell_leaves_as_a_formula(text: str) -> None:
    cell = safe_cell(text)
    assert not (isinstance(cell, str) and cell[:1] in {"=", "+", "@", "\t", "\r", "\n"})
    assert len(cell) in (len(text), len(text) + 1)
    clean = "".join("\ufffd" if ILLEGAL_CHARACTERS_RE.match(c) or "\ud800" <= c <= "\udfff" else c for c in text)
    assert cell in (clean, "'" + clean)
    openpyxl.Workbook().active.append([cell])  # openpyxl takes every cell safe_cell gives


def test_a_control_character_in_stored_text_is_one_odd_cell_not_a_500(world: World) -> None:
    """Issue 16 §7: one control character in a case summary, an order's address or a service
    request's fault made every export of its list answer 500 until the data was edited."""
    from kefu.commerce.models import Order

    aftersales.case_open(actor=world.agent_a, case_type="defect", order=world.order_a, summary="坏了\x01\x1b[31m")
    Order.objects.filter(pk=world.order_a.pk).update(buyer_nick="买家\x0b", memo="\x1f=1+1")
    client = Client(raise_request_exception=False)
    assert client.login(username="lead_a", password=PASSWORD)
    for url in ("/aftersales/?export=xlsx", "/orders/?export=xlsx", "/service/?format=xlsx"):
        response = client.get(url)
        assert response.status_code == 200, url
        book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
        text = " ".join(str(v) for row in book.active.iter_rows(values_only=True) for v in row if v is not None)
        if url.startswith("/aftersales"):
            assert "坏了\ufffd\ufffd[31m" in text
        if url.startswith("/orders"):
            assert "买家\ufffd" in text and "\ufffd=1+1" in text


def test_numbers_stay_numbers() -> None:
    assert safe_cell("-300.00") == "-300.00" and safe_cell(-3) == -3 and safe_cell(Decimal("-1")) == Decimal("-1")


@pytest.mark.django_db
def test_statement_csv_and_xlsx_neutralise_imported_names(world: World) -> None:
    agent = Staff.objects.get(user=world.agent_a)
    Staff.objects.filter(pk=agent.pk).update(name=HOSTILE[0], employee_no="=1+2")  # as a staff import could set
    workforce.punch_record(actor=SystemActor(label="t"), staff=agent, at=dt.datetime(2026, 11, 3, 8, 40), kind="on")
    client = Client()
    client.login(username="boss", password=PASSWORD)
    month = f"{clock.today():%Y-%m}"
    csv_text = client.get(f"/attendance/statement/?month={month}&format=csv").content.decode("utf-8-sig")
    assert "'=HYPERLINK" in csv_text and ",=HYPERLINK" not in csv_text and "'=1+2" in csv_text
    xlsx = client.get(f"/attendance/statement/?month={month}&format=xlsx").content
    book = openpyxl.load_workbook(io.BytesIO(xlsx))
    values = [c.value for ws in book.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert "'" + HOSTILE[0] in values and not [v for v in values if v.startswith("=")]


@pytest.mark.django_db
def test_report_xlsx_neutralises_shop_names_and_review_reasons(world: World) -> None:
    world.shop_a.name = "@SUM(1)"
    world.shop_a.save()
    world.product_a.title = "-2+3 锅"
    world.product_a.save()
    case = aftersales.case_open(actor=world.agent_a, case_type="lost_parcel", order=world.order_a)
    review = aftersales.review_record(actor=world.agent_a, shop=world.shop_a, content="差", order=world.order_a)
    aftersales.review_reply(actor=world.agent_a, review=review, reply="已处理", feedback_reason="=1+1")
    today = clock.today()
    monday = today - dt.timedelta(days=today.weekday())
    book = openpyxl.load_workbook(io.BytesIO(report_xlsx(weekly_report(actor=world.supervisor, monday=monday))))
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
    assert not [c for c in cells if c.data_type == "f"]
    assert "'=1+1" in [c.value for c in cells] and case.pk


def test_filtered_lists_export_to_xlsx_in_scope_and_in_words(world: World) -> None:
    """Orders, cases and staff export the list as filtered on the page, inside the reader's scope,
    labels not codes, salary only where the reader may see it."""
    import io

    import openpyxl
    from django.test import Client

    from kefu.aftersales import services as aftersales

    world.order_a.province = "广东"
    world.order_a.save()
    aftersales.case_open(actor=world.agent_a, case_type="wrong_item", order=world.order_a, summary="=HYPERLINK(1)")
    aftersales.case_open(actor=world.agent_a, case_type="defect", order=world.order_a)
    aftersales.case_open(actor=world.supervisor, case_type="wrong_item", order=world.order_b)

    def sheet(client: Client, url: str) -> list[tuple[object, ...]]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
        return [tuple(r) for r in book.active.iter_rows(values_only=True)]

    lead = Client()
    assert lead.login(username="lead_a", password=PASSWORD)
    cases = sheet(lead, "/aftersales/?type=wrong_item&export=xlsx")
    assert len(cases) == 2  # header + team A's one wrong-item case (team B's is out of scope, defect filtered)
    assert cases[1][1] == "发错货" and cases[1][5] == "新建" and cases[1][-1] == "'=HYPERLINK(1)"
    orders = sheet(lead, "/orders/?export=xlsx")
    assert [r[0] for r in orders[1:]] == [world.order_a.order_no]
    staff = sheet(lead, "/staff/?export=xlsx")
    header = staff[0]
    salary = header.index("基本工资") if "基本工资" in header else len(header) - 1
    from kefu.org.models import Staff

    own = Staff.objects.get(user=world.lead_a).employee_no
    others = [row for row in staff[1:] if row[0] != own]
    assert others and all(row[salary] in ("", None) for row in others)  # no colleague's pay for a lead
    assert [row[salary] for row in staff[1:] if row[0] == own] != [None]  # their own, yes
    boss = Client()
    assert boss.login(username="boss", password=PASSWORD)
    everyone = sheet(boss, "/staff/?export=xlsx")
    assert any(row[salary] not in ("", None) for row in everyone[1:])
