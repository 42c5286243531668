"""Service desk (issue 9): messages in exactly once through three doors, routing by the buyer's
orders (R-DESK-1 / R-ORG-1), replies, transfers, presence, live stream and the KPIs (R-DESK-3)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from kefu.commerce.models import OrderStatus
from kefu.core import clock
from kefu.core.events import SystemActor
from kefu.core.models import Event
from kefu.desk import selectors, services
from kefu.desk.models import Channel, Conversation, Message, Presence
from kefu.org.models import Staff
from kefu.org.services import token_create

from .conftest import PASSWORD, World
from .factories import OrderFactory, ShopFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def msg(
    ext: str, *, buyer: str = "buyer_new", direction: str = "in", at: str = "2026-11-10T10:10:15+08:00", **kw: Any
) -> dict[str, Any]:
    return {
        "external_id": ext,
        "shop": "hdc",
        "buyer": buyer,
        "direction": direction,
        "kind": "text",
        "sent_at": at,
        "text": "在吗",
        **kw,
    }


def _token_client(user: Any) -> tuple[Client, dict[str, str]]:
    secret = token_create(actor=SystemActor("t"), user=user, name="chat")
    return Client(), {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def _widget(world: World, code: str = "hdc-web", name: str = "官网") -> Channel:
    """Shop A's web chat widget, answering https://hdc.example only."""
    return services.channel_create(
        actor=world.supervisor,
        code=code,
        name=name,
        kind="widget",
        shop=world.shop_a,
        origins=["https://hdc.example"],
    )


def _online(user: Any) -> Staff:
    services.presence_set(actor=user, state="online")
    return Staff.objects.get(user=user)


def test_api_ingest_counts_created_duplicates_and_bad_messages_by_index(world: World) -> None:
    client, auth = _token_client(world.lead_a)
    body = {
        "messages": [
            msg("m1"),
            msg("m2", at="2026-11-10T10:11:00"),  # no offset
            msg("m3", shop="nowhere"),
            {"external_id": "m4"},
            msg("m5", direction="out", agent="K-unknown"),
            msg("m1"),  # the same message twice in one delivery
            msg("m6", shop="mjr"),  # another team's shop: outside the token's scope
        ]
    }
    r = client.post("/api/v1/desk/messages", body, content_type="application/json", **auth)
    assert r.status_code == 200, r.content
    data = r.json()
    assert (data["created"], data["duplicates"]) == (1, 1)
    assert [f["index"] for f in data["failed"]] == [1, 2, 3, 4, 6]
    assert "偏移" in data["failed"][0]["reason"]
    again = client.post("/api/v1/desk/messages", {"messages": [msg("m1")]}, content_type="application/json", **auth)
    assert again.json() == {"created": 0, "duplicates": 1, "failed": []}
    assert Message.objects.count() == 1


def test_each_team_pushes_into_its_own_channel_so_ids_neither_collide_nor_leak(world: World) -> None:
    """Issue 16 §5: with one shared ``api`` channel the Haifeng lead's message id silently dropped
    the Yangzhou lead's real buyer message, and the duplicate answer told which ids existed."""
    from .conftest import _person

    lead_b = _person("team_lead", world.team_b, "lead_b")
    a, a_auth = _token_client(world.lead_a)
    b, b_auth = _token_client(lead_b)
    first = b.post(
        "/api/v1/desk/messages", {"messages": [msg("x-1", shop="mjr")]}, content_type="application/json", **b_auth
    )
    assert first.json() == {"created": 1, "duplicates": 0, "failed": []}
    # the same id from the other team is a message of its own, and says nothing of team B's
    second = a.post("/api/v1/desk/messages", {"messages": [msg("x-1")]}, content_type="application/json", **a_auth)
    assert second.json() == {"created": 1, "duplicates": 0, "failed": []}
    assert sorted(Message.objects.filter(external_id="x-1").values_list("shop__code", flat=True)) == ["hdc", "mjr"]
    again = a.post("/api/v1/desk/messages", {"messages": [msg("x-1")]}, content_type="application/json", **a_auth)
    assert again.json()["duplicates"] == 1  # its own redelivery is still one message
    codes = set(Message.objects.values_list("channel__code", flat=True))
    assert codes == {f"api-t{world.team_a.pk}", f"api-t{world.team_b.pk}"}


def test_an_agents_token_cannot_push_messages_and_no_token_writes_into_a_signed_channel(world: World) -> None:
    """The review forged a colleague's reply with an agent's token (and so charged her under
    R-AS-8), and pre-empted a signed webhook's message id through ``?channel=``."""
    agent, agent_auth = _token_client(world.agent_a)
    answer = agent.post(
        "/api/v1/desk/messages", {"messages": [msg("f1")]}, content_type="application/json", **agent_auth
    )
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "permission_denied"
    assert not Message.objects.exists()
    channel = services.channel_create(actor=world.supervisor, code="qianniu", name="千牛")
    lead, lead_auth = _token_client(world.lead_a)
    pushed = lead.post(
        "/api/v1/desk/messages?channel=qianniu",
        {"messages": [msg("sq-1")]},
        content_type="application/json",
        **lead_auth,
    )
    assert pushed.json()["created"] == 1
    assert Message.objects.get(external_id="sq-1").channel.code == f"api-t{world.team_a.pk}"
    body = json.dumps({"messages": [msg("sq-1")]}).encode()
    signed = Client().post(
        "/api/v1/desk/webhook/qianniu", body, content_type="application/json", **_signed(channel, body)
    )
    assert signed.json()["created"] == 1  # the platform's own message is not taken as a duplicate
    # a lead's token sends as the lead's own team only, never as the supervisor (who answers everywhere)
    boss = Staff.objects.get(user=world.supervisor)
    own = Staff.objects.get(user=world.agent_a)
    replies = {
        "messages": [
            msg("as-boss", direction="out", agent=boss.employee_no),
            msg("as-own", direction="out", agent=own.employee_no),
        ]
    }
    answer = lead.post("/api/v1/desk/messages", replies, content_type="application/json", **lead_auth).json()
    assert answer["created"] == 1 and [f["index"] for f in answer["failed"]] == [0]


def _signed(channel: Channel, body: bytes, *, stamp: float | None = None, secret: str | None = None) -> dict[str, str]:
    when = str(int(stamp or time.time()))
    digest = hmac.new((secret or channel.secret).encode(), when.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"HTTP_X_KEFU_SIGNATURE": f"v2={digest}", "HTTP_X_KEFU_TIMESTAMP": when}


def test_webhook_needs_a_fresh_valid_signature(world: World) -> None:
    channel = services.channel_create(actor=world.supervisor, code="taobao", name="千牛")
    body = json.dumps({"messages": [msg("w1")]}).encode()
    client = Client()
    url = "/api/v1/desk/webhook/taobao"
    assert client.post(url, body, content_type="application/json").status_code == 401
    bad = _signed(channel, body, secret="wrong")
    assert client.post(url, body, content_type="application/json", **bad).status_code == 401
    stale = _signed(channel, body, stamp=time.time() - 301)
    assert client.post(url, body, content_type="application/json", **stale).status_code == 401
    tampered = _signed(channel, body)
    assert client.post(url, body.replace(b"w1", b"w2"), content_type="application/json", **tampered).status_code == 401
    assert (
        client.post("/api/v1/desk/webhook/nochannel", body, content_type="application/json", **tampered).status_code
        == 401
    )
    ok = client.post(url, body, content_type="application/json", **_signed(channel, body))
    assert ok.status_code == 200 and ok.json()["created"] == 1
    redelivered = client.post(
        url, body, content_type="application/json", **_signed(channel, body, stamp=time.time() + 1)
    )
    assert redelivered.json() == {"created": 0, "duplicates": 1, "failed": []}
    assert ok.json()["failed"] == [] and Message.objects.filter(channel=channel).count() == 1


