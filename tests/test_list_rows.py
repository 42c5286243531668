"""The hot lists' rows (ADR 0023): Jinja2 templates over plain values. What they show must be what
the Django templates showed — escaped, translated, labelled, in local time — and paging, the
filters and the scope must not change with them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from kefu.aftersales import services as aftersales
from kefu.core.events import SystemActor
from kefu.desk import services as desk
from kefu.org.models import Staff
from kefu.workflow import selectors as wf
from kefu.workflow.models import StatusLabel

from .conftest import PASSWORD, World
from .factories import OrderFactory

pytestmark = pytest.mark.django_db

_WAITED_AN_HOUR = "已等待 1\xa0小时"  # timesince puts a no-break space
HOSTILE = '<img src=x onerror="alert(1)">'


def _client(username: str, language: str = "") -> Client:
    client = Client()
    if language:
        client.cookies["django_language"] = language
    assert client.login(username=username, password=PASSWORD)
    return client


def test_case_rows_escape_label_and_page_like_the_django_template(world: World) -> None:
    """Three cases of shop A, one of them past its deadline, one with a hostile buyer name; the list
    pages two at a time (the cursor is made from a plain row) and shows nothing of shop B."""
    opened = []
    for i, nick in enumerate(["buyer_1", HOSTILE, "buyer_3"]):
        case = aftersales.case_open(
            actor=world.lead_a,
            case_type="wrong_item" if i else "defect",
            shop=world.shop_a,
            buyer_nick=nick,
            summary="s",
        )
        opened.append(case)
    aftersales.case_open(actor=world.supervisor, case_type="defect", shop=world.shop_b, buyer_nick="other_team")
    from kefu.aftersales.models import Case

    Case.objects.filter(pk=opened[0].pk).update(breached=True)
    lead = _client("lead_a")
    html = lead.get("/aftersales/").content.decode()
    assert HOSTILE not in html and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
    assert "other_team" not in html
    assert "已逾期" in html and "发错货" in html  # the type's label, not "wrong_item"
    assert ">wrong_item<" not in html and ">defect<" not in html
    for case in opened:
        assert f'href="/aftersales/{case.pk}/">{case.number}</a>' in html
    # local time: the case opened at the frozen clock shows in Asia/Shanghai
    local = opened[0].opened_at.astimezone(dt.timezone(dt.timedelta(hours=8)))
    assert local.strftime("%m-%d %H:%M") in html
    from kefu.aftersales import selectors

    first = selectors.case_rows(actor=world.lead_a, filters=selectors.CaseFilters(), limit=2)
    assert first.next_cursor
    rest = selectors.case_rows(actor=world.lead_a, filters=selectors.CaseFilters(), cursor=first.next_cursor, limit=2)
    seen = [r["id"] for r in first.items + rest.items]
    assert sorted(seen) == sorted(c.pk for c in opened) and rest.next_cursor is None
    english = _client("lead_a", "en").get("/aftersales/").content.decode()
    assert "overdue" in english and "已逾期" not in english


def test_order_rows_and_filter_fields_keep_the_choice_and_escape_the_search(world: World) -> None:
    OrderFactory(shop=world.shop_a, buyer_nick=HOSTILE, status="paid", province="江苏")
    lead = _client("lead_a")
    html = lead.get("/orders/", {"status": "paid", "q": '"><script>', "province": "江苏"}).content.decode()
    assert '<option value="paid" selected>' in html and '<option value="江苏" selected>' in html
    assert 'value="&#34;&gt;&lt;script&gt;"' in html and '"><script>' not in html
    listed = lead.get("/orders/", {"status": "paid"}).content.decode()
    assert HOSTILE not in listed and "&lt;img src=x" in listed
    assert "已付款" in listed  # the status's label
    bad = lead.get("/orders/", {"date_from": "2026-13-45"})
    assert bad.status_code == 200 and 'class="msg error"' in bad.content.decode()
    checked = lead.get("/orders/", {"memo_invalid": "on"}).content.decode()
    assert 'name="memo_invalid" id="id_memo_invalid" checked' in checked


def test_desk_rows_show_the_wait_as_words_and_escape_the_buyer(world: World) -> None:
    channel = desk.channel_default("api")
    at = "2026-11-26T09:00:00+08:00"
    item = {"external_id": "x1", "shop": world.shop_a.code, "buyer": HOSTILE, "direction": "in", "kind": "text"}
    desk.messages_ingest(
        actor=SystemActor("t"), channel=channel, items=[{**item, "sent_at": at, "text": "<b>在吗</b>"}]
    )
    html = _client("lead_a").get("/desk/").content.decode()
    assert HOSTILE not in html and "&lt;img src=x" in html and "&lt;b&gt;在吗&lt;/b&gt;" in html
    # the buyer asked at 09:00 and the clock says 10:00
    assert 'class="waiting"' in html and _WAITED_AN_HOUR in html


def test_staff_rows_show_pay_only_to_whom_it_concerns(world: World) -> None:
    Staff.objects.filter(user=world.agent_a).update(base_salary=4321)
    assert "¥4,321.00" in _client("boss").get("/staff/").content.decode()
    lead_view = _client("lead_a").get("/staff/").content.decode()
    assert "4,321" not in lead_view and "agent_a" in lead_view


def test_status_labels_of_a_category_are_remembered_and_forgotten_on_change(world: World, settings: Any) -> None:
    """With the process memory on, a second ask makes no query; saving a label forgets at once."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kefu.aftersales.workflow import CASES

    settings.KEFU_MEMORY_SECONDS = 60
    wf.LABEL_IDS.forget()
    first = wf.label_ids(CASES, "open")
    with CaptureQueriesContext(connection) as ctx:
        assert wf.label_ids(CASES, "open") == first
    assert len(ctx.captured_queries) == 0
    label = StatusLabel.objects.create(workflow=CASES.key, name="等顾客回图", category="open", position=99)
    assert label.pk in wf.label_ids(CASES, "open")
    # a case page's status buttons: remembered too, and a renamed label shows at once
    case = aftersales.case_open(actor=world.agent_a, case_type="defect", order=world.order_a, summary="坏了")
    offered = wf.transition_choices(case)
    with CaptureQueriesContext(connection) as ctx:
        assert wf.transition_choices(case) == offered
    assert len(ctx.captured_queries) == 0 and label.pk in {c.pk for c in offered}
    label.name = "等顾客回照片"
    label.save()
    assert "等顾客回照片" in {c.name for c in wf.transition_choices(case)}
    # a new record's initial label: remembered, a fresh instance each time, a new default seen at once
    from kefu.workflow.services import default_label

    first = default_label(CASES, "open")
    with CaptureQueriesContext(connection) as ctx:
        again = default_label(CASES, "open")
    assert len(ctx.captured_queries) == 0 and again == first and again is not first
    StatusLabel.objects.filter(workflow=CASES.key, category="open").update(default_for_category=False)
    label.default_for_category = True
    label.save()  # the save (not the update before it) forgets
    assert default_label(CASES, "open").pk == label.pk
    wf.LABEL_IDS.forget()


