"""The desk's live streams on the async path (issue 16 §3, ADR 0018): a wake-up reaches only the
streams it concerns, streams asking the same question share one read and never reuse a stale one,
and an ASGI stream is woken by a commit, keeps its scope and holds no database connection."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from django.test import AsyncClient

from kefu.core.events import SystemActor
from kefu.desk import live, services
from kefu.desk.models import Conversation

from .conftest import World
from .test_desk import msg


def test_a_wake_up_reaches_only_the_streams_it_concerns() -> None:
    async def scenario() -> dict[str, bool]:
        hub = live.Hub(asyncio.get_running_loop())
        subs = {
            "shop 2": hub.subscribe(shops=frozenset({2})),
            "shop 3": hub.subscribe(shops=frozenset({3})),
            "shops 3+4": hub.subscribe(shops=frozenset({3, 4})),
            "conversation 5": hub.subscribe(conversation=5),
            "conversation 6": hub.subscribe(conversation=6),
            "department": hub.subscribe(),
            "no shop": hub.subscribe(shops=frozenset()),
        }
        hub.dispatch("5:2")
        woken = {name: sub.event.is_set() for name, sub in subs.items()}
        for sub in subs.values():
            sub.event.clear()
        hub.dispatch("x:y,9:4")  # a garbled route is skipped, the good one still counts
        woken |= {f"{name} (2nd)": sub.event.is_set() for name, sub in subs.items()}
        hub.unsubscribe(subs["shops 3+4"])
        hub.dispatch("*")
        woken["unsubscribed, everyone"] = subs["shops 3+4"].event.is_set()
        woken["no shop, everyone"] = subs["no shop"].event.is_set()
        for sub in subs.values():
            hub.unsubscribe(sub)
        woken["empty hub"] = len(hub) == 0
        return woken

    woken = asyncio.run(scenario())
    assert woken == {
        "shop 2": True,
        "shop 3": False,
        "shops 3+4": False,
        "conversation 5": True,
        "conversation 6": False,
        "department": True,
        "no shop": False,
        "shop 2 (2nd)": False,
        "shop 3 (2nd)": False,
        "shops 3+4 (2nd)": True,
        "conversation 5 (2nd)": False,
        "conversation 6 (2nd)": False,
        "department (2nd)": True,
        "no shop (2nd)": False,
        "unsubscribed, everyone": True,  # (set by the second wake-up and not cleared since)
        "no shop, everyone": True,
        "empty hub": True,
    }


def test_streams_asking_the_same_question_share_one_read_and_a_wake_up_forgets_it() -> None:
    calls: list[str] = []

    async def scenario() -> list[Any]:
        hub = live.Hub(asyncio.get_running_loop())
        gate = asyncio.Event()

        async def read(tag: str) -> str:
            calls.append(tag)
            await gate.wait()
            return f"answer {len(calls)}"

        first = [asyncio.create_task(hub.shared(("team a", 10), lambda: read("a"))) for _ in range(50)]
        other = asyncio.create_task(hub.shared(("team b", 10), lambda: read("b")))
        for _ in range(5):  # every waiter has asked, both reads have started
            await asyncio.sleep(0)
        gate.set()
        answers = [*await asyncio.gather(*first), await other]
        reused = await hub.shared(("team a", 10), lambda: read("a again"))  # no wake-up since: reused
        hub.dispatch("1:1")
        fresh = await hub.shared(("team a", 10), lambda: read("a after the wake-up"))
        await asyncio.sleep(live.SHARE_SECONDS + 0.1)  # no wake-up (another process's message): a poll reads again
        polled = await hub.shared(("team a", 10), lambda: read("a polled"))
        return [answers, reused, fresh, polled]

    answers, reused, fresh, polled = asyncio.run(scenario())
    assert calls == ["a", "b", "a after the wake-up", "a polled"]
    assert set(answers[:50]) == {"answer 2"} and answers[50] == "answer 2"  # both reads ran before either ended
    assert reused == "answer 2" and fresh == "answer 3" and polled == "answer 4"


def test_a_failed_shared_read_is_not_remembered() -> None:
    async def scenario() -> str:
        hub = live.Hub(asyncio.get_running_loop())

        async def broken() -> str:
            raise RuntimeError("database away")

        async def works() -> str:
            return "ok"

        with pytest.raises(RuntimeError):
            await hub.shared("k", broken)
        return str(await hub.shared("k", works))

    assert asyncio.run(scenario()) == "ok"


async def _next_event(chunks: Any, timeout: float) -> str:
    text = ""
    while "\n\n" not in text or text.startswith("retry"):
        if text.startswith("retry") and "\n\n" in text:
            text = text.split("\n\n", 1)[1]
            continue
        text += (await asyncio.wait_for(anext(chunks), timeout)).decode()
    return text


def _close_read_pool() -> None:
    """The streams' read threads each hold a connection: each closes its own, then the pool ends
    (or the test database could not be dropped at the end)."""
    from django.db import connections

    from kefu.desk import views

    pool, views._read_pool = views._read_pool, None
    if pool is not None:
        barrier = __import__("threading").Barrier(pool._max_workers)

        def close() -> None:
            barrier.wait(5)
            connections.close_all()

        for future in [pool.submit(close) for _ in range(pool._max_workers)]:
            future.result(10)
        pool.shutdown()


@pytest.mark.django_db(transaction=True)
def test_an_asgi_stream_is_woken_by_a_commit_and_keeps_its_scope(world: World, monkeypatch: Any) -> None:
    """Under ASGI the stream holds no thread: with the fallback poll pushed out to a minute, the event
    can only come from the wake-up that the commit publishes. Team B's agent, streaming at the same
    time, hears nothing of team A's buyer."""
    monkeypatch.setattr(live, "EMBEDDED_POLL_SECONDS", 60.0)
    channel = services.channel_default("api")
    services.messages_ingest(actor=SystemActor("t"), channel=channel, items=[msg("a1", buyer="live_a")])
    conversation = Conversation.objects.get(buyer="live_a")

    async def scenario() -> tuple[str, str | None]:
        agent_a, agent_b = AsyncClient(), AsyncClient()
        await agent_a.aforce_login(world.agent_a)
        await agent_b.aforce_login(world.agent_b)
        mine = await agent_a.get("/desk/stream/")
        theirs = await agent_b.get("/desk/stream/")
        assert mine["Content-Type"] == "text/event-stream" and mine.is_async
        a_chunks, b_chunks = aiter(mine.streaming_content), aiter(theirs.streaming_content)
        first = await _next_event(a_chunks, 5)  # the backlog (the message above) on connecting
        assert "event: inbox" in first and f"[{conversation.pk}]" in first
        listening = asyncio.create_task(_next_event(b_chunks, 3))  # B's stream subscribes and waits
        await asyncio.sleep(0.3)

        def ingest() -> None:  # another thread, as another request would
            from django.db import connections

            services.messages_ingest(
                actor=SystemActor("t"),
                channel=channel,
                items=[msg("a2", buyer="live_a", at="2026-11-10T10:12:00+08:00")],
            )
            connections.close_all()

        await asyncio.to_thread(ingest)
        woken = await _next_event(a_chunks, 5)
        try:
            heard: str | None = await listening
        except TimeoutError:
            heard = None
        for chunks in (a_chunks, b_chunks):
            await chunks.aclose()
        return woken, heard

    try:
        woken, heard = asyncio.run(scenario())
    finally:
        _close_read_pool()
    assert "event: inbox" in woken
    payload = json.loads(woken.split("data: ")[1].split("\n")[0])
    assert payload["ids"] == [conversation.pk]
    assert heard is None


