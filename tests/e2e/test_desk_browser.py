"""The agent's conversation page in a real browser: two replies in a row are both sent, each shown
once (the form's response and the live stream never double a message), the box clears."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kefu.core.events import SystemActor
from kefu.desk import services
from kefu.desk.models import Conversation, Message

from ..conftest import World
from .test_browser import _sign_in

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
    _sign_in(page, live_server, "agent_a")
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


def test_an_agent_changes_their_desk_status_from_the_inbox(world: World, live_server, page) -> None:  # type: ignore[no-untyped-def]
    from kefu.desk.models import Presence

    services.presence_set(actor=world.agent_a, state="online")
    _sign_in(page, live_server, "agent_a")
    page.goto(f"{live_server.url}/desk/")
    with page.expect_navigation():
        page.select_option("[data-testid=presence]", "away")  # submits by itself (kefu.js, no inline handler)
    expect(page.locator("[data-testid=presence]")).to_have_value("away")
    assert Presence.objects.get(staff__user=world.agent_a).state == "away"


def test_payment_urging_works_on_a_phone(world: World, live_server, page) -> None:  # type: ignore[no-untyped-def]
    """At 390 px each task is a card: the message box, the urge button and the no-sale form are on
    screen, and urging sends the script into the conversation."""
    import datetime as dt

    from kefu.commerce.models import OrderStatus
    from kefu.desk.models import PaymentChase

    from ..factories import OrderFactory

    now = dt.datetime.now(dt.UTC)
    services.messages_ingest(
        actor=SystemActor("t"),
        channel=services.channel_default("api"),
        items=[
            {
                "external_id": "pc1",
                "shop": "hdc",
                "buyer": "hesitant",
                "direction": "in",
                "sent_at": (now - dt.timedelta(hours=1)).isoformat(),
                "text": "有货吗",
            }
        ],
    )
    OrderFactory(
        shop=world.shop_a,
        customer=None,
        buyer_nick="hesitant",
        status=OrderStatus.AWAITING_PAYMENT,
        paid_amount="0.00",
        paid_at=None,
        ordered_at=now - dt.timedelta(minutes=30),
    )
    services.payment_chases_due()
    chase = PaymentChase.objects.get()
    page.set_viewport_size({"width": 390, "height": 800})
    _sign_in(page, live_server, "agent_a")
    page.goto(f"{live_server.url}/desk/chases/")
    button = page.locator(f"[data-testid=chase-{chase.pk}] [data-testid=chase-urge] button")
    box = button.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    page.fill(f"[data-testid=chase-{chase.pk}] textarea[name=text]", "亲,库存有限哦~")
    with page.expect_navigation():
        button.click()
    assert Message.objects.filter(conversation=chase.conversation, direction="out", text="亲,库存有限哦~").count() == 1
    from .test_browser import WIDEST

    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, page.evaluate(WIDEST)
