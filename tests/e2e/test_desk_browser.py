"""The agent's conversation page in a real browser: two replies in a row are both sent, each shown
once (the form's response and the live stream never double a message), the box clears."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kefu.core.events import SystemActor
from kefu.desk import services
from kefu.desk.models import Conversation, Message

from ..conftest import PASSWORD, World

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_two_replies_in_a_row_are_both_sent_and_shown_once(world: World, live_server, page) -> None:  # type: ignore[no-untyped-def]
    services.presence_set(actor=world.agent_a, state="online")
    item = {
        "external_id": "e1",
        "shop": "hdc",
        "buyer": "live_buyer",
        "direction": "in",
        "kind": "text",
        "sent_at": "2026-11-29T10:00:00+08:00",
        "text": "在吗",
    }
    services.messages_ingest(actor=SystemActor("t"), channel=services.channel_default("api"), items=[item])
    conversation = Conversation.objects.get(buyer="live_buyer")
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "agent_a")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/desk/{conversation.pk}/")
    for text in ("第一条回复", "第二条回复"):
        page.fill("[data-testid=reply-text]", text)
        page.click("[data-testid=reply-send]")
        page.locator("#thread .msg-row.out", has_text=text).first.wait_for(timeout=5000)
        expect(page.locator("[data-testid=reply-text]")).to_have_value("", timeout=5000)
    page.wait_for_timeout(1200)  # the live stream has had time to deliver the same messages
    ids = page.eval_on_selector_all("#thread .msg-row.out", "els => els.map(e => e.id)")
    assert len(ids) == 2, ids
    assert list(
        Message.objects.filter(conversation=conversation, direction="out").order_by("pk").values_list("text", flat=True)
    ) == ["第一条回复", "第二条回复"]