def test_webhook_signatures_cover_the_timestamp_and_a_signed_request_is_taken_once(world: World, settings: Any) -> None:
    """Issue 16 §4: the timestamp was not signed, so a captured request replayed forever with a fresh
    one; a 45 MB unsigned body was read into memory before the signature was checked."""
    channel = services.channel_create(actor=world.supervisor, code="taobao", name="千牛")
    client = Client()
    url = "/api/v1/desk/webhook/taobao"
    body = json.dumps({"messages": [msg("r1")]}).encode()
    captured = _signed(channel, body, stamp=time.time() - 10)
    assert client.post(url, body, content_type="application/json", **captured).json()["created"] == 1
    # the attacker replays it: as it was (remembered), and with a fresh timestamp (no longer matches)
    again = client.post(url, body, content_type="application/json", **captured)
    assert again.status_code == 409 and again.json()["error"]["code"] == "replayed"
    fresh = dict(captured, HTTP_X_KEFU_TIMESTAMP=str(int(time.time())))
    assert client.post(url, body, content_type="application/json", **fresh).status_code == 401
    # other spellings of the same signature are the same request (the review replayed it so)
    hexed = captured["HTTP_X_KEFU_SIGNATURE"].removeprefix("v2=")
    for spelling in (f"v2={hexed.upper()}", f"v2= {hexed}", f"v2={hexed[:10].upper()}{hexed[10:]} "):
        again = client.post(
            url, body, content_type="application/json", **dict(captured, HTTP_X_KEFU_SIGNATURE=spelling)
        )
        assert again.status_code == 409, spelling
    odd = dict(captured, HTTP_X_KEFU_SIGNATURE="v2=\u00e9" + hexed[1:])
    assert client.post(url, body, content_type="application/json", **odd).status_code == 401  # was a 500
    # the body-only form: refused, unless the transition date is set and not past
    legacy = {
        "HTTP_X_KEFU_SIGNATURE": "sha256=" + hmac.new(channel.secret.encode(), body, hashlib.sha256).hexdigest(),
        "HTTP_X_KEFU_TIMESTAMP": str(int(time.time())),
    }
    refused = client.post(url, body, content_type="application/json", **legacy)
    assert refused.status_code == 401 and "v2" in refused.json()["error"]["message"]
    settings.KEFU_WEBHOOK_LEGACY_UNTIL = (clock.today() + dt.timedelta(days=30)).isoformat()
    assert client.post(url, body, content_type="application/json", **legacy).json()["duplicates"] == 1
    assert client.post(url, body, content_type="application/json", **legacy).status_code == 409
    settings.KEFU_WEBHOOK_LEGACY_UNTIL = (clock.today() - dt.timedelta(days=1)).isoformat()
    assert client.post(url, body, content_type="application/json", **legacy).status_code == 401
    # a declared length past the limit is refused before the body is read
    from kefu.desk import api

    read: list[int] = []

    class Stream:
        def read(self, n: int = -1) -> bytes:
            read.append(n)
            return b""

    from django.test import RequestFactory

    request = RequestFactory().post(url, b"{}", content_type="application/json", **_signed(channel, b"{}"))
    request.META["CONTENT_LENGTH"] = str(api.MAX_BODY + 1)
    request._stream = Stream()  # type: ignore[attr-defined]
    big = client.post(
        url, b"x" * 10, content_type="application/json", CONTENT_LENGTH=str(api.MAX_BODY + 1), **_signed(channel, b"x")
    )
    assert big.status_code == 413
    with pytest.raises(Exception) as refused_early:
        api.webhook(request, "taobao")
    assert getattr(refused_early.value, "status", None) == 413 and read == []


def test_routing_follows_the_buyers_latest_order_and_the_lightest_online_agent(world: World) -> None:
    presales = _online(world.agent_a)
    second = StaffFactory(position="presales", team=world.team_a, user=UserFactory(username="agent_a2"))
    services.presence_set(actor=second.user, state="online")
    aftersales_user = UserFactory(username="after_a")
    after = StaffFactory(position="aftersales", team=world.team_a, user=aftersales_user)
    channel = services.channel_default("api")
    actor = SystemActor("t")
    # no order → pre-sales, the online agent with the fewest open conversations
    services.messages_ingest(actor=actor, channel=channel, items=[msg("r1", buyer="newcomer")])
    first = Conversation.objects.get(buyer="newcomer")
    assert (first.queue, first.team, first.owner) == ("presales", world.team_a, presales)
    services.messages_ingest(actor=actor, channel=channel, items=[msg("r2", buyer="another")])
    assert Conversation.objects.get(buyer="another").owner == second  # presales has one already
    routed = Event.objects.for_object(first).get(verb="conversation.routed")
    assert "没有订单" in routed.data["reason"] and presales.name in routed.data["reason"]
    # the buyer's latest order has shipped → after-sales; nobody of that role online → waiting in the queue
    OrderFactory(shop=world.shop_a, buyer_nick="shipped_buyer", customer=None, status=OrderStatus.SHIPPED)
    services.messages_ingest(actor=actor, channel=channel, items=[msg("r3", buyer="shipped_buyer")])
    waiting = Conversation.objects.get(buyer="shipped_buyer")
    assert (waiting.queue, waiting.owner) == ("aftersales", None)
    assert "在队列中等待" in Event.objects.for_object(waiting).get(verb="conversation.routed").data["reason"]
    # the after-sales agent comes online and picks it up
    services.presence_set(actor=aftersales_user, state="online")
    waiting.refresh_from_db()
    assert waiting.owner == after


