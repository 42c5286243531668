"""The web chat widget on a shop's own site (another origin): the visitor writes, an agent answers
in Kefu, the visitor sees the answer — as text."""

from __future__ import annotations

import http.server
import re
import socket
import threading
from pathlib import Path

import pytest

from kefu.desk import services
from kefu.desk.models import Conversation, Message
from kefu.desk.widget import visitor_name

from ..conftest import World

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _serve(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handler = lambda *a, **kw: http.server.SimpleHTTPRequestHandler(*a, directory=str(directory), **kw)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{port}"


def test_a_visitor_on_the_shops_site_chats_with_an_agent(world: World, live_server, page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    site, origin = _serve(tmp_path)
    try:
        # the shop's site is another origin (another port) than Kefu
        services.channel_create(
            actor=world.supervisor,
            code="hdc-web",
            name="海盗船官网客服",
            kind="widget",
            shop=world.shop_a,
            origins=[origin],
        )
        (tmp_path / "index.html").write_text(
            f'<!doctype html><html><head><meta charset="utf-8"><title>海盗船官网</title></head><body><h1>海盗船</h1>'
            f'<script src="{live_server.url}/desk/widget/hdc-web.js" async></script></body></html>',
            encoding="utf-8",
        )
        services.presence_set(actor=world.agent_a, state="online")
        page.goto(f"{origin}/index.html")
        page.click("[data-kefu=open]")
        # the widget greets first, names the shop, and can be closed (issue 18)
        assert "欢迎光临海盗船" in page.locator("[data-kefu=greeting]").text_content()
        page.click("[data-kefu=close]")
        assert not page.locator("[data-kefu=input]").is_visible()
        page.click("[data-kefu=open]")
        page.fill("[data-kefu=input]", "<b>有货吗</b>")
        page.click("[data-kefu=send]")
        page.locator("[data-kefu=visitor]").first.wait_for(timeout=5000)
        assert page.locator("[data-kefu=visitor]").first.text_content() == "<b>有货吗</b>"  # text, not HTML
        assert re.fullmatch(r"\d\d:\d\d", page.locator("[data-kefu=time]").first.text_content() or "")
        visitor = page.evaluate("localStorage.getItem('kefu-visitor-hdc-web')")
        conversation = Conversation.objects.get(buyer=visitor_name(visitor))
        assert conversation.shop == world.shop_a and conversation.owner is not None  # routed to the online agent
        services.reply_send(actor=world.agent_a, conversation=conversation, text="亲,有现货的")
        page.locator("[data-kefu=shop]", has_text="亲,有现货的").wait_for(timeout=5000)
        # the identity stays in the visitor's browser: a reload shows the same thread
        page.reload()
        page.click("[data-kefu=open]")
        page.locator("[data-kefu=shop]", has_text="亲,有现货的").wait_for(timeout=5000)
        assert Message.objects.filter(conversation=conversation).count() == 2
    finally:
        site.shutdown()