def test_the_asgi_entry_point_sends_streams_to_django_and_pages_to_the_thread_pool(db: Any, monkeypatch: Any) -> None:
    from asgiref.testing import ApplicationCommunicator
    from django.conf import settings

    # the page thread closes its connection when the request ends (no connection left behind)
    monkeypatch.setitem(settings.DATABASES["default"], "CONN_MAX_AGE", 0)
    from config import asgi

    async def scenario() -> tuple[int, bytes, list[str]]:
        life = ApplicationCommunicator(asgi.application, {"type": "lifespan"})
        await life.send_input({"type": "lifespan.startup"})
        started = await life.receive_output(5)
        page = ApplicationCommunicator(
            asgi.application,
            {
                "type": "http",
                "method": "GET",
                "path": "/login/",
                "raw_path": b"/login/",
                "query_string": b"",
                "headers": [(b"host", b"testserver")],
                "server": ("testserver", 80),
                "client": ("127.0.0.1", 1),
                "scheme": "http",
                "http_version": "1.1",
                "asgi": {"version": "3.0"},
            },
        )
        await page.send_input({"type": "http.request", "body": b""})
        start = await page.receive_output(10)
        body = b""
        while True:
            message = await page.receive_output(10)
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        await life.send_input({"type": "lifespan.shutdown"})
        stopped = await life.receive_output(5)
        return start["status"], body, [started["type"], stopped["type"]]

    status, body, lifespan = asyncio.run(scenario())
    assert status == 200 and b"csrfmiddlewaretoken" in body
    assert lifespan == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert frozenset({"/desk/stream/"}) == asgi.LIVE_PATHS