def test_the_navigation_differs_by_capability_and_page(world: World) -> None:
    boss = _client("boss").get("/aftersales/").content.decode()
    agent = _client("agent_a").get("/aftersales/").content.decode()
    assert 'href="/aftersales/refunds/"' in boss and 'href="/aftersales/refunds/"' not in agent
    assert 'href="/aftersales/" class="active"' in agent
    assert 'href="/aftersales/" class=""' in _client("agent_a").get("/orders/").content.decode()


def test_unknown_codes_show_as_themselves_and_an_unknown_category_is_not_remembered(
    world: World, settings: Any
) -> None:
    """A code no choice names (a legacy import) shows as itself, not as an empty cell; a made-up
    category filter matches nothing and leaves the label memory as it was (the fresh-clone review
    filled it with 300 made-up keys)."""
    from kefu.aftersales.models import Case
    from kefu.aftersales.workflow import CASES

    OrderFactory(shop=world.shop_a, status="legacy_status", flag=9)
    case = aftersales.case_open(actor=world.lead_a, case_type="defect", shop=world.shop_a, buyer_nick="b", summary="s")
    Case.objects.filter(pk=case.pk).update(case_type="legacy_type")
    lead = _client("lead_a")
    assert ">legacy_type<" in lead.get("/aftersales/").content.decode()
    orders = lead.get("/orders/").content.decode()
    assert ">legacy_status<" in orders and 'title="9"' in orders
    settings.KEFU_MEMORY_SECONDS = 60
    wf.LABEL_IDS.forget()
    made_up = lead.get("/aftersales/", {"category": "no-such-category"})
    assert made_up.status_code == 200 and case.number not in made_up.content.decode()
    assert wf.LABEL_IDS._values == {}
    with pytest.raises(ValueError):
        wf.label_ids(CASES, "no-such-category")
    wf.LABEL_IDS.forget()