def test_a_delivery_of_new_buyers_is_routed_as_if_one_by_one(world: World) -> None:
    """Routing a batch counts each conversation given towards its agent's load for the next, and
    each decision keeps its own reason; the batch costs a handful of queries, not a few per buyer."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first = _online(world.agent_a)
    second = StaffFactory(position="presales", team=world.team_a, user=UserFactory(username="agent_a2"))
    services.presence_set(actor=second.user, state="online")
    OrderFactory(shop=world.shop_a, buyer_nick="buyer_3", customer=None, status=OrderStatus.SHIPPED, order_no="77001")
    channel = services.channel_default("api")
    items = [msg(f"b{i}", buyer=f"buyer_{i}") for i in range(5)]
    services.messages_ingest(actor=SystemActor("t"), channel=channel, items=items[:1])
    with CaptureQueriesContext(connection) as ctx:
        services.messages_ingest(actor=SystemActor("t"), channel=channel, items=items[1:])
    conversations = {c.buyer: c for c in Conversation.objects.filter(buyer__startswith="buyer_")}
    presales = [conversations[f"buyer_{i}"] for i in (0, 1, 2, 4)]
    # one by one: 0 → first (both idle), 1 → second (first has one), 2 → first, 4 → second
    assert [c.owner for c in presales] == [first, second, first, second]
    assert (conversations["buyer_3"].queue, conversations["buyer_3"].owner) == ("aftersales", None)
    reason = Event.objects.for_object(conversations["buyer_3"]).get(verb="conversation.routed").data["reason"]
    assert "77001" in reason and "在队列中等待" in reason
    assert Event.objects.filter(verb="conversation.opened").count() == 5
    # no more queries for twice as many new buyers
    with CaptureQueriesContext(connection) as more:
        services.messages_ingest(
            actor=SystemActor("t"), channel=channel, items=[msg(f"c{i}", buyer=f"other_{i}") for i in range(8)]
        )
    assert len(more.captured_queries) <= len(ctx.captured_queries)  # (the first batch also had an after-sales pool)


def test_reply_answers_the_round_once_per_key_and_transfer_keeps_the_thread(world: World) -> None:
    _online(world.agent_a)
    channel = services.channel_default("api")
    services.messages_ingest(actor=SystemActor("t"), channel=channel, items=[msg("t1", buyer="buyer_x")])
    conv = Conversation.objects.get(buyer="buyer_x")
    assert conv.waiting_since is not None and conv.status.category == "waiting"
    agent = Client()
    agent.login(username="agent_a", password=PASSWORD)
    for _ in range(2):  # a double click
        r = agent.post(f"/desk/{conv.pk}/reply/", {"text": "亲,在的", "idempotency_key": "k-1"})
        assert r.status_code == 302
    assert Message.objects.filter(conversation=conv, direction="out").count() == 1
    conv.refresh_from_db()
    assert conv.waiting_since is None and conv.status.category == "answered"
    page = agent.get(f"/desk/{conv.pk}/").content.decode()
    assert "亲,在的" in page and "在吗" in page
    lead = Client()
    lead.login(username="lead_a", password=PASSWORD)
    colleague = StaffFactory(position="presales", team=world.team_a)
    assert lead.post(f"/desk/{conv.pk}/transfer/", {"staff": colleague.pk, "note": "熟悉此款"}).status_code == 302
    conv.refresh_from_db()
    assert conv.owner == colleague
    note = Message.objects.get(conversation=conv, direction="note")
    assert colleague.name in note.text and "熟悉此款" in note.text
    assert Message.objects.filter(conversation=conv).count() == 3  # the thread stays whole
    # the buyer's message, the reply and the note each carry the conversation's shop (the KPIs and
    # the scope read messages by it)
    assert sorted(Message.objects.filter(conversation=conv).values_list("shop_id", flat=True)) == [conv.shop_id] * 3
    # another team's agent: the conversation, its reply and transfer are "not found"
    other = Client()
    other.login(username="agent_b", password=PASSWORD)
    assert other.get(f"/desk/{conv.pk}/").status_code == 404
    assert other.post(f"/desk/{conv.pk}/reply/", {"text": "x"}).status_code == 404
    # an id of another team's staff in the transfer body is refused too
    assert (
        lead.post(f"/desk/{conv.pk}/transfer/", {"staff": Staff.objects.get(user=world.agent_b).pk}).status_code == 404
    )
    # a technician of the same team does not answer buyers: refused, the owner stays
    tech = StaffFactory(team=Staff.objects.get(user=world.agent_a).team, position="technician")
    owner = Conversation.objects.get(pk=conv.pk).owner_id
    lead.post(f"/desk/{conv.pk}/transfer/", {"staff": tech.pk})
    assert Conversation.objects.get(pk=conv.pk).owner_id == owner


def test_live_stream_sends_a_new_message_to_an_open_conversation(world: World) -> None:
    channel = services.channel_default("api")
    services.messages_ingest(actor=SystemActor("t"), channel=channel, items=[msg("s1", buyer="live")])
    conv = Conversation.objects.get(buyer="live")
    first = Message.objects.get(external_id="s1")
    services.messages_ingest(
        actor=SystemActor("t"),
        channel=channel,
        items=[msg("s2", buyer="live", at="2026-11-10T10:12:00+08:00", text="<b>还有吗</b>")],
    )
    agent = Client()
    agent.login(username="agent_a", password=PASSWORD)
    r = agent.get(f"/desk/stream/?conversation={conv.pk}&after={first.pk}")
    assert r["Content-Type"] == "text/event-stream"
    chunks = iter(r.streaming_content)
    rows: list[str] = []
    while not any("还有吗" in row for row in rows):
        # (a reopened stream may send the last 30 s again: the page skips rows it already has)
        text = next(chunks).decode()
        rows += [json.loads(e.split("data: ")[-1])["html"] for e in text.split("\n\n") if "event: message" in e]
    assert any("&lt;b&gt;还有吗&lt;/b&gt;" in row for row in rows)  # text, never HTML
    # (not closed here: closing fires request_finished, which would close the test's own connection)
    other = Client()
    other.login(username="agent_b", password=PASSWORD)
    assert other.get(f"/desk/stream/?conversation={conv.pk}").status_code == 404


def test_one_payment_converts_once_for_the_agent_of_the_last_consultation(world: World) -> None:
    """R-DESK-3 (clarified). Buyer "twoday" asks agent A on 11-10 (answered) and agent B on 11-11
    (answered), and pays ¥199.00 on 11-11 at 15:00. 11-10: A consulted 1 buyer, paid 0; 11-11: B
    consulted 1, paid 1, sales 199.00 — before, both days (both agents) were credited the sale."""
    a = Staff.objects.get(user=world.agent_a)
    b = StaffFactory(team=world.team_a, position="presales", employee_no="B01")
    channel = services.channel_default("api")
    items = [
        msg("t1", buyer="twoday", at="2026-11-10T10:00:00+08:00"),
        msg("t2", buyer="twoday", direction="out", agent=a.employee_no, at="2026-11-10T10:01:00+08:00"),
        msg("t3", buyer="twoday", at="2026-11-11T14:00:00+08:00"),
        msg("t4", buyer="twoday", direction="out", agent=b.employee_no, at="2026-11-11T14:02:00+08:00"),
    ]
    services.messages_ingest(actor=SystemActor("t"), channel=channel, items=items)
    OrderFactory(
        shop=world.shop_a,
        buyer_nick="twoday",
        customer=None,
        paid_amount="199.00",
        paid_at=dt.datetime(2026, 11, 11, 15, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))),
    )
    lead = Client()
    lead.login(username="lead_a", password=PASSWORD)

    def row(day: str, employee_no: str) -> dict[str, Any]:
        agents = lead.get(f"/api/v1/desk/kpis?date={day}").json()["agents"]
        return next(r for r in agents if r["employee_no"] == employee_no)

    first, second = row("2026-11-10", a.employee_no), row("2026-11-11", b.employee_no)
    assert (first["consulted_buyers"], first["paid_buyers"], first["sales"]) == (1, 0, "0.00")
    assert (second["consulted_buyers"], second["paid_buyers"], second["sales"]) == (1, 1, "199.00")


def test_kpis_through_the_pipeline_match_the_platform_example(world: World) -> None:
    agent = Staff.objects.get(user=world.agent_a)
    channel = services.channel_default("api")
    items = [
        msg("k1", buyer="kb", at="2026-11-10T10:10:15+08:00"),
        msg("k2", buyer="kb", at="2026-11-10T10:15:20+08:00"),
        msg("k3", buyer="kb", direction="out", agent=agent.employee_no, at="2026-11-10T10:18:10+08:00"),
        msg("k4", buyer="kb", at="2026-11-10T10:18:30+08:00"),
        msg("k5", buyer="kb", direction="out", kind="auto", at="2026-11-10T10:18:31+08:00"),
        msg("k6", buyer="kb", direction="out", agent=agent.employee_no, at="2026-11-10T10:19:00+08:00"),
    ]
    for item in reversed(items):  # any arrival order
        services.messages_ingest(actor=SystemActor("t"), channel=channel, items=[item])
    OrderFactory(
        shop=world.shop_a,
        buyer_nick="kb",
        customer=None,
        paid_amount="199.00",
        paid_at=dt.datetime(2026, 11, 10, 11, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))),
    )
    lead = Client()
    lead.login(username="lead_a", password=PASSWORD)
    r = lead.get("/api/v1/desk/kpis?date=2026-11-10")
    assert r.status_code == 200, r.content
    row = r.json()["agents"][0]
    assert row["employee_no"] == agent.employee_no
    assert (row["rounds"], row["answered_3min"], row["response_3min_rate"]) == (2, 1, "0.5000")
    assert (row["first_response_seconds"], row["avg_response_seconds"]) == ("475.00", "252.50")
    assert (row["consulted_buyers"], row["paid_buyers"], row["conversion_rate"], row["sales"]) == (
        1,
        1,
        "1.0000",
        "199.00",
    )
    assert r.json()["total"]["rounds"] == 2
    assert lead.get("/api/v1/desk/kpis?date=2026-13-40").status_code == 400
    assert lead.get(f"/api/v1/desk/kpis?date=2026-11-10&shop={world.shop_b.pk}").status_code == 404
    page = lead.get("/desk/kpis/?date=2026-11-10").content.decode()
    assert "50.0%" in page and agent.name in page
    assert 'data-testid="distribution"' in page and 'data-testid="trend"' in page
    # the trend per agent follows the filters (the review: the chart ignored the shop)
    from kefu.desk import selectors

    trend = selectors.rate_trend(actor=world.lead_a, last=dt.date(2026, 11, 10), shop=world.shop_a.pk)
    assert [no for no, _cells in trend.agents] == [agent.employee_no]
    assert trend.agents[0][1][-1]["rounds"] == 2 and trend.days[-1]["rounds"] == 2
    other_shop = ShopFactory(name="亿境", code="yj")
    world.team_a.shops.add(other_shop)  # the same team, no conversations
    elsewhere = selectors.rate_trend(actor=world.lead_a, last=dt.date(2026, 11, 10), shop=other_shop.pk)
    assert elsewhere.agents == [] and elsewhere.days[-1]["rounds"] == 0
    assert 'data-testid="agent-trend"' in page and "11-10" in page
    import io

    import openpyxl

    export = lead.get("/desk/kpis/?date=2026-11-10&export=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(export.content)).worksheets[0]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[1][1] == agent.employee_no and float(values[1][5]) == 0.5  # a number, not text


def test_chat_log_import_reports_bad_lines_and_is_idempotent(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "chats.jsonl"
    lines = [
        json.dumps(msg("c1", buyer="log")),
        "{not json",
        json.dumps(msg("c2", buyer="log", shop="nowhere")),
        json.dumps(msg("c3", buyer="log")),
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(SystemExit):
        call_command("kefu_import", "chats", str(path), "--json")
    summary = json.loads(capsys.readouterr().out)
    assert (summary["created"], summary["duplicates"]) == (2, 0)
    assert [f["line"] for f in summary["failed"]] == [2, 3]
    with pytest.raises(SystemExit):
        call_command("kefu_import", "chats", str(path), "--json")
    again = json.loads(capsys.readouterr().out)
    assert (again["created"], again["duplicates"]) == (0, 2)


def test_the_board_flags_an_online_agent_whose_buyer_waits_too_long(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kefu.core import clock

    _online(world.agent_a)
    channel = services.channel_default("api")
    now = clock.now()
    services.messages_ingest(
        actor=SystemActor("t"),
        channel=channel,
        items=[msg("i1", buyer="impatient", at=(now - dt.timedelta(minutes=11)).isoformat())],
    )
    lead = Client()
    lead.login(username="lead_a", password=PASSWORD)
    page = lead.get("/desk/board/").content.decode()
    assert 'data-testid="idle-flag"' in page
    services.presence_set(actor=world.agent_a, state="offline")
    assert 'data-testid="idle-flag"' not in lead.get("/desk/board/").content.decode()
    assert Presence.objects.get(staff__user=world.agent_a).state == "offline"
    agent = Client()
    agent.login(username="agent_a", password=PASSWORD)
    assert agent.get("/desk/board/").status_code == 403


@pytest.mark.django_db(transaction=True)
@pytest.mark.many_connections
@pytest.mark.parametrize("queued", [False, True], ids=["placed-inline", "placed-by-worker"])
def test_a_hundred_concurrent_redeliveries_store_one_message(world: World, settings: Any, queued: bool) -> None:
    """On PostgreSQL 100 signed deliveries of the same message run at once (80 connections at a
    time); SQLite serialises them. Either way: one message, one conversation, 99 duplicates, no 5xx
    — whether each request places what it accepted or the worker (woken after each commit; huey
    runs it at once in tests, so the jobs race each other too) does."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection, connections

    settings.KEFU_DESK_QUEUED = queued
    channel = services.channel_create(actor=world.supervisor, code="taobao", name="千牛")
    body = json.dumps({"messages": [msg("dup-1", buyer="racer")]}).encode()

    now = time.time()

    def deliver(n: int) -> tuple[int, int, int]:
        try:  # each redelivery signed afresh (the same signed request twice is a replay: 409)
            signed = _signed(channel, body, stamp=now - n)
            r = Client().post("/api/v1/desk/webhook/taobao", body, content_type="application/json", **signed)
            data = r.json() if r.status_code == 200 else {"created": 0, "duplicates": 0}
            return r.status_code, data["created"], data["duplicates"]
        finally:
            connections.close_all()

    if connection.vendor == "postgresql":
        with ThreadPoolExecutor(max_workers=80) as pool:
            results = [f.result(60) for f in [pool.submit(deliver, n) for n in range(100)]]
    else:
        results = [deliver(n) for n in range(100)]
    assert {status for status, _c, _d in results} == {200}
    assert sum(c for _s, c, _d in results) == 1 and sum(d for _s, _c, d in results) == 99
    assert services.messages_place_pending() == 0  # nothing was left waiting
    assert Message.objects.filter(external_id="dup-1").count() == 1
    assert Conversation.objects.filter(buyer="racer").count() == 1
    assert Event.objects.filter(verb="conversation.opened").count() == 1


