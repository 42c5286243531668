"""The ASGI entry point ``kefu serve`` runs (gunicorn with uvicorn workers; ADR 0018).

The live streams (``desk:stream``) go to Django's ASGI handler, where each is an async generator that
holds no thread however long it stays open. Every other request goes to the WSGI application on a
pool of ``KEFU_WEB_THREADS`` threads, exactly as under a threaded WSGI server: Django's ASGI
handler would run all sync views of a process on one thread, one after another. A request with a
small declared body is handed to a thread once, whole (``kefu.web.wsgi_bridge``, ADR 0025); uploads
and bodies of unknown length stream through a2wsgi on the same threads.
"""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

from a2wsgi import WSGIMiddleware
from django.core.asgi import get_asgi_application
from django.core.wsgi import get_wsgi_application
from django.urls import reverse

from kefu.web.wsgi_bridge import BufferedWSGI

live = get_asgi_application()
wsgi = get_wsgi_application()
streamed: Any = WSGIMiddleware(wsgi, workers=int(os.environ.get("KEFU_WEB_THREADS", "16")))  # type: ignore[arg-type]
pages = BufferedWSGI(wsgi, streamed.executor, streamed)
LIVE_PATHS = frozenset({reverse("desk:stream")})


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    elif scope["type"] == "http" and scope["path"] in LIVE_PATHS:
        await live(scope, receive, send)
    else:
        await pages(scope, receive, send)
