"""Serving a fake over HTTP on a free local port, in a thread (the tests and ``kefu sandbox``)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit


class Fake(Protocol):
    def respond(
        self, method: str, path: str, query: dict[str, str], body: bytes, headers: dict[str, str]
    ) -> tuple[int, Any]: ...


def _handler(fake: Fake) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, answer = fake.respond(
                self.command,
                parts.path,
                dict(parse_qsl(parts.query, keep_blank_values=True)),
                body,
                {k.lower(): v for k, v in self.headers.items()},
            )
            data = answer if isinstance(answer, bytes) else json.dumps(answer, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def served(fake: Fake, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``fake`` until the block ends; yields its base URL (``http://127.0.0.1:PORT``)."""
    server = ThreadingHTTPServer((host, port), _handler(fake))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="kefu-fake", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