def _new_visitor(client: Client, url: str) -> str:
    issued = client.post(url + "?new=visitor", HTTP_ORIGIN="https://hdc.example")
    assert issued.status_code == 200, issued.content
    return str(issued.json()["visitor"])


def test_widget_visitors_are_issued_by_the_server_and_enumerating_ids_reads_nothing(world: World) -> None:
    """Issue 16 §1: identities were 32 bits of a hash, a colliding pair read another visitor's
    phone and address. Now 128 server-issued random bits with a tag: a guessed, made-up or
    other-channel identity reads nothing, the history is rate-limited, and the buyer names
    agents see are 128-bit and distinct."""
    from kefu.desk.widget import visitor_issue, visitor_name, visitor_valid

    _widget(world)
    _widget(world, code="hdc-2", name="2")
    client = Client()
    url = "/desk/widget/hdc-web/messages"
    alice = _new_visitor(client, url)
    raw, tag = alice.split(".")
    assert len(raw) == 32 and int(raw, 16) >= 0  # 128 bits
    assert (
        client.post(
            url,
            json.dumps({"visitor": alice, "text": "电话13800001111"}),
            content_type="application/json",
            HTTP_ORIGIN="https://hdc.example",
        ).status_code
        == 200
    )
    assert visitor_valid("hdc-web", alice) and not visitor_valid("hdc-2", alice)  # bound to its channel
    assert len(visitor_name(alice)) == len("访客-") + 26  # 128 bits in base32
    names = {visitor_name(visitor_issue("hdc-web")) for _ in range(2000)}
    assert len(names) == 2000
    # an enumerator tries made-up identities, a flipped tag, the old 32-bit style and another channel's
    forged = [
        f"{raw}.{'0' * 32}",
        f"{raw[:-1]}{'1' if raw[-1] != '1' else '2'}.{tag}",
        "v-" + "a" * 30,
        visitor_issue("hdc-2"),
        alice.upper(),
        alice + "0",
    ]
    forged += [f"{i:032x}.{i:032x}" for i in range(40)]
    read = []
    for visitor in forged:
        r = client.get(url, {"visitor": visitor}, HTTP_ORIGIN="https://hdc.example")
        assert r.status_code in (400, 429), (visitor, r.status_code)
        read += r.json().get("messages", [])
        post = client.post(
            url,
            json.dumps({"visitor": visitor, "text": "x"}),
            content_type="application/json",
            HTTP_ORIGIN="https://hdc.example",
        )
        assert post.status_code in (400, 429)
    assert read == [] and Conversation.objects.count() == 1
    # the history is rate-limited per visitor (the widget polls once a second)
    codes = [client.get(url, {"visitor": alice}, HTTP_ORIGIN="https://hdc.example").status_code for _ in range(130)]
    assert codes.count(200) == 120 and codes.count(429) == 10
    # issuing identities is rate-limited per address
    issued = [client.post(url + "?new=visitor", HTTP_ORIGIN="https://hdc.example").status_code for _ in range(40)]
    assert issued.count(429) >= 10 - 1 and 500 not in issued


def test_a_visitors_thread_shows_only_what_went_through_the_widget(world: World) -> None:
    """Another source (a token push) naming the visitor's buyer name lands in the same conversation
    (one per shop and buyer) but never shows in the visitor's widget; the shop's answer does."""
    from kefu.desk.widget import visitor_name

    _widget(world)
    client = Client()
    url = "/desk/widget/hdc-web/messages"
    alice = _new_visitor(client, url)
    sent = client.post(
        url,
        json.dumps({"visitor": alice, "text": "在吗"}),
        content_type="application/json",
        HTTP_ORIGIN="https://hdc.example",
    )
    assert sent.status_code == 200
    services.messages_ingest(
        actor=SystemActor("t"),
        channel=services.channel_default("api"),
        items=[msg("inj1", buyer=visitor_name(alice), text="请点击链接领取退款")],
    )
    conversation = Conversation.objects.get(buyer=visitor_name(alice))
    assert conversation.messages.count() == 2  # the agents see both
    widget = Channel.objects.get(code="hdc-web")
    Message.objects.create(
        conversation=conversation,
        shop=conversation.shop,
        channel=widget,
        external_id="reply-1",
        direction="out",
        kind="text",
        text="您好,在的",
        sent_at=conversation.last_message_at,
        received_at=conversation.last_message_at,
    )
    shown = client.get(url, {"visitor": alice}, HTTP_ORIGIN="https://hdc.example").json()["messages"]
    assert [m["text"] for m in shown] == ["在吗", "您好,在的"]


