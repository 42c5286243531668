"""Issue 21: the Taobao connector against the TOP contract fake, over HTTP.

The fake checks every request's signature with its own code, pages newest first and answers TOP's
documented refusals. Worked case (FROZEN_AT = 2026-11-26 10:00 China time):
- 250 trades modified over the two hours before 10:00 and two refunds. The first run reads three days
  back in one-day windows (the TOP limit): 250 orders created with their lines, two refund cases with
  the platform's reply deadline from taobao.refund.get (modified + 2 days), cursors at 10:00.
- 10:10: five trades change status, three are new. The run reads 09:55–10:10 (five minutes of
  overlap): 3 created, 5 updated, nothing else touched.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client

from kefu.aftersales.models import Case
from kefu.commerce.models import Order, OrderLine
from kefu.connectors import crypto, services
from kefu.connectors.models import Connector, Outcome, SyncRun
from kefu.connectors.sandbox.http import served
from kefu.connectors.sandbox.top import TopFake
from kefu.connectors.taobao import sign
from kefu.connectors.transport import Backoff
from kefu.core.events import SystemActor
from kefu.core.models import Event

from .conftest import FROZEN_AT, PASSWORD, World

pytestmark = pytest.mark.django_db
CLI = SystemActor("cli")


@pytest.fixture
def fake() -> Iterator[tuple[TopFake, str]]:
    top = TopFake(app_key="12345678", app_secret="s3cret", session="sk-1")
    with served(top) as url:
        yield top, url + "/router/rest"


def _quick() -> Backoff:
    waits: list[float] = []
    backoff = Backoff(sleep=waits.append)
    backoff.waits = waits  # type: ignore[attr-defined]
    return backoff


def _connector(world: World, gateway: str, **kw: Any) -> Connector:
    return services.connector_add(
        actor=CLI,
        platform="taobao",
        name=kw.pop("name", "海盗船天猫"),
        shop=world.shop_a,
        app_key="12345678",
        app_secret=kw.pop("app_secret", "s3cret"),
        session=kw.pop("session", "sk-1"),
        gateway=gateway,
        **kw,
    )


def _sync(connector: Connector, backoff: Backoff | None = None, **kw: Any) -> dict[str, SyncRun]:
    runs = services.connector_sync(connector=connector, backoff=backoff or _quick(), **kw)
    return {r.stream: r for r in runs}


def test_sign_matches_tops_published_example() -> None:
    params = {
        "method": "taobao.item.seller.get",
        "app_key": "12345678",
        "session": "test",
        "timestamp": "2016-01-01 12:00:00",
        "format": "json",
        "v": "2.0",
        "sign_method": "md5",
        "fields": "num_iid,title,nick,price,num",
        "num_iid": "11223344",
    }
    assert sign(params, "helloworld") == "66987CB115214E59E6EC978214934FB8"
    assert sign({**params, "empty": ""}, "helloworld") == "66987CB115214E59E6EC978214934FB8"  # empty values left out


def test_first_then_incremental_sync(world: World, fake: tuple[TopFake, str]) -> None:
    top, url = fake
    trades = top.add_trades(250)
    top.add_refund("R-1", trades[0]["tid"])
    top.add_refund("R-2", trades[1]["tid"], status="SUCCESS")
    connector = _connector(world, url)
    runs = _sync(connector)
    orders, refunds = runs["orders"], runs["refunds"]
    assert (orders.outcome, orders.created, orders.updated, orders.failed) == (Outcome.OK, 250, 0, 0)
    # hour windows whose edges both count: a trade on an edge is read twice, the second time unchanged
    assert orders.fetched == 250 + orders.unchanged and orders.unchanged <= 2
    assert Order.objects.filter(shop=world.shop_a).count() == 251  # the world's own order too
    lines = sum(len(t["orders"]["order"]) for t in trades)
    assert (
        OrderLine.objects.filter(order__shop=world.shop_a, order__order_no__in=[str(t["tid"]) for t in trades]).count()
        == lines
    )
    one = Order.objects.get(order_no=str(trades[0]["tid"]))
    assert str(one.paid_amount) == trades[0]["payment"] and one.buyer_nick == trades[0]["buyer_nick"]
    assert (refunds.created, refunds.outcome) == (2, Outcome.OK), refunds.failures
    open_case = Case.objects.get(shop=world.shop_a, external_ref="R-1")
    # the deadline came from taobao.refund.get: modified (10:00) + 2 days, China time
    assert open_case.platform_deadline == FROZEN_AT.replace(microsecond=0) + dt.timedelta(days=2) or (
        abs(open_case.platform_deadline - (FROZEN_AT + dt.timedelta(days=2))) < dt.timedelta(seconds=5)
    )
    assert Case.objects.get(external_ref="R-2").platform_deadline is None  # a finished refund has none asked
    connector.refresh_from_db()
    assert connector.last_success_at is not None and connector.failing_since is None
    assert set(connector.cursors) == {"orders", "refunds", "ratings", "traces"}
    assert services.crypto.unseal(connector.sealed)["session"] == "sk-1"
    # every call was signed (the fake refused none) and paged at most 100
    assert all(
        int(c["page_size"]) <= (150 if c["method"] == "taobao.traderates.get" else 100)
        for c in top.calls
        if "page_size" in c
    )

    with time_machine.travel(FROZEN_AT + dt.timedelta(minutes=10), tick=True):
        changing = [t for t in trades[10:] if t["status"] != "TRADE_CLOSED"][:5]
        for t in changing:
            top.touch(t["tid"], status="TRADE_CLOSED")
        top.add_trades(3, start_tid=3_100_000_000_000_000, spread=dt.timedelta(minutes=1))
        again = _sync(connector)
    assert (again["orders"].created, again["orders"].updated, again["orders"].failed) == (3, 5, 0)
    assert again["orders"].fetched == again["orders"].created + again["orders"].updated + again["orders"].unchanged
    assert {o.status for o in Order.objects.filter(order_no__in=[str(t["tid"]) for t in changing])} == {"closed"}
    assert again["orders"].window_start <= FROZEN_AT + dt.timedelta(minutes=5)  # the overlap


def test_rate_limit_mid_page_waits_the_ban_and_goes_on(world: World, fake: tuple[TopFake, str]) -> None:
    top, url = fake
    top.add_trades(230)
    top.fail("rate_limit", method="taobao.trades.sold.increment.get", page_no=2, times=2)
    backoff = _quick()
    runs = _sync(_connector(world, url), backoff)
    assert runs["orders"].outcome == Outcome.OK and runs["orders"].created == 230
    assert runs["orders"].retries == 2
    assert backoff.waits and min(backoff.waits) >= 1.0  # the ban's "1 more seconds" is honoured  # type: ignore[attr-defined]


def test_server_errors_are_retried_but_a_refusal_is_not(world: World, fake: tuple[TopFake, str]) -> None:
    top, url = fake
    top.add_trades(20)
    top.fail("http_500", times=1)
    top.fail("server_error", times=1)
    runs = _sync(_connector(world, url))
    assert runs["orders"].outcome == Outcome.OK and runs["orders"].retries == 2
    top.fail("isv", method="taobao.refunds.receive.get", times=1)
    connector = Connector.objects.get()
    runs = _sync(connector, since=FROZEN_AT - dt.timedelta(hours=1))
    assert runs["refunds"].outcome == Outcome.FAILED and "isv.invalid-parameter" in runs["refunds"].error
    assert runs["refunds"].retries == 0


def test_expired_session_fails_alerts_after_an_hour_and_recovers(world: World, fake: tuple[TopFake, str]) -> None:
    top, url = fake
    top.add_trades(5)
    connector = _connector(world, url)
    top.expire()
    runs = _sync(connector)
    assert runs["orders"].outcome == Outcome.FAILED and "27" in runs["orders"].error
    assert "refunds" not in runs  # every stream would meet the same refusal
    connector.refresh_from_db()
    assert connector.failing_since is not None and "invalid-sessionkey" in connector.last_error
    assert Event.objects.filter(verb="connector.failed").count() == 1
    lead = Client()
    assert lead.login(username=world.lead_a.username, password=PASSWORD)
    page = lead.get("/connectors/").content.decode()
    assert "invalid-sessionkey" in page and "connector-failing" in page
    assert 'data-testid="summary-alerts"' not in lead.get(f"/desk/summary/?team={world.team_a.pk}").content.decode()

    with time_machine.travel(FROZEN_AT + dt.timedelta(minutes=61), tick=True):
        _sync(connector)  # still failing: no second "failed" event
        assert Event.objects.filter(verb="connector.failed").count() == 1
        assert "connector-alert" in lead.get("/connectors/").content.decode()
        summary = lead.get(f"/desk/summary/?team={world.team_a.pk}").content.decode()
        assert "summary-alerts" in summary and "海盗船天猫" in summary
        home = lead.get("/").content.decode()
        assert "海盗船天猫" in home
        # the supervisor renews the session key: the next run works and the alert goes
        top.sessions.add("sk-2")
        services.connector_update(actor=CLI, connector=connector, session="sk-2")
        runs = _sync(connector)
        assert runs["orders"].outcome == Outcome.OK and runs["orders"].created == 5
        connector.refresh_from_db()
        assert connector.failing_since is None and connector.last_error == ""
        assert Event.objects.filter(verb="connector.recovered").count() == 1
        assert "summary-alerts" not in lead.get(f"/desk/summary/?team={world.team_a.pk}").content.decode()


def test_a_bad_record_is_one_failed_row_and_the_rest_kept(world: World, fake: tuple[TopFake, str]) -> None:
    top, url = fake
    trades = top.add_trades(40)
    trades[7]["payment"] = "12,34x"  # not an amount
    trades[9]["created"] = "not a time"
    runs = _sync(_connector(world, url))
    orders = runs["orders"]
    assert (orders.outcome, orders.created, orders.failed) == (Outcome.PARTIAL, 38, 2)
    refs = {f["record"] for f in orders.failures}
    assert refs == {str(trades[7]["tid"]), str(trades[9]["tid"])}
    assert not Order.objects.filter(order_no=str(trades[7]["tid"])).exists()


def test_a_run_stopped_midway_loses_nothing_and_doubles_nothing(world: World, fake: tuple[TopFake, str]) -> None:
    """Pages 3… of the first window keep failing past the retries: the run fails, the orders of the
    pages already read stay, the cursor does not move. The next run reads the window again: every
    order once, those already in counted unchanged."""
    top, url = fake
    # all in one window (the hour before 10:00): 450 trades are pages 1–5 of it
    top.add_trades(450, at=FROZEN_AT - dt.timedelta(minutes=5), spread=dt.timedelta(minutes=20))
    top.fail("http_500", method="taobao.trades.sold.increment.get", page_no=3, times=50)
    connector = _connector(world, url)
    services.LAND_BATCH = 100  # land page by page, as a long window does
    try:
        first = _sync(connector)["orders"]
        # 450 trades are pages 1–5 (page 5 holds 50); read last first, pages 5 and 4 landed
        assert first.outcome == Outcome.FAILED and first.created == 150
        connector.refresh_from_db()
        # the windows before the failed one are in; the failed one's start is where the next run begins
        assert dt.datetime.fromisoformat(connector.cursors["orders"]) <= FROZEN_AT - dt.timedelta(minutes=59)
        top.faults.clear()
        second = _sync(connector)["orders"]
    finally:
        services.LAND_BATCH = 500
    assert second.outcome == Outcome.OK
    # the 150 already in count unchanged (and a trade on a window's edge, read twice, once more)
    assert second.created == 300 and second.unchanged in {150, 151}
    assert Order.objects.filter(shop=world.shop_a).count() == 451


def test_wrong_secret_is_refused_by_the_signature_check(world: World, fake: tuple[TopFake, str]) -> None:
    _top, url = fake
    runs = _sync(_connector(world, url, app_secret="wrong"))
    assert runs["orders"].outcome == Outcome.FAILED and "Invalid Signature" in runs["orders"].error


@pytest.mark.parametrize("method", ["hmac", "hmac-sha256"])
def test_hmac_sign_methods(world: World, fake: tuple[TopFake, str], method: str) -> None:
    top, url = fake
    top.add_trades(3)
    runs = _sync(_connector(world, url, sign_method=method))
    assert runs["orders"].created == 3
    assert {c["sign_method"] for c in top.calls} == {method}


@pytest.mark.django_db(transaction=True)
def test_one_run_at_a_time(world: World, fake: tuple[TopFake, str]) -> None:
    top, url = fake
    top.add_trades(5)
    connector = _connector(world, url)
    gate, release = threading.Event(), threading.Event()

    def slow(wait: float) -> None:
        gate.set()
        release.wait(5)

    top.fail("rate_limit", times=1)
    errors: list[str] = []

    def other() -> None:
        gate.wait(5)
        try:
            services.connector_sync(connector=connector)
        except services.ApplicationError as exc:
            errors.append(exc.code)
        finally:
            release.set()

    thread = threading.Thread(target=other)
    thread.start()
    services.connector_sync(connector=connector, backoff=Backoff(sleep=slow))
    thread.join()
    assert errors == ["connector_busy"]


def test_credentials_sealed_at_rest(world: World, fake: tuple[TopFake, str], monkeypatch: pytest.MonkeyPatch) -> None:
    _top, url = fake
    connector = _connector(world, url, app_secret="very-secret-value", session="session-value-123")
    raw = Connector.objects.values_list("sealed", flat=True).get(pk=connector.pk)
    assert "very-secret-value" not in raw and "session-value-123" not in raw
    event_text = str(list(Event.objects.filter(verb__startswith="connector.").values_list("before", "after", "data")))
    assert "very-secret-value" not in event_text
    monkeypatch.setenv("KEFU_CONNECTOR_KEYS", crypto.new_key())
    with pytest.raises(services.ApplicationError) as refused:
        crypto.unseal(raw)
    assert refused.value.code == "connector_key"


def test_cli_add_list_sync(world: World, fake: tuple[TopFake, str], capsys: pytest.CaptureFixture[str]) -> None:
    import json

    top, url = fake
    top.add_trades(12)
    call_command(
        "kefu_connector", "add", "taobao", "--name", "cli-shop", "--shop", world.shop_a.name, "--app-key", "12345678",
        "--app-secret", "s3cret", "--session", "sk-1", "--gateway", url, "--json",
    )  # fmt: skip
    added = json.loads(capsys.readouterr().out)
    assert added["name"] == "cli-shop" and "s3cret" not in json.dumps(added)
    call_command("kefu_connector", "list", "--json")
    assert [c["name"] for c in json.loads(capsys.readouterr().out)] == ["cli-shop"]
    call_command("kefu_sync", "--connector", "cli-shop", "--json")
    report = json.loads(capsys.readouterr().out)
    orders = next(r for r in report["runs"] if r["stream"] == "orders")
    assert (orders["created"], orders["failed"]) == (12, []) and orders["fetched"] - orders["unchanged"] == 12
    from django.core.management import CommandError

    with pytest.raises(CommandError):
        call_command("kefu_sync", "--connector", "cli-shop", "--since", "yesterday")


def test_health_page_scope_and_sync_now(
    world: World, fake: tuple[TopFake, str], django_capture_on_commit_callbacks: Any
) -> None:
    top, url = fake
    top.add_trades(4)
    mine = _connector(world, url)
    theirs = services.connector_add(
        actor=CLI, platform="taobao", name="魔甲人淘宝", shop=world.shop_b, app_key="12345678",
        app_secret="s3cret", session="sk-1", gateway=url,
    )  # fmt: skip
    lead = Client()
    assert lead.login(username=world.lead_a.username, password=PASSWORD)
    page = lead.get("/connectors/").content.decode()
    assert "海盗船天猫" in page and "魔甲人淘宝" not in page
    assert lead.get(f"/connectors/{theirs.pk}/").status_code == 404
    assert lead.post(f"/connectors/{theirs.pk}/sync/").status_code == 404
    assert lead.post(f"/connectors/{mine.pk}/keys/", {"session": "x"}).status_code == 403  # keys: the supervisor's
    with django_capture_on_commit_callbacks(execute=True):
        response = lead.post(f"/connectors/{mine.pk}/sync/", follow=True)
    assert response.status_code == 200
    run = SyncRun.objects.filter(connector=mine, stream="orders").get()
    assert (run.trigger, run.actor_id, run.created) == ("manual", world.lead_a.pk, 4)
    agent = Client()
    assert agent.login(username=world.agent_a.username, password=PASSWORD)
    assert agent.get("/connectors/").status_code == 403
    boss = Client()
    assert boss.login(username=world.supervisor.username, password=PASSWORD)
    assert "魔甲人淘宝" in boss.get("/connectors/").content.decode()
    assert (
        boss.post(
            f"/connectors/{mine.pk}/keys/", {"session": "sk-9", "session_expires_at": "2026-12-24T10:00"}
        ).status_code
        == 302
    )
    mine.refresh_from_db()
    assert crypto.unseal(mine.sealed)["session"] == "sk-9" and mine.session_expires_at.day == 24
    assert (
        boss.post(f"/connectors/{mine.pk}/keys/", {"session_expires_at": "soon"}).status_code == 302
    )  # refused, a message


def test_ratings_become_negative_reviews_once(world: World, fake: tuple[TopFake, str]) -> None:
    from kefu.aftersales.models import NegativeReview

    top, url = fake
    trades = top.add_trades(6)
    top.add_rate(trades[0]["tid"], "bad", "电饭煲用了两天就坏了")
    top.add_rate(trades[1]["tid"], "neutral", "一般")
    top.add_rate(trades[2]["tid"], "good", "好评")  # not asked for: only bad and neutral
    connector = _connector(world, url)
    ratings = _sync(connector)["ratings"]
    assert (ratings.outcome, ratings.fetched, ratings.created) == (Outcome.OK, 2, 2)
    bad = NegativeReview.objects.get(content="电饭煲用了两天就坏了")
    assert (bad.rating, bad.shop, bad.order.order_no) == (1, world.shop_a, str(trades[0]["tid"]))
    assert NegativeReview.objects.get(content="一般").rating == 3
    again = _sync(connector, since=FROZEN_AT - dt.timedelta(hours=3))["ratings"]
    assert (again.created, again.unchanged) == (0, 2) and NegativeReview.objects.count() == 2


def test_a_stalled_trace_opens_one_logistics_exception(world: World, fake: tuple[TopFake, str]) -> None:
    """At Thu 11-26 10:00 with the policy's 48 hours:
    A shipped Mon 11-23 09:00, last step Tue 11-24 08:00 (50 h silent) → "delayed", a case;
    B shipped Mon, last step Wed 11-25 20:00 (14 h) → moving;
    C shipped Wed 11-25 08:00, no step yet (26 h) → not asked: younger than the policy's hours;
    D shipped Sun 11-22 09:00, no step at all (97 h) → "no tracking", a case;
    E shipped Mon, last step Tue 08:00 but "已签收" → delivered, nothing."""
    from zoneinfo import ZoneInfo

    cn = ZoneInfo("Asia/Shanghai")
    top, url = fake
    a, b, c, d, e = top.add_trades(5)

    def shipped(trade: dict[str, Any], day: int, hour: int) -> None:
        top.touch(
            trade["tid"],
            status="WAIT_BUYER_CONFIRM_GOODS",
            consign_time=f"2026-11-{day} {hour:02d}:00:00",
            pay_time=f"2026-11-{day - 1} 10:00:00",
            created=f"2026-11-{day - 1} 09:59:00",
        )
        for line in trade["orders"]["order"]:
            line.update(logistics_company="中通快递", invoice_no=f"ZT{trade['tid'] % 10**8}")

    for trade, (day, hour) in zip((a, b, c, d, e), ((23, 9), (23, 9), (25, 8), (22, 9), (23, 9)), strict=True):
        shipped(trade, day, hour)
    top.set_trace(
        a["tid"],
        [
            (dt.datetime(2026, 11, 23, 20, tzinfo=cn), "已揽收"),
            (dt.datetime(2026, 11, 24, 8, tzinfo=cn), "到达杭州转运中心"),
        ],
    )
    top.set_trace(b["tid"], [(dt.datetime(2026, 11, 25, 20, tzinfo=cn), "派送中")])
    top.set_trace(e["tid"], [(dt.datetime(2026, 11, 24, 8, tzinfo=cn), "已签收，签收人：本人")])
    connector = _connector(world, url)
    traces = _sync(connector)["traces"]
    assert (traces.outcome, traces.fetched, traces.created, traces.unchanged) == (Outcome.OK, 4, 2, 2), traces.failures
    assert str(c["tid"]) not in {call.get("tid") for call in top.calls}
    cases = {c.order.order_no: c for c in Case.objects.filter(case_type="logistics_exception").select_related("order")}
    assert set(cases) == {str(a["tid"]), str(d["tid"])}
    assert cases[str(a["tid"])].facts["trace"] == "delayed" and "到达杭州转运中心" in cases[str(a["tid"])].summary
    assert cases[str(d["tid"])].facts["trace"] == "no_tracking"
    again = _sync(connector)["traces"]
    assert (again.created, Case.objects.filter(case_type="logistics_exception").count()) == (0, 2)


def test_the_remark_is_written_back_to_the_seller_memo(
    world: World, fake: tuple[TopFake, str], django_capture_on_commit_callbacks: Any
) -> None:
    from kefu.commerce.services import order_remark_set

    top, url = fake
    (trade,) = top.add_trades(1)
    _sync(_connector(world, url))
    order = Order.objects.get(order_no=str(trade["tid"]))
    with django_capture_on_commit_callbacks(execute=True):
        order = order_remark_set(
            actor=world.supervisor, order=order, shipping="顺丰", gift="围裙", special="", author="张三"
        )
    assert top.trades[trade["tid"]]["seller_memo"] == order.memo and "顺丰" in order.memo
    assert Event.objects.filter(verb="connector.memo_written").count() == 1
    # a shop without a connector: the remark stays in Kefu, nothing is sent
    with django_capture_on_commit_callbacks(execute=True):
        order_remark_set(
            actor=world.supervisor, order=world.order_b, shipping="中通", gift="", special="", author="李四"
        )
    assert Event.objects.filter(verb="connector.memo_written").count() == 1


def test_health_page_queries_do_not_grow_with_the_run_log(world: World, fake: tuple[TopFake, str]) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _top, url = fake
    connector = _connector(world, url)
    boss = Client()
    assert boss.login(username=world.supervisor.username, password=PASSWORD)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert boss.get("/connectors/").status_code == 200
        return len(ctx.captured_queries)

    SyncRun.objects.bulk_create(
        SyncRun(
            connector=connector, stream="orders", trigger="schedule", started_at=FROZEN_AT - dt.timedelta(minutes=n)
        )
        for n in range(5)
    )
    few = count()
    SyncRun.objects.bulk_create(
        SyncRun(connector=connector, stream="orders", trigger="schedule", started_at=FROZEN_AT - dt.timedelta(hours=n))
        for n in range(1, 300)
    )
    assert count() == few
    from kefu.connectors.selectors import health

    (row,) = health(actor=world.supervisor)
    assert [r.started_at for r in row.last_runs] == [FROZEN_AT - dt.timedelta(minutes=n) for n in range(3)]


@pytest.mark.django_db(transaction=True)
def test_the_worker_syncs_in_a_thread_of_its_own_once_per_connector(
    world: World, fake: tuple[TopFake, str], settings: Any
) -> None:
    """In production the periodic task hands each due connector to a daemon thread and returns (the
    worker's own threads place desk messages); a connector already queued is not queued twice."""
    import time

    from kefu.connectors import tasks

    top, url = fake
    top.add_trades(8)
    top.fail("rate_limit", times=1)  # the first call waits the ban's second: the run is still going
    connector = _connector(world, url)
    settings.HUEY = {**settings.HUEY, "immediate": False}
    started = time.monotonic()
    assert tasks.connectors_due_periodic.call_local() == 1
    assert time.monotonic() - started < 0.5  # handed over, not run here
    tasks.sync_soon(connector.pk)  # queued already: ignored
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and tasks._QUEUED:
        time.sleep(0.1)
    assert SyncRun.objects.filter(stream="orders").count() == 1
    assert SyncRun.objects.get(stream="orders").created == 8
    assert not tasks._QUEUED


def test_trades_listed_without_lines_get_them_from_fullinfo(world: World, fake: tuple[TopFake, str]) -> None:
    top, url = fake
    trades = top.add_trades(3)
    top.fields_withheld = {"orders"}  # the app may not read the lines in the increment list
    runs = _sync(_connector(world, url))
    assert runs["orders"].created == 3
    assert sum(1 for c in top.calls if c["method"] == "taobao.trade.fullinfo.get") == 3
    lines = sum(len(t["orders"]["order"]) for t in trades)
    assert OrderLine.objects.filter(order__order_no__in=[str(t["tid"]) for t in trades]).count() == lines


def test_a_malformed_record_is_one_failed_record_and_the_window_moves_on(
    world: World, fake: tuple[TopFake, str]
) -> None:
    top, url = fake
    trades = top.add_trades(6)
    trades[1]["orders"] = "oops"
    trades[2]["orders"] = {"order": "not a list"}
    connector = _connector(world, url)
    orders = _sync(connector)["orders"]
    assert (orders.outcome, orders.created, orders.failed) == (Outcome.PARTIAL, 4, 2)
    assert {f["record"] for f in orders.failures} == {str(trades[1]["tid"]), str(trades[2]["tid"])}
    assert all("格式有误" in f["reason"] for f in orders.failures), orders.failures
    connector.refresh_from_db()
    assert connector.cursors["orders"] and connector.last_error == ""  # not stuck on it


def test_a_count_that_is_not_a_number_or_absurd_refuses_the_answer_in_words(
    world: World, fake: tuple[TopFake, str]
) -> None:
    top, url = fake
    top.add_trades(3)
    original = top._page

    def lying(items: Any, params: Any, page_no: int, page_size: int, outer: str, inner: str) -> dict[str, Any]:
        out = original(items, params, page_no, page_size, outer, inner)
        if outer == "trades":
            out["total_results"] = lying.total
        return out

    lying.total = "many"  # type: ignore[attr-defined]
    top._page = lying  # type: ignore[method-assign]
    connector = _connector(world, url)
    orders = _sync(connector)["orders"]
    assert orders.outcome == Outcome.FAILED and "不是数字" in orders.error
    lying.total = 10**7  # type: ignore[attr-defined]
    calls = len(top.calls)
    orders = _sync(connector)["orders"]
    assert orders.outcome == Outcome.FAILED and "2000" in orders.error
    assert len(top.calls) - calls < 10  # refused at once, not 100,000 empty pages
    lying.total = 500  # type: ignore[attr-defined]  (5 pages said, 1 there)
    calls = len(top.calls)
    orders = _sync(connector, since=FROZEN_AT - dt.timedelta(hours=3))["orders"]
    assert orders.outcome == Outcome.OK and orders.created == 3  # read from page 1 once the said pages are empty


def test_a_run_that_lost_its_lease_stops_and_leaves_the_other_runs_lease(
    world: World, fake: tuple[TopFake, str]
) -> None:
    top, url = fake
    (trade,) = top.add_trades(1)
    top.add_refund("R-9", trade["tid"], status="SUCCESS")
    connector = _connector(world, url)
    taken_over = FROZEN_AT + dt.timedelta(hours=5)

    def another_run_takes_over(wait: float) -> None:  # the run went silent past its lease meanwhile
        Connector.objects.filter(pk=connector.pk).update(running_since=taken_over)

    top.fail("rate_limit", method="taobao.refunds.receive.get", times=1)
    runs = services.connector_sync(
        connector=connector, streams=["refunds", "ratings"], backoff=Backoff(sleep=another_run_takes_over)
    )
    assert runs[0].outcome == Outcome.FAILED and "另一次同步" in runs[0].error, runs[0].error
    assert len(runs) == 1, [(r.stream, r.outcome, r.error) for r in runs]  # the other streams are the other run's
    connector.refresh_from_db()
    assert connector.running_since == taken_over and "refunds" not in connector.cursors


def test_keys_form_keeps_a_ticked_connector_enabled(world: World, fake: tuple[TopFake, str]) -> None:
    _top, url = fake
    connector = _connector(world, url)
    boss = Client()
    assert boss.login(username=world.supervisor.username, password=PASSWORD)
    # what a browser sends with the box left ticked: the hidden 0, then the box's 1
    boss.post(f"/connectors/{connector.pk}/keys/", {"session": "sk-2", "enabled": ["0", "1"]})
    connector.refresh_from_db()
    assert connector.enabled and crypto.unseal(connector.sealed)["session"] == "sk-2"
    boss.post(f"/connectors/{connector.pk}/keys/", {"enabled": ["0"]})
    connector.refresh_from_db()
    assert not connector.enabled
    changed = Event.objects.filter(verb="connector.changed").first()
    assert changed is not None and changed.after.get("session") in (None, "changed")


def test_cli_refuses_an_unknown_stream_and_a_future_since(world: World, fake: tuple[TopFake, str]) -> None:
    from django.core.management import CommandError

    _top, url = fake
    _connector(world, url, name="shop")
    with pytest.raises(CommandError, match="orders"):
        call_command("kefu_sync", "--connector", "shop", "--stream", "nosuch")
    with pytest.raises(CommandError, match="future"):
        call_command("kefu_sync", "--since", "2100-01-01T00:00:00+08:00")


def test_malformed_envelopes_and_items_are_words_and_failures(world: World, fake: tuple[TopFake, str]) -> None:
    top, url = fake
    top.add_trades(2)
    original = top.handle

    def odd(params: dict[str, str]) -> tuple[int, Any]:
        if params.get("method") == "taobao.trades.sold.increment.get":
            return 200, {"trades_sold_increment_get_response": {"trades": {"trade": ["oops", 5]}, "total_results": 2}}
        if params.get("method") == "taobao.refunds.receive.get":
            return 200, {"error_response": "oops"}
        if params.get("method") == "taobao.traderates.get":
            return 200, {"something_else": {}}
        return original(params)

    top.handle = odd  # type: ignore[method-assign]
    runs = _sync(_connector(world, url))
    # every window answers the same two non-objects: each one failed record, none dropped unseen
    orders = runs["orders"]
    assert orders.outcome == Outcome.PARTIAL and orders.failed == orders.fetched > 0 and orders.created == 0
    assert runs["refunds"].outcome == Outcome.FAILED and "格式有误" in runs["refunds"].error
    assert runs["ratings"].outcome == Outcome.FAILED and "格式有误" in runs["ratings"].error
    assert "Kefu" not in runs["refunds"].error  # the platform's answer, not our error
