"""Django's WSGI application under the ASGI server in one hand-over per request (ADR 0025).

a2wsgi streams a request's body to the page thread and each piece of the answer back to the event
loop, every piece a round trip between the two threads (the body, the status line, each chunk, the
end): about a millisecond of CPU per request, as much as the whole of a signed webhook's own work
(issue 20 §4). Nearly every request has a small body and an answer Django has already made whole.
Those are read on the loop, handed to a thread once with the body in memory, and answered from the
finished response. Everything else keeps a2wsgi's streaming: a body with no declared length or a
longer one (an upload) goes to the fallback as it came, and a streaming answer (an export, a file)
is sent chunk by chunk from the thread, as a2wsgi sends it.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import io
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from typing import Any

from a2wsgi.wsgi import build_environ

Send = Callable[[dict[str, Any]], Any]
Receive = Callable[[], Any]

# Bodies up to this many bytes are read on the loop and handed over whole (the webhook's limit is
# larger; a bigger delivery streams through the fallback like an upload).
BUFFERED_BYTES = 256 * 1024
_BODYLESS = frozenset({"GET", "HEAD", "OPTIONS"})


class BufferedWSGI:
    """An ASGI application serving ``app`` (WSGI) on ``executor``; ``fallback`` (a2wsgi over the same
    app and threads) takes the requests whose bodies it does not hold in memory."""

    def __init__(self, app: Any, executor: Executor, fallback: Any, *, max_body: int = BUFFERED_BYTES) -> None:
        self.app = app
        self.executor = executor
        self.fallback = fallback
        self.max_body = max_body

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._buffered(scope):
            await self.fallback(scope, receive, send)
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client went away before it finished sending
            body += message.get("body", b"")
            more = message.get("more_body", False)
        environ: dict[str, Any] = dict(build_environ(scope, io.BytesIO(bytes(body))))  # type: ignore[arg-type]
        loop = asyncio.get_running_loop()
        respond = functools.partial(contextvars.copy_context().run, self._respond, environ, loop, send)
        answer = await loop.run_in_executor(self.executor, respond)
        if answer is not None:
            status, headers, content = answer
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": content})

    def _buffered(self, scope: dict[str, Any]) -> bool:
        """Whether the whole body is small and declared: a known Content-Length within the limit, or
        no body at all on a method that has none."""
        length: int | None = None
        for name, value in scope.get("headers", ()):
            if name == b"transfer-encoding":
                return False
            if name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    return False
        if length is None:
            return scope.get("method") in _BODYLESS
        return 0 <= length <= self.max_body

    def _respond(
        self, environ: dict[str, Any], loop: asyncio.AbstractEventLoop, send: Send
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
        """On the page thread: run the application; a finished answer is returned whole for the loop
        to send, a streaming one is sent from here chunk by chunk (then None)."""
        started: list[Any] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            encoded = [(k.lower().encode("latin1"), v.encode("latin1")) for k, v in headers]
            started[:] = [int(status.split(" ", 1)[0]), encoded]
            return self._refuse_write

        iterable: Iterable[bytes] = self.app(environ, start_response)
        try:
            if getattr(iterable, "streaming", True) is False:
                return started[0], started[1], b"".join(iterable)

            def push(message: dict[str, Any]) -> None:
                asyncio.run_coroutine_threadsafe(send(message), loop).result()

            pushed = False
            for chunk in iterable:
                if not pushed:
                    push({"type": "http.response.start", "status": started[0], "headers": started[1]})
                    pushed = True
                if chunk:
                    push({"type": "http.response.body", "body": chunk, "more_body": True})
            if not pushed:
                push({"type": "http.response.start", "status": started[0], "headers": started[1]})
            push({"type": "http.response.body", "body": b""})
            return None
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()

    @staticmethod
    def _refuse_write(_chunk: bytes) -> None:
        raise RuntimeError("the WSGI write() callable is not supported; return the body")