def test_widget_answers_only_its_origins_and_limits_a_visitor(world: World) -> None:
    _widget(world)
    client = Client()
    script = client.get("/desk/widget/hdc-web.js")
    assert script.status_code == 200 and script["Content-Type"].startswith("text/javascript")
    assert client.get("/desk/widget/api.js").status_code == 404  # not a widget channel
    url = "/desk/widget/hdc-web/messages"
    visitor = _new_visitor(client, url)
    body = json.dumps({"visitor": visitor, "text": "你好"})
    evil = client.post(url, body, content_type="application/json", HTTP_ORIGIN="https://evil.example")
    assert evil.status_code == 403 and "Access-Control-Allow-Origin" not in evil
    ok = client.post(url, body, content_type="application/json", HTTP_ORIGIN="https://hdc.example")
    assert ok.status_code == 200 and ok["Access-Control-Allow-Origin"] == "https://hdc.example"
    history = client.get(url, {"visitor": visitor}, HTTP_ORIGIN="https://hdc.example").json()["messages"]
    assert [m["text"] for m in history] == ["你好"]
    other = _new_visitor(client, url)
    assert client.get(url, {"visitor": other}, HTTP_ORIGIN="https://hdc.example").json()["messages"] == []
    assert client.post(url, "{", content_type="application/json", HTTP_ORIGIN="https://hdc.example").status_code == 400
    bad_id = json.dumps({"visitor": "x", "text": "hi"})
    assert (
        client.post(url, bad_id, content_type="application/json", HTTP_ORIGIN="https://hdc.example").status_code == 400
    )
    codes = [
        client.post(
            url,
            json.dumps({"visitor": visitor, "text": f"m{i}"}),
            content_type="application/json",
            HTTP_ORIGIN="https://hdc.example",
        ).status_code
        for i in range(25)
    ]
    assert codes.count(429) >= 5 and 500 not in codes


def test_canned_replies_are_proposed_by_agents_approved_by_the_lead_and_found_by_any_part(world: World) -> None:
    from kefu.desk.models import Script

    agent = Client()
    agent.login(username="agent_a", password=PASSWORD)
    body = {"shop": world.shop_a.pk, "category": "物流", "title": "发货时间", "text": "亲,今天16点前下单当天发货"}
    assert agent.post("/desk/scripts/", body).status_code == 302
    script = Script.objects.get(title="发货时间")
    assert script.status == "proposed"
    # an agent cannot approve; the proposal stays proposed
    agent.post("/desk/scripts/", {"script": script.pk, "decision": "approve"})
    script.refresh_from_db()
    assert script.status == "proposed"
    lead = Client()
    lead.login(username="lead_a", password=PASSWORD)
    assert "发货时间" in lead.get("/desk/scripts/").content.decode()  # in the lead's approval list
    lead.post("/desk/scripts/", {"script": script.pk, "decision": "approve"})
    script.refresh_from_db()
    assert script.status == "approved" and script.approved_by.user == world.lead_a
    # found by a fragment of the text (no word splitting), only in the shop's scope
    pick = agent.get("/desk/scripts/pick/", {"shop": world.shop_a.pk, "q": "16点前"}).content.decode()
    assert "发货时间" in pick and "Alt+1" in pick
    other = Client()
    other.login(username="agent_b", password=PASSWORD)
    assert "发货时间" not in other.get("/desk/scripts/pick/", {"q": "16点前"}).content.decode()
    assert other.post("/desk/scripts/", {"script": script.pk, "decision": "retire"}).status_code == 404
    assert agent.post(f"/desk/scripts/{script.pk}/use/").status_code == 204
    script.refresh_from_db()
    assert script.uses == 1


def test_a_question_answered_later_can_become_a_canned_reply_and_follow_ups_have_owners_and_due_times(
    world: World,
) -> None:
    from kefu.desk.models import FollowUp, Question, Script

    _online(world.agent_a)
    services.messages_ingest(
        actor=SystemActor("t"), channel=services.channel_default("api"), items=[msg("q1", buyer="qb")]
    )
    conv = Conversation.objects.get(buyer="qb")
    agent = Client()
    agent.login(username="agent_a", password=PASSWORD)
    agent.post("/desk/questions/", {"conversation": conv.pk, "question": "这款能用在110V吗"})
    question = Question.objects.get()
    assert (question.shop, question.buyer, question.answered_at) == (world.shop_a, "qb", None)
    lead = Client()
    lead.login(username="lead_a", password=PASSWORD)
    lead.post("/desk/questions/", {"question_id": question.pk, "answer": "不支持110V,仅限220V", "promote": "1"})
    question.refresh_from_db()
    assert question.answer.startswith("不支持") and question.script is not None
    assert Script.objects.get(pk=question.script_id).status == "approved"  # the lead's answer is approved at once
    # answering twice is refused (the first answer stays)
    lead.post("/desk/questions/", {"question_id": question.pk, "answer": "别的答案"})
    question.refresh_from_db()
    assert question.answer.startswith("不支持")
    from kefu.core import clock

    tomorrow = (clock.today() + dt.timedelta(days=1)).isoformat()
    r = agent.post(
        "/desk/followups/",
        {
            "conversation": conv.pk,
            "problem": "补发配件",
            "request": "尽快",
            "due_at": f"{tomorrow}T10:00",
            "order_no": "X1",
        },
    )
    assert r.status_code == 302
    item = FollowUp.objects.get()
    assert (item.buyer, item.owner.user, item.order_no) == ("qb", world.agent_a, "X1")
    assert item.due_at.isoformat().startswith(f"{tomorrow}T02:00")  # entered in local time (+08:00)
    for bad in (
        {"due_at": "9999-99-99"},
        {"due_at": "2001-01-01T10:00"},  # in the past
        {"due_at": f"{tomorrow}T10:00", "purchase_date": "2026-02-30"},  # not a date: said, not dropped
    ):
        r = agent.post("/desk/followups/", {"conversation": conv.pk, "problem": "x", **bad}, follow=True)
        assert r.status_code == 200
    assert FollowUp.objects.count() == 1  # a bad due time or date is a message, not a row
    agent.post("/desk/followups/", {"followup": item.pk, "outcome": "已补发"})
    item.refresh_from_db()
    assert item.outcome == "已补发" and item.done_at is not None
    other = Client()
    other.login(username="agent_b", password=PASSWORD)
    assert other.post("/desk/followups/", {"followup": item.pk, "outcome": "x"}).status_code == 404
    assert other.post("/desk/questions/", {"question_id": question.pk, "answer": "x"}).status_code == 404