def test_a_stream_that_goes_away_does_not_cancel_the_read_others_wait_for() -> None:
    async def scenario() -> list[Any]:
        hub = live.Hub(asyncio.get_running_loop())
        gate = asyncio.Event()

        async def read() -> str:
            await gate.wait()
            return "rows"

        leaver = asyncio.create_task(hub.shared("k", read))  # the stream that started the read
        stayers = [asyncio.create_task(hub.shared("k", read)) for _ in range(3)]
        await asyncio.sleep(0)
        leaver.cancel()  # its page was closed
        await asyncio.sleep(0)
        gate.set()
        return await asyncio.gather(*stayers)

    assert asyncio.run(scenario()) == ["rows", "rows", "rows"]


def test_a_message_that_commits_after_a_higher_id_still_reaches_the_stream() -> None:
    """On PostgreSQL a placement can insert message 875, keep working, and commit after a reply 876
    committed: a stream that read 876 and resumed past it lost 875 for good. It now also reads the
    ids back to where it stood 30 s ago and sends the ones it has not sent, once."""
    from kefu.desk.views import _chunks, _late, _Position

    position = _Position(870)
    first = _chunks(position, 7, ([(876, 7, "<li id=m876>")], []), [])
    assert [c.split("\n")[0] for c in first] == ["id: 876"]
    assert position.low() == 870  # still reading the gap from where it stood
    found = ([], [(876, 7), (875, 7)])  # nothing past 876; the gap now holds the late 875
    assert _late(position, found) == [875]
    again = _chunks(position, 7, found, [(875, 7, "<li id=m875>")])
    assert [c.split("\n")[0] for c in again] == ["id: 875"]  # the late one, once; 876 not twice
    assert _chunks(position, 7, found, [(875, 7, "")]) == []
    inbox = _Position(870)
    assert json.loads(_chunks(inbox, None, ([(876, 3, "")], []), [])[0].split("data: ")[1])["ids"] == [3]
    assert json.loads(_chunks(inbox, None, ([], [(876, 3), (875, 4)]), [])[0].split("data: ")[1])["ids"] == [4]


