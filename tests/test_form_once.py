"""Review of issue 18: three posts of the same create form (a double click, a slow network) made three
service requests, three complaints, three cases. A form posts once: the repeats go to what the first
post made; a refused first post frees the form for a corrected one."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from kefu.aftersales.models import Case
from kefu.care.models import Complaint
from kefu.core import clock
from kefu.service.models import ServiceRequest

from .conftest import PASSWORD, World

pytestmark = pytest.mark.django_db


def _client(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


def test_a_create_form_posted_three_times_makes_one_record(world: World) -> None:
    lead = _client("lead_a")
    service = {
        "form_token": "t-service", "shop": world.shop_a.pk, "channel": "phone", "contact_name": "李女士",
        "contact_phone": "13912345678", "product": "投影机", "part": "unit", "fault": "无画面",
        "purchase_date": (clock.today() - dt.timedelta(days=30)).isoformat(),
    }  # fmt: skip
    answers = [lead.post("/service/new/", service) for _ in range(3)]
    assert ServiceRequest.objects.count() == 1
    item = ServiceRequest.objects.get()
    assert {a["Location"] for a in answers} == {f"/service/{item.pk}/"}
    complaint = {"form_token": "t-care", "shop": world.shop_a.pk, "contact_name": "吴", "contact_phone": "13900001111",
                 "text": "太慢了", "channel": "phone"}  # fmt: skip
    for _ in range(3):
        lead.post("/care/complaints/", complaint)
    assert Complaint.objects.count() == 1
    case = {"form_token": "t-case", "order": world.order_a.pk, "case_type": "defect", "summary": "划痕"}
    for _ in range(3):
        lead.post(f"/aftersales/new/?order={world.order_a.pk}", case)
    assert Case.objects.count() == 1
    # a refused first post (no summary) frees its token: the corrected post creates the case
    refused = {"form_token": "t-case-2", "order": world.order_a.pk, "case_type": "defect", "summary": ""}
    lead.post(f"/aftersales/new/?order={world.order_a.pk}", refused)
    assert Case.objects.count() == 1
    lead.post(f"/aftersales/new/?order={world.order_a.pk}", {**refused, "summary": "划痕二"})
    assert Case.objects.count() == 2
    # another form (another token) makes another record
    lead.post("/care/complaints/", {**complaint, "form_token": "t-care-2"})
    assert Complaint.objects.count() == 2
