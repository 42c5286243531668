"""The ASGI server's hand-over to Django (ADR 0025): small bodies whole in one hand-over, uploads
and bodies of unknown length streamed through a2wsgi, streaming answers sent chunk by chunk."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.http import HttpResponse, StreamingHttpResponse

from kefu.web.wsgi_bridge import BufferedWSGI


def _scope(method: str, path: str = "/x/", headers: list[tuple[bytes, bytes]] | None = None) -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"a=1",
        "headers": headers or [(b"host", b"testserver")],
        "server": ("testserver", 80),
        "client": ("10.0.0.7", 5555),
        "scheme": "http",
        "http_version": "1.1",
        "asgi": {"version": "3.0"},
    }


class Recorder:
    """A WSGI application that answers what it read, on which thread, as Django would."""

    def __init__(self, streaming: bool = False) -> None:
        self.streaming = streaming
        self.threads: list[str] = []
        self.closed = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.threads.append(threading.current_thread().name)
        body = environ["wsgi.input"].read()
        seen = f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}?{environ['QUERY_STRING']} {environ['REMOTE_ADDR']} "
        if self.streaming:
            response: Any = StreamingHttpResponse(iter([seen.encode(), b"", body, b"!"]), content_type="text/csv")
        else:
            response = HttpResponse(seen.encode() + body, status=201, content_type="text/plain")
        start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
        recorder = self

        class Closing:
            streaming = response.streaming

            def __iter__(self) -> Any:
                return iter(response)

            def close(self) -> None:
                recorder.closed += 1

        return Closing()


class Fallback:
    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.calls += 1
        chunks = b""
        more = True
        while more:
            message = await receive()
            chunks += message.get("body", b"")
            more = message.get("more_body", False)
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": chunks})


def _run(app: Any, scope: dict[str, Any], parts: list[bytes], *, disconnect: bool = False) -> list[dict[str, Any]]:
    async def scenario() -> list[dict[str, Any]]:
        incoming: list[dict[str, Any]] = [
            {"type": "http.request", "body": part, "more_body": i < len(parts) - 1} for i, part in enumerate(parts)
        ]
        if disconnect:
            incoming[-1]["more_body"] = True
            incoming.append({"type": "http.disconnect"})
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return incoming.pop(0)

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await app(scope, receive, send)
        return sent

    return asyncio.run(scenario())


@pytest.fixture
def pool() -> Any:
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="page") as executor:
        yield executor


def test_a_small_body_is_read_whole_and_answered_from_the_finished_response(pool: Any) -> None:
    app, fallback = Recorder(), Fallback()
    bridge = BufferedWSGI(app, pool, fallback)
    body = '{"messages": ["在吗"]}'.encode()
    sent = _run(bridge, _scope("POST", headers=[(b"content-length", str(len(body)).encode())]), [body[:5], body[5:]])
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == 201
    assert (b"content-type", b"text/plain") in sent[0]["headers"]
    assert sent[1]["body"] == b"POST /x/?a=1 10.0.0.7 " + body
    assert app.threads[0].startswith("page") and app.closed == 1  # on a page thread, and closed there
    assert fallback.calls == 0


def test_a_get_without_a_length_is_buffered_but_an_upload_of_unknown_length_streams(pool: Any) -> None:
    app, fallback = Recorder(), Fallback()
    bridge = BufferedWSGI(app, pool, fallback)
    assert _run(bridge, _scope("GET"), [b""])[0]["status"] == 201
    chunked = _scope("POST", headers=[(b"transfer-encoding", b"chunked")])
    assert _run(bridge, chunked, [b"a", b"b"])[1]["body"] == b"ab"
    no_length = _scope("POST")
    assert _run(bridge, no_length, [b"c"])[0]["status"] == 299
    assert fallback.calls == 2 and len(app.threads) == 1


def test_a_body_longer_than_the_limit_or_a_bad_length_goes_to_the_streaming_fallback(pool: Any) -> None:
    app, fallback = Recorder(), Fallback()
    bridge = BufferedWSGI(app, pool, fallback, max_body=10)
    assert _run(bridge, _scope("POST", headers=[(b"content-length", b"11")]), [b"x" * 11])[0]["status"] == 299
    assert _run(bridge, _scope("POST", headers=[(b"content-length", b"ten")]), [b"x"])[0]["status"] == 299
    assert _run(bridge, _scope("POST", headers=[(b"content-length", b"-1")]), [b""])[0]["status"] == 299
    assert _run(bridge, _scope("POST", headers=[(b"content-length", b"10")]), [b"x" * 10])[0]["status"] == 201
    assert fallback.calls == 3


def test_a_streaming_answer_is_sent_chunk_by_chunk_from_the_thread(pool: Any) -> None:
    app = Recorder(streaming=True)
    bridge = BufferedWSGI(app, pool, Fallback())
    sent = _run(bridge, _scope("POST", headers=[(b"content-length", b"3")]), [b"abc"])
    assert sent[0] == {"type": "http.response.start", "status": 200, "headers": sent[0]["headers"]}
    bodies = [m["body"] for m in sent[1:]]
    assert bodies == [b"POST /x/?a=1 10.0.0.7 ", b"abc", b"!", b""]  # the empty chunk is not sent as one
    assert [m.get("more_body", False) for m in sent[1:]] == [True, True, True, False]
    assert app.closed == 1


def test_a_client_that_leaves_before_its_body_ends_is_not_answered(pool: Any) -> None:
    app = Recorder()
    bridge = BufferedWSGI(app, pool, Fallback())
    assert _run(bridge, _scope("POST", headers=[(b"content-length", b"6")]), [b"abc"], disconnect=True) == []
    assert app.threads == []  # Django never saw the half request


@pytest.mark.django_db(transaction=True)
def test_a_signed_webhook_through_the_asgi_entry_point_is_accepted_once(monkeypatch: Any) -> None:
    """The whole path a chat source takes under ``kefu serve``: the bridge, Django's middleware,
    the signature, the insert — and the same signed request again is the documented 409."""
    import hashlib
    import hmac
    import json
    import time

    from django.conf import settings

    from config import asgi
    from kefu.core import clock
    from kefu.desk.models import Channel, Message
    from tests.factories import ShopFactory

    monkeypatch.setitem(settings.DATABASES["default"], "CONN_MAX_AGE", 0)
    shop = ShopFactory(code="bridge-shop")
    Channel.objects.create(code="bridged", name="bridged", secret="s3cret")
    body = json.dumps(
        {
            "messages": [
                {
                    "external_id": "b-1",
                    "shop": shop.code,
                    "buyer": "买家甲",
                    "direction": "in",
                    "kind": "text",
                    "sent_at": clock.now().isoformat(),
                    "text": "在吗",
                }
            ]
        }
    ).encode()
    stamp = str(int(time.time()))
    signature = hmac.new(b"s3cret", stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    scope = _scope(
        "POST",
        "/api/v1/desk/webhook/bridged",
        [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"x-kefu-timestamp", stamp.encode()),
            (b"x-kefu-signature", f"v2={signature}".encode()),
        ],
    )
    scope["query_string"] = b""
    first = _run(asgi.application, scope, [body])
    again = _run(asgi.application, scope, [body])
    assert first[0]["status"] == 200, first
    assert json.loads(first[1]["body"])["created"] == 1
    assert again[0]["status"] == 409 and json.loads(again[1]["body"])["error"]["code"] == "replayed"
    assert Message.objects.filter(external_id="b-1").count() == 1  # placed in the request (embedded default)
    assert any(name == b"x-content-type-options" for name, _ in first[0]["headers"])  # the middleware ran