def test_a_burst_larger_than_a_read_never_stalls_a_stream() -> None:
    """The review sent 250 messages to one conversation (a read takes 200) and then one more: it
    arrived 30 s late, because every read started from 30 s back and returned the same sent rows.
    Reads past the position always move it on."""
    from kefu.desk.views import _chunks, _Position

    position = _Position(0)
    burst = [(i, 7, f"<li id=m{i}>") for i in range(1, 201)]
    assert len(_chunks(position, 7, (burst, []), [])) == 200 and position.after == 200
    rest = [(i, 7, "") for i in range(201, 252)]  # the next read: past 200, the gap ids only
    sent = _chunks(position, 7, (rest, [(i, 7) for i in range(200, 0, -1)]), [])
    assert len(sent) == 51 and position.after == 251


@pytest.mark.django_db
def test_a_reopened_stream_looks_back_at_the_messages_of_the_last_30_seconds(world: World) -> None:
    """A stream opened with Last-Event-ID N (a reload, a reconnect) starts its look-back at the
    first message received in the last 30 s, so a late commit below N still reaches it."""
    import datetime as dt

    from kefu.core import clock
    from kefu.desk.models import Message
    from kefu.desk.selectors import opening_low

    channel = services.channel_default("api")
    services.messages_ingest(
        actor=SystemActor("t"), channel=channel, items=[msg(f"o{i}", buyer="reopen") for i in range(3)]
    )
    ids = sorted(Message.objects.values_list("pk", flat=True))
    assert opening_low(after_id=ids[-1], seconds=30) == ids[0] - 1
    Message.objects.filter(pk=ids[0]).update(received_at=clock.now() - dt.timedelta(minutes=5))
    assert opening_low(after_id=ids[-1], seconds=30) == ids[1] - 1
    Message.objects.update(received_at=clock.now() - dt.timedelta(minutes=5))
    assert opening_low(after_id=ids[-1], seconds=30) == ids[-1]


@pytest.mark.django_db
def test_a_message_published_after_a_streams_event_loop_ended_is_not_a_500(settings: Any) -> None:
    """CI found it: a reply answered 500 ("Event loop is closed") when an earlier server's loop
    had ended in the same process; a hub whose loop is closed is forgotten, nobody listens there."""
    import asyncio

    from kefu.desk import live

    settings.REDIS_URL = ""
    loop = asyncio.new_event_loop()
    live._hubs[loop] = live.Hub(loop)
    loop.close()
    live.publish([1, 2])  # must not raise
    assert loop not in live._hubs


@pytest.mark.django_db
def test_a_threaded_stream_sends_a_heartbeat_when_quiet_and_ends_on_a_database_error(
    world: World, monkeypatch: Any
) -> None:
    """CI found it: a blocking stream whose browser had gone kept reading for its whole 50 s (it
    wrote nothing, so it never saw the closed socket), failing on every read once its test had
    ended. A quiet stream now writes a comment line every HEARTBEAT_SECONDS (a gone browser is
    noticed there), and a database error ends the stream (the browser reconnects) instead of
    failing on every poll."""
    from django.db import DatabaseError

    from kefu.desk import views

    reads = {"n": 0}
    real = views._stream_read

    def flaky(*args: Any) -> Any:
        reads["n"] += 1
        if reads["n"] >= 3:
            raise DatabaseError("server closed the connection")
        return real(*args)

    class Awake:  # no timed wait: under faketime (make year-ahead) a condition's timeout is a year
        def wait(self, timeout: float) -> None:
            pass

        def close(self) -> None:
            pass

    monkeypatch.setattr(views, "HEARTBEAT_SECONDS", 0.0)
    monkeypatch.setattr(views.live, "Waiter", Awake)
    monkeypatch.setattr(views, "_stream_read", flaky)
    user = world.agent_a
    chunks = list(views._events_blocking(user, None, 0))  # ends by itself: no timeout reached
    assert chunks[0].startswith("retry:")
    assert chunks[1:] == [": \n\n", ": \n\n"]  # two quiet reads, then the error ends it
    assert reads["n"] == 3
