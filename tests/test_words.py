"""People read labels and sentences, never internal codes (issue: errors and words): the pages
where codes used to show — case page and inbox, order page, imports, the audit log, a request —
are rendered and their visible text is searched for the raw codes of every labelled choice,
every timeline verb and the import kinds and formats."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from kefu.aftersales import services as aftersales
from kefu.core import wording
from kefu.core.imports import run_start
from kefu.org.models import Staff
from kefu.workforce import services as workforce

from .conftest import PASSWORD, World
from .samples import legacy_csv, legacy_row

pytestmark = pytest.mark.django_db


class _Text(HTMLParser):
    """The text a person sees: no tags, attributes, scripts or styles."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in {"script", "style"}:
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"}:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _visible(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


def _codes() -> set[str]:
    """Codes that have a label: choice values with an underscore or a dot (snake_case ids and
    verbs), plus the plain-word codes the review found on pages."""
    codes = {c for c in wording.LABELS if re.fullmatch(r"[a-z]+(_[a-z]+)+", c)}
    codes |= {v for v in wording.VERBS if not v.startswith("*")}
    codes |= {"json_push", "taobao_orders", "taobao_order_details", "dingtalk_daily", "kefu"}
    return codes


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


def test_pages_show_labels_not_codes(world: World) -> None:
    world.order_a.province = "广东"
    world.order_a.save()
    case = aftersales.case_open(
        actor=world.agent_a,
        case_type="wrong_item",
        order=world.order_a,
        facts={"line_value": "39.00", "wrong_item_value": "8.00", "shipped_matches_order": False},
    )
    aftersales.case_update_facts(
        actor=world.agent_a, case=case, facts={"misuse": False}, responsibility="ours_warehouse"
    )
    from kefu.aftersales.selectors import case_status_named

    waiting = case_status_named("waiting_buyer")
    assert waiting is not None
    aftersales.case_transition(actor=world.agent_a, case=case, status=waiting)
    agent = Staff.objects.get(user=world.agent_a)
    import datetime as dt

    leave = workforce.request_create(
        actor=world.agent_a, staff=agent, kind="rest", start_date=dt.date(2026, 12, 20), end_date=dt.date(2026, 12, 20)
    )
    boss = Client()
    assert boss.login(username="boss", password=PASSWORD)
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("o.csv", legacy_csv([legacy_row("810001")]))
    boss.post("/imports/", {"kind": "orders", "shop": world.shop_a.pk, "file": upload})
    run_start(kind="orders", file_name="x.csv", data=b"x", actor=None, params={})
    codes = _codes()
    assert {"wrong_item", "case.opened", "ours_warehouse", "taobao_orders"} <= codes
    pages = [
        f"/aftersales/{case.pk}/",
        "/aftersales/",
        f"/orders/{world.order_a.pk}/",
        "/imports/",
        "/audit/",
        f"/attendance/requests/{leave.pk}/",
    ]
    for url in pages:
        response = boss.get(url)
        assert response.status_code == 200, url
        text = _visible(response.content.decode())
        shown = sorted(c for c in codes if re.search(rf"(?<![\w.]){re.escape(c)}(?![\w])", text))
        assert shown == [], f"{url} shows raw codes {shown}"
    # and the case timeline reads as sentences with the actor's name
    text = _visible(boss.get(f"/aftersales/{case.pk}/").content.decode())
    assert agent.name in text and "新建了工单" in text and "更改了状态" in text


def test_histories_read_without_internal_words(world: World) -> None:
    """Issue 19: no actor "demo" or "webhook:qianniu", no "Lines.1 added", no point item code and
    no 64-digit fingerprint in a history."""
    from kefu.core import wording

    assert str(wording.system_actor("demo")) == "演示数据"
    assert str(wording.system_actor("worker")) == "系统"
    assert wording.system_actor("webhook:qianniu") == "聊天来源 qianniu"
    assert wording.system_actor("zhangsan") == "zhangsan"  # a name typed at a failed sign-in stays
    rows = wording.changes({}, {"lines.2": "added", "lines.3.price": "12.00", "sha256": "ab" * 32})
    assert [(str(f), a) for f, _b, a in rows] == [("订单明细 2", "已添加"), ("订单明细 3 · 价格", "12.00")]
    (item,) = wording.changes({}, {"item": "praise_letter"})
    assert item[2] == "客户来信表扬"