def test_stored_kpi_days_give_the_same_figures_and_a_late_message_makes_its_day_stale(world: World) -> None:
    from kefu.desk import selectors
    from kefu.desk.models import KpiDay

    agent = Staff.objects.get(user=world.agent_a)
    channel = services.channel_default("api")
    items = [
        msg("d1", buyer="kd", at="2026-11-10T10:10:15+08:00"),
        msg("d2", buyer="kd", direction="out", agent=agent.employee_no, at="2026-11-10T10:12:10+08:00"),
        msg("d3", buyer="kd2", at="2026-11-11T09:00:00+08:00"),
        msg("d4", buyer="kd2", direction="out", agent=agent.employee_no, at="2026-11-11T09:07:00+08:00"),
    ]
    services.messages_ingest(actor=SystemActor("t"), channel=channel, items=items)
    first, last = dt.date(2026, 11, 10), dt.date(2026, 11, 11)
    live = selectors.kpis_period(actor=world.supervisor, first=first, last=last).total.as_dict()
    for day in (first, last):
        services.kpi_rollup(day=day)
    assert KpiDay.objects.filter(stale=False).count() == 4  # two days × two shops
    stored = selectors.kpis_period(actor=world.supervisor, first=first, last=last).total.as_dict()
    assert stored == live and (live["rounds"], live["answered_3min"]) == (2, 1)
    # a late message of the 10th: that day's stored figures are stale and the period is live again
    late = msg("d5", buyer="kd", at="2026-11-10T11:00:00+08:00")
    services.messages_ingest(actor=SystemActor("t"), channel=channel, items=[late])
    assert KpiDay.objects.get(day=first, shop=world.shop_a).stale
    assert selectors.kpis_period(actor=world.supervisor, first=first, last=last).total.rounds == 3
    assert services.kpi_rollup_due(days_back=0) == 1  # the worker recomputes the stale day
    assert not KpiDay.objects.filter(stale=True).exists()
    # a payment recorded after the days were stored (the review: conversion never picked it up):
    # buyer kd2 consulted on the 11th and pays on the 13th, inside the policy's window
    from kefu.commerce.services import orders_push

    stored = selectors.kpis_period(actor=world.supervisor, first=last, last=last).total
    assert (stored.consulted_buyers, stored.paid_buyers) == (1, 0)
    order = {
        "order_no": "KP-1",
        "buyer_nick": "kd2",
        "ordered_at": "2026-11-13T09:00:00+08:00",
        "paid_at": "2026-11-13T09:05:00+08:00",
        "paid_amount": "88.00",
        "status": "WAIT_SELLER_SEND_GOODS",
    }
    summary = orders_push(actor=world.supervisor, shop=world.shop_a, orders=[order])
    assert summary.created == 1, summary.as_dict()
    assert KpiDay.objects.get(day=last, shop=world.shop_a).stale
    paid = selectors.kpis_period(actor=world.supervisor, first=last, last=last).total
    assert (paid.paid_buyers, paid.sales) == (1, Decimal("88.00"))
    services.kpi_rollup_due(days_back=0)
    assert selectors.kpis_period(actor=world.supervisor, first=last, last=last).total.paid_buyers == 1
    # a correction moves the payment out of the window (the review: only the new time was looked at)
    moved = {**order, "paid_at": "2026-11-28T09:05:00+08:00"}
    assert orders_push(actor=world.supervisor, shop=world.shop_a, orders=[moved]).updated == 1
    assert selectors.kpis_period(actor=world.supervisor, first=last, last=last).total.paid_buyers == 0
    services.kpi_rollup_due(days_back=0)
    back = {**order, "buyer_nick": "someone_else"}  # paid in the window again, but by another buyer
    orders_push(actor=world.supervisor, shop=world.shop_a, orders=[back])
    assert selectors.kpis_period(actor=world.supervisor, first=last, last=last).total.paid_buyers == 0


