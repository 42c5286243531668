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
    if cell != text:
        assert cell == "'" + text


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