def test_filter_fields_write_ids_and_refuse_widgets_they_cannot_write() -> None:
    from django import forms

    from kefu.web.jinja import filter_fields

    class Good(forms.Form):
        q = forms.CharField(max_length=10)
        kind = forms.ChoiceField(choices=[("a", "A"), ("b", "B")])

    fields = filter_fields(Good({"q": "x", "kind": "b"}))
    assert fields[0]["attrs"]["id"] == "id_q" and fields[1]["options"][1] == ("b", "B", True)

    class Many(forms.Form):
        kinds = forms.MultipleChoiceField(choices=[("a", "A")])

    class Grouped(forms.Form):
        kind = forms.ChoiceField(choices=[("group", [("a", "A")])])

    for form in (Many(), Grouped()):
        with pytest.raises(TypeError):
            filter_fields(form)


def test_the_roster_grid_and_a_cells_answer_write_the_same_cell_with_a_real_csrf_token(world: World) -> None:
    """The grid's 1,800 cells and the answer to one cell's change come from one Jinja2 macro: after
    a change, the cell the answer wrote is the cell the grid writes, with the session's CSRF token
    (a cell posts on its own)."""
    import re

    from kefu.core import clock

    lead = _client("lead_a")
    agent = Staff.objects.get(user=world.agent_a)
    day = clock.today().replace(day=3)
    answer = lead.post(
        "/attendance/team/roster/",
        {"staff": agent.pk, "date": day.isoformat(), "shift": "night"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    cell = answer.split("<template>")[0]
    assert 'value="night" selected' in cell and f"{agent.name} {day:%m-%d}" in cell
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', cell)
    assert token is not None and len(token.group(1)) == 64
    grid = lead.get(f"/attendance/team/?team={world.team_a.pk}&month={day:%Y-%m}").content.decode()
    # the same cell in the grid, token aside (Django masks it afresh for every response)
    pattern = re.escape(cell.replace(token.group(1), "TOKEN")).replace("TOKEN", '[^"]+')
    assert re.search(pattern, grid)
    english = _client("lead_a", "en").get(f"/attendance/team/?team={world.team_a.pk}&month={day:%Y-%m}")
    assert ">rest</option>" in english.content.decode() and ">休息</option>" in grid


def test_per_language_remembers_plain_values_only() -> None:
    """True and 1, a safe string and the same plain text, are equal keys with different answers."""
    from django.utils.safestring import SafeString

    from kefu.web.jinja import per_language

    seen = []

    def shown(value: object) -> str:
        seen.append(value)
        return f"{type(value).__name__}:{value}"

    cached = per_language(shown)
    assert cached(True) == "bool:True" and cached(1) == "int:1" and cached(1) == "int:1"
    assert cached(SafeString("<b>")) == "SafeString:<b>" and cached("<b>") == "str:<b>"
    assert [type(v) for v in seen].count(int) == 1  # the plain int was remembered


def test_the_case_page_escapes_what_people_typed_and_a_ticked_step_is_the_pages_step(world: World) -> None:
    """The case page's body is Jinja2 (ADR 0025): a hostile buyer name, summary and money note are
    shown as text; the answer to ticking a step is the form the page then writes for it, with the
    session's CSRF token; the English page is in English, times in Shanghai time."""
    import re

    from kefu.aftersales.models import Case

    world.order_a.buyer_nick = HOSTILE
    world.order_a.province = "广东"
    world.order_a.save()
    case = aftersales.case_open(
        actor=world.agent_a,
        case_type="wrong_item",
        order=world.order_a,
        facts={"line_value": "39.00", "wrong_item_value": "8.00", "shipped_matches_order": False},
        summary=HOSTILE,
    )
    aftersales.money_post(actor=SystemActor("t"), case=case, kind="partial_refund", amount="5.00", note=HOSTILE)
    lead = _client("lead_a")
    page = lead.get(f"/aftersales/{case.pk}/").content.decode()
    assert HOSTILE not in page and page.count("&lt;img src=x onerror=") >= 3
    opened = Case.objects.get(pk=case.pk).opened_at.astimezone(dt.timezone(dt.timedelta(hours=8)))
    assert f"<dd>{opened:%Y-%m-%d %H:%M}</dd>" in page
    answer = lead.post(
        f"/aftersales/{case.pk}/step/", {"step": "verify_photo", "done": "1"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', answer)
    assert token is not None and len(token.group(1)) == 64 and "☑" in answer
    again = lead.get(f"/aftersales/{case.pk}/").content.decode()
    pattern = re.escape(answer.strip().replace(token.group(1), "TOKEN")).replace("TOKEN", '[^"]+')
    assert re.search(pattern, again)
    english = _client("lead_a", "en").get(f"/aftersales/{case.pk}/").content.decode()
    assert ">Proposed resolutions <" in english and "Save facts" in english and "处理建议" not in english


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_jinja_date_filter_writes_what_djangos_writes(language: str) -> None:
    """Numeric formats go through strftime and a day's named format is remembered: both must write
    exactly what Django's ``date`` filter writes, an aware time in the request's zone."""
    from django.template.defaultfilters import date as django_date
    from django.utils import timezone, translation
    from hypothesis import assume, given, settings
    from hypothesis import strategies as st

    from kefu.web.jinja import date

    formats = ["m-d", "H:i", "m-d H:i", "Y-m-d H:i", "m-d D", "Y-m-d", "D", "N j", "H:i:s", "y%m"]

    @settings(max_examples=150, deadline=None)
    @given(
        st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 12, 31), timezones=st.just(dt.UTC)),
        st.sampled_from(formats),
        st.booleans(),
    )
    def check(moment: dt.datetime, fmt: str, as_day: bool) -> None:
        assume(not (as_day and any(ch in fmt for ch in "His")))  # Django refuses times of a day
        value: Any = moment.date() if as_day else moment
        expected = django_date(timezone.localtime(value) if not as_day else value, fmt)
        assert date(value, fmt) == expected

    with translation.override(language):
        check()
        assert date(None, "m-d") == "" and date("", "H:i") == ""


def test_a_rule_named_in_the_template_is_told_in_each_requests_language(world: World) -> None:
    """``{{ "R-AS-8"|rule }}`` is a filter on a literal, which Jinja2 would work out once when it
    compiles the template: the first page's language would stay for every later one. Chinese first,
    then English, then Chinese again, in one process."""
    from django.template import engines
    from django.utils import translation

    from kefu.core import wording

    case = aftersales.case_open(actor=world.agent_a, case_type="lost_parcel", order=world.order_a, summary="丢件")
    engines["jinja2"].env.cache.clear()  # compiled afresh in this test, whatever ran before
    titles = {}
    for language in ("zh-hans", "en", "zh-hans"):
        page = _client("lead_a", "" if language == "zh-hans" else "en").get(f"/aftersales/{case.pk}/")
        with translation.override(language):
            expected = str(wording.rule("R-AS-8"))
        html = page.content.decode()
        assert f'title="{expected}"' in html, language
        titles[language] = expected
    assert titles["zh-hans"] != titles["en"]