def test_the_daily_summary_page_and_its_robot_message_once_per_shift(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kefu.core import clock
    from kefu.core.models import OutboxMessage
    from kefu.desk.models import Question

    _online(world.agent_a)
    channel = services.channel_default("api")
    services.messages_ingest(
        actor=SystemActor("t"), channel=channel, items=[msg("s1", buyer="sb", at="2026-11-10T10:00:00+08:00")]
    )
    conv = Conversation.objects.get(buyer="sb")
    Question.objects.create(
        shop=world.shop_a,
        conversation=conv,
        question="能开专票吗",
        asked_at="2026-11-10T10:05:00+08:00",
        recorded_by=Staff.objects.get(user=world.agent_a),
    )
    lead = Client()
    lead.login(username="lead_a", password=PASSWORD)
    page = lead.get(f"/desk/summary/?team={world.team_a.pk}&date=2026-11-10").content.decode()
    assert "能开专票吗" in page and 'data-testid="summary-followups"' in page
    assert lead.get(f"/desk/summary/?team={world.team_b.pk}&date=2026-11-10").status_code == 404
    # the day shift ends 17:30: within two hours after it, each team's summary is queued once
    end = dt.datetime(2026, 11, 10, 17, 40, tzinfo=clock.local_tz())
    first = services.daily_summaries_due(now=end)
    again = services.daily_summaries_due(now=end + dt.timedelta(minutes=10))
    assert len(first) == 2 and again == []
    texts = list(OutboxMessage.objects.filter(kind="desk.daily_summary").values_list("payload", flat=True))
    assert any("疑难问题 1" in p["text"] for p in texts)
    assert services.daily_summaries_due(now=dt.datetime(2026, 11, 10, 12, 0, tzinfo=clock.local_tz())) == []


def test_review_findings_malformed_ids_future_times_and_foreign_agents(world: World) -> None:
    from kefu.desk.models import Question

    agent = Client()
    agent.login(username="agent_a", password=PASSWORD)
    for bad in ("abc", "1.5", "nan", "9" * 20):
        r = agent.post("/desk/questions/", {"conversation": bad, "shop": world.shop_a.pk, "question": "x"})
        assert r.status_code == 404, bad
        r = agent.post("/desk/followups/", {"conversation": bad, "problem": "x", "due_at": "2026-12-01T10:00"})
        assert r.status_code == 404, bad
    assert not Question.objects.exists()
    staff_b = Staff.objects.get(user=world.agent_b)  # serves the other team's shop
    channel = services.channel_default("api")
    result = services.messages_ingest(
        actor=SystemActor("t"),
        channel=channel,
        items=[
            msg("f1", at="2030-01-01T10:00:00+08:00"),
            msg("f2", direction="out", agent=staff_b.employee_no),
            msg("f3"),
        ],
    )
    assert result.created == 1 and [f["index"] for f in result.failed] == [0, 1]
    assert staff_b.employee_no in result.failed[1]["reason"] and "不负责这个店铺" in result.failed[1]["reason"]


def test_the_worker_places_accepted_messages_and_a_late_redelivery_stays_a_duplicate(
    world: World, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Production shape (ADR 0013): the request only accepts; one job, woken after commit, builds
    the conversations from messages in any order; a redelivery after the accept table is pruned is
    still counted as a duplicate, from the stored message."""
    from kefu.desk.models import InboundMessage

    settings.KEFU_DESK_QUEUED = True
    channel = services.channel_default("api")
    agent = Staff.objects.get(user=world.agent_a).employee_no
    items = [
        msg("q2", buyer="queued", at="2026-11-10T10:12:00+08:00"),
        msg("q1", buyer="queued", at="2026-11-10T10:10:00+08:00"),
        msg("q3", buyer="queued", direction="out", agent=agent, at="2026-11-10T10:11:00+08:00"),
    ]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = services.messages_ingest(actor=SystemActor("t"), channel=channel, items=items)
    assert result.as_dict() == {"created": 3, "duplicates": 0, "failed": []}
    assert not Conversation.objects.filter(buyer="queued").exists()  # accepted, not yet placed
    assert InboundMessage.objects.filter(placed_at__isnull=True).count() == 3
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks(execute=True):
        callbacks[0]()  # the wake-up: huey runs the job at once in tests
    conversation = Conversation.objects.get(buyer="queued")
    assert conversation.message_count == 3
    assert conversation.waiting_since is not None and conversation.waiting_since.minute == 12
    assert InboundMessage.objects.filter(placed_at__isnull=True).count() == 0
    # a second wake-up while nothing waits places nothing
    assert services.messages_place_pending() == 0
    again = services.messages_ingest(actor=SystemActor("t"), channel=channel, items=[items[1]])
    assert (again.created, again.duplicates) == (0, 1)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=InboundMessage.KEEP_DAYS + 1)
    assert services.inbound_prune(now=later) == 3
    assert not InboundMessage.objects.exists()
    again = services.messages_ingest(actor=SystemActor("t"), channel=channel, items=items)
    assert (again.created, again.duplicates) == (0, 3)
    assert Message.objects.filter(conversation=conversation).count() == 3


def test_remembered_channels_and_shops_are_forgotten_when_they_change(
    world: World, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """The pipeline remembers channels and shops for a few seconds per process; a rotated secret,
    a switched-off channel or a shop newly served by a team takes effect here at once."""
    from kefu.org.services import shop_create

    settings.KEFU_MEMORY_SECONDS = 60
    channel = services.channel_create(actor=world.supervisor, code="cached", name="缓存")
    body = json.dumps({"messages": [msg("c1")]}).encode()
    client = Client()

    def post(secret: str | None = None) -> int:
        return client.post(
            "/api/v1/desk/webhook/cached",
            body,
            content_type="application/json",
            **_signed(channel, body, secret=secret),
        ).status_code

    assert post() == 200
    old = channel.secret
    with django_capture_on_commit_callbacks(execute=True):
        channel = services.channel_update(
            actor=world.supervisor, channel=channel, name="缓存", active=True, origins=[], rotate_secret=True
        )
    assert post(secret=old) == 401
    assert post() == 200
    with django_capture_on_commit_callbacks(execute=True):
        services.channel_update(actor=world.supervisor, channel=channel, name="缓存", active=False, origins=[])
    assert post() == 401
    shop = shop_create(actor=SystemActor("t"), name="新店", code="newshop", platform="taobao")
    result = services.messages_ingest(
        actor=SystemActor("t"), channel=services.channel_default("api"), items=[msg("c2", shop="newshop")]
    )
    assert (result.created, result.failed) == (1, [])
    assert Conversation.objects.filter(shop=shop).count() == 1


def test_the_supervisor_rotates_a_secret_and_switches_a_channel_off_from_the_page(world: World) -> None:
    channel = services.channel_create(actor=world.supervisor, code="page", name="页面")
    boss = Client()
    boss.login(username="boss", password=PASSWORD)
    r = boss.post(
        "/desk/channels/", {"channel": channel.pk, "name": "千牛", "active": "1", "origins": "", "rotate": "1"}
    )
    assert r.status_code in (200, 302), r.content[:300]
    after = Channel.objects.get(pk=channel.pk)
    assert (after.name, after.active) == ("千牛", True) and after.secret != channel.secret
    boss.post("/desk/channels/", {"channel": channel.pk, "name": "千牛", "origins": ""})
    assert Channel.objects.get(pk=channel.pk).active is False
    assert Event.objects.filter(verb="channel.updated").count() == 2


def test_the_remark_builder_on_the_conversation_page_returns_to_it(world: World) -> None:
    services.messages_ingest(
        actor=SystemActor("t"),
        channel=services.channel_default("api"),
        items=[msg("rm1", buyer=world.order_a.buyer_nick)],
    )
    conv = Conversation.objects.get(buyer=world.order_a.buyer_nick)
    agent = Client()
    agent.login(username="agent_a", password=PASSWORD)
    page = agent.get(f"/desk/{conv.pk}/").content.decode()
    assert 'data-testid="remark-form"' in page and 'data-testid="conversation-knowledge"' in page
    body = {"shipping": "顺丰", "gift": "贺卡", "special": "周末送货", "next": f"/desk/{conv.pk}/"}
    r = agent.post(f"/orders/{world.order_a.pk}/remark/", body)
    assert r.status_code == 302 and r["Location"] == f"/desk/{conv.pk}/"
    world.order_a.refresh_from_db()
    assert world.order_a.memo.startswith("顺丰,贺卡,周末送货,")
    r = agent.post(f"/orders/{world.order_a.pk}/remark/", body | {"next": "https://evil.example/"})
    assert r["Location"] == f"/orders/{world.order_a.pk}/"  # never sent off-site


def test_a_nul_in_one_message_fails_that_message_only(world: World) -> None:
    channel = services.channel_create(actor=world.supervisor, code="nul", name="NUL")
    body = json.dumps({"messages": [msg("n1", text="好\u0000的"), msg("n2"), msg("n3", buyer="b\u0000")]}).encode()
    r = Client().post("/api/v1/desk/webhook/nul", body, content_type="application/json", **_signed(channel, body))
    assert r.status_code == 200, r.content
    data = r.json()
    assert data["created"] == 1 and [f["index"] for f in data["failed"]] == [0, 2]
    assert Message.objects.filter(external_id="n2").exists() and not Message.objects.filter(external_id="n1").exists()


def test_a_lone_surrogate_fails_its_message_or_request_never_the_server(world: World) -> None:
    """ "\\ud800" is valid JSON but text no database stores: one bad message in a batch, a 400 from
    the widget (with its CORS headers) and from any other JSON API — never a 500."""
    channel = services.channel_default("api")
    result = services.messages_ingest(
        actor=SystemActor("t"),
        channel=channel,
        items=[msg("s1", text="a\ud800b"), msg("s2"), msg("s3", buyer="\udc00")],
    )
    assert (result.created, [f["index"] for f in result.failed]) == (1, [0, 2])
    services.channel_create(
        actor=world.supervisor,
        code="hdc-w",
        name="w",
        kind="widget",
        shop=world.shop_a,
        origins=["https://hdc.example"],
    )
    from kefu.desk.widget import visitor_issue

    body = b'{"visitor": "%s", "text": "\\ud800"}' % visitor_issue("hdc-w").encode()
    r = Client().post(
        "/desk/widget/hdc-w/messages", body, content_type="application/json", HTTP_ORIGIN="https://hdc.example"
    )
    assert r.status_code == 400 and r["Access-Control-Allow-Origin"] == "https://hdc.example"
    secret = token_create(actor=SystemActor("t"), user=world.supervisor, name="s")
    pushed = Client().post(
        "/api/v1/orders/push",
        b'{"shop": %d, "orders": [{"order_no": "1", "buyer_nick": "\\udc00x"}]}' % world.shop_a.pk,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert pushed.status_code == 400, pushed.content
    for body, content_type in (
        # an escaped backslash before "ud800" hides the lone "\udc00" from any byte-level check
        (b'{"shop": %d, "orders": [{"order_no": "x\\\\ud800\\udc00"}]}' % world.shop_a.pk, "application/json"),
        (b'{"shop": %d, "orders": [{"order_no": "\\ud800"}]}' % world.shop_a.pk, "text/plain"),
    ):
        r = Client().post("/api/v1/orders/push", body, content_type=content_type, HTTP_AUTHORIZATION=f"Bearer {secret}")
        assert r.status_code == 400, (body, r.status_code, r.content[:200])
    pair = Client().post(  # an emoji is a surrogate *pair*: not refused by the guard
        "/api/v1/orders/push",
        b'{"shop": %d, "orders": [], "note": "\\ud83d\\ude00"}' % world.shop_a.pk,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert pair.status_code == 200, pair.content
    from kefu.web.middleware import _LONE_SURROGATE

    assert _LONE_SURROGATE.search(b'"\\ud83d\\ude00"') is None
    assert _LONE_SURROGATE.search(b'"\\ud83d x"') and _LONE_SURROGATE.search(b'"x\\ude00"')


def test_an_accepted_message_stays_accepted_when_placing_it_fails(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from kefu.desk.models import InboundMessage

    def broken(**_kw: Any) -> None:
        raise RuntimeError("routing is down")

    from kefu.desk.services import placement

    monkeypatch.setattr(placement, "_route", broken)
    channel = services.channel_default("api")
    result = services.messages_ingest(actor=SystemActor("t"), channel=channel, items=[msg("p1", buyer="later")])
    assert (result.created, result.failed) == (1, [])  # the sender is told the truth: accepted
    assert "left for the worker" in caplog.text
    assert InboundMessage.objects.filter(external_id="p1", placed_at__isnull=True).exists()
    monkeypatch.undo()
    assert services.messages_place_pending() == 1  # the worker's job places it
    assert Conversation.objects.get(buyer="later").message_count == 1
    again = services.messages_ingest(actor=SystemActor("t"), channel=channel, items=[msg("p1", buyer="later")])
    assert (again.created, again.duplicates) == (0, 1)


def test_two_visitors_reusing_a_message_id_are_two_messages(world: World) -> None:
    _widget(world, code="hdc-v", name="v")
    client = Client()
    for visitor in (
        _new_visitor(client, "/desk/widget/hdc-v/messages"),
        _new_visitor(client, "/desk/widget/hdc-v/messages"),
    ):
        body = json.dumps({"visitor": visitor, "text": "你好", "id": "same-id-123456"})
        r = client.post(
            "/desk/widget/hdc-v/messages", body, content_type="application/json", HTTP_ORIGIN="https://hdc.example"
        )
        assert r.json() == {"created": 1, "duplicates": 0}, r.content


def test_deeply_nested_json_is_a_400_everywhere_and_one_bad_line_in_a_chat_log(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The review sent "[" * 5000 to the widget and the signed webhook: RecursionError, a 500."""
    import base64

    nested = ("[" * 5000 + "]" * 5000).encode()
    _widget(world)
    client = Client(raise_request_exception=False)
    widget = client.post(
        "/desk/widget/hdc-web/messages", nested, content_type="application/json", HTTP_ORIGIN="https://hdc.example"
    )
    assert widget.status_code == 400 and widget.json()["error"]["code"] == "validation_error"
    channel = services.channel_create(actor=world.supervisor, code="taobao", name="千牛")
    hook = client.post(
        "/api/v1/desk/webhook/taobao", nested, content_type="application/json", **_signed(channel, nested)
    )
    assert hook.status_code == 400 and hook.json()["error"]["code"] == "validation_error"
    cursor = base64.urlsafe_b64encode(nested).decode().rstrip("=")
    assert client.login(username="boss", password=PASSWORD)
    assert client.get(f"/api/v1/orders?cursor={cursor}").status_code == 400
    path = tmp_path / "chats.jsonl"
    path.write_bytes(
        b"\n".join(
            [
                json.dumps(msg("n1", buyer="log")).encode(),
                nested,
                b'{"text": "\xff\xfe"}',
                json.dumps(msg("n2")).encode(),
            ]
        )
    )
    with pytest.raises(SystemExit):
        call_command("kefu_import", "chats", str(path), "--json")
    summary = json.loads(capsys.readouterr().out)
    assert summary["created"] == 2 and [f["line"] for f in summary["failed"]] == [2, 3]


def test_a_past_days_summary_names_whose_buyers_waited_past_the_threshold(world: World) -> None:
    """The review: the summary of a past day showed today's live 空挂 state; it now shows the day's
    flags from the timeline."""
    from kefu.core import clock
    from kefu.desk import selectors
    from kefu.workflow.services import deadlines_sweep

    agent = _online(world.agent_a)
    channel = services.channel_default("api")
    services.messages_ingest(
        actor=SystemActor("t"), channel=channel, items=[msg("i1", buyer="idle_b", at="2026-11-10T10:00:00+08:00")]
    )
    assert Conversation.objects.get(buyer="idle_b").owner == agent
    moment = dt.datetime(2026, 11, 10, 11, 0, tzinfo=clock.local_tz())
    with clock.at(moment):
        assert deadlines_sweep(now=moment)["breached"] == 1
    day = selectors.daily_summary(actor=world.lead_a, team=world.team_a, day=dt.date(2026, 11, 10))
    assert [(r["staff"], r["waiting"]) for r in day["idle"]] == [(agent, 1)]
    assert agent.name in selectors.daily_summary_text(day)
    before = selectors.daily_summary(actor=world.lead_a, team=world.team_a, day=dt.date(2026, 11, 9))
    assert before["idle"] == []


def test_the_inbox_puts_waiting_buyers_first_the_longest_wait_on_top(world: World) -> None:
    """Issue 18: the inbox sorted by last message hid a buyer waiting 9 hours among answered chats.
    Buyer "early" asked at 01:00 (unanswered), "later" at 09:30 (unanswered), "done" asked at 09:50
    and was answered at 10:00: the order is early, later, done."""
    agent = Staff.objects.get(user=world.agent_a)
    channel = services.channel_default("api")
    items = [
        msg("w1", buyer="early", at="2026-11-26T01:00:00+08:00"),
        msg("w2", buyer="later", at="2026-11-26T09:30:00+08:00"),
        msg("w3", buyer="done", at="2026-11-26T09:50:00+08:00"),
        msg("w4", buyer="done", direction="out", agent=agent.employee_no, at="2026-11-26T10:00:00+08:00"),
    ]
    services.messages_ingest(actor=SystemActor("t"), channel=channel, items=items)
    page = selectors.inbox(actor=world.supervisor)
    buyers = [c.buyer for c in page.items]
    assert buyers[:3] == ["early", "later", "done"]
    waiting_only = selectors.inbox(actor=world.supervisor, waiting=True)
    assert [c.buyer for c in waiting_only.items] == ["early", "later"]


def test_a_case_opened_from_a_conversation_keeps_its_shop_buyer_and_chat(world: World) -> None:
    """Issue 18: the conversation's "open a case" link passed shop and buyer but the form read only
    the order: the case went to the first shop with no buyer. Now the form is filled from the
    conversation, the case keeps a link to the chat, and a conversation id of another team is
    a foreign id of another shop is dropped."""
    from kefu.aftersales.models import Case

    channel = services.channel_default("api")
    services.messages_ingest(
        actor=SystemActor("t"),
        channel=channel,
        items=[msg("c1", buyer="nobody_ordered", at="2026-11-26T09:00:00+08:00")],
    )
    conv = Conversation.objects.get(buyer="nobody_ordered")
    lead = Client()
    lead.login(username="lead_a", password=PASSWORD)
    page = lead.get(f"/desk/{conv.pk}/").content.decode()
    assert f"conversation={conv.pk}&amp;shop={conv.shop_id}&amp;buyer_nick=nobody_ordered" in page
    form = lead.get(f"/aftersales/new/?conversation={conv.pk}&shop={conv.shop_id}&buyer_nick=nobody_ordered")
    text = form.content.decode()
    assert 'value="nobody_ordered"' in text and f'name="conversation" value="{conv.pk}"' in text
    answer = lead.post(
        "/aftersales/new/",
        {"conversation": conv.pk, "shop": conv.shop_id, "buyer_nick": "nobody_ordered", "case_type": "defect",
         "summary": "划痕"},
    )  # fmt: skip
    assert answer.status_code == 302
    case = Case.objects.get(buyer_nick="nobody_ordered")
    assert (case.shop_id, case.conversation_ref) == (conv.shop_id, conv.pk)
    assert f"/desk/{conv.pk}/" in lead.get(f"/aftersales/{case.pk}/").content.decode()
    services.messages_ingest(
        actor=SystemActor("t"),
        channel=channel,
        items=[msg("c2", buyer="theirs", shop="mjr", at="2026-11-26T09:05:00+08:00")],
    )
    foreign = Conversation.objects.get(buyer="theirs")
    lead.post(
        "/aftersales/new/",
        {"conversation": foreign.pk, "shop": conv.shop_id, "buyer_nick": "x2", "case_type": "defect", "summary": "s"},
    )
    assert Case.objects.get(buyer_nick="x2").conversation_ref is None


def test_a_conversations_status_and_owner_move_only_through_the_workflow_core(world: World) -> None:
    """Issue 19 §2: one write path. A closed conversation the buyer writes to again reopens through
    the core (its 'reopened' event), an agent's reply moves it to answered, and the first reply
    to an unowned conversation claims it once: a second claim at the same moment changes nothing."""
    from kefu.core.events import Event
    from kefu.desk.workflow import CONVERSATIONS
    from kefu.workflow import services as wf

    channel = services.channel_default("api")
    services.messages_ingest(actor=SystemActor("t"), channel=channel, items=[msg("w1", buyer="core")])
    conv = Conversation.objects.select_related("status").get(buyer="core")
    assert conv.status.category == "waiting"
    services.conversation_close(actor=world.lead_a, conversation=conv)
    services.messages_ingest(
        actor=SystemActor("t"), channel=channel, items=[msg("w2", buyer="core", at="2026-11-10T10:20:00+08:00")]
    )
    conv = Conversation.objects.select_related("status", "owner").get(pk=conv.pk)
    assert conv.status.category == "waiting" and conv.closed_at is None
    assert Event.objects.for_object(conv).filter(verb="conversation.reopened").count() == 1
    # the core follows what the data calls for wherever the categories allow it (closed → answered)
    services.conversation_close(actor=world.lead_a, conversation=conv)
    conv = Conversation.objects.select_related("status").get(pk=conv.pk)
    assert wf.statuses_follow(actor=None, flow=CONVERSATIONS, moves=[(conv, "answered")]) == [conv]
    conv = Conversation.objects.select_related("status").get(pk=conv.pk)
    assert conv.status.category == "answered"  # closed → answered is allowed by the categories
    # a claim wins once
    Conversation.objects.filter(pk=conv.pk).update(owner=None)
    conv = Conversation.objects.select_related("status", "owner").get(pk=conv.pk)
    a = Staff.objects.get(user=world.agent_a)
    b = StaffFactory(team=a.team, position="presales", employee_no="B77")
    assert wf.claim(actor=None, item=conv, assignee=a) is True
    stale = Conversation.objects.get(pk=conv.pk)
    stale.owner = None  # what a second request read before the first committed
    assert wf.claim(actor=None, item=stale, assignee=b) is False
    assert Conversation.objects.get(pk=conv.pk).owner_id == a.pk
    assert Event.objects.for_object(conv).filter(verb="conversation.assigned").count() == 1
