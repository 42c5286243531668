"""The timeline is append-only and records actor, verb, before/after."""

from __future__ import annotations

from typing import Any

import pytest

from kefu.core.events import event_record, timeline
from kefu.core.models import AppendOnlyError, Event

from .factories import ShopFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_events_cannot_be_edited_or_deleted() -> None:
    shop = ShopFactory()
    user = UserFactory()
    event = event_record(actor=user, verb="shop.created", subject=shop, before={"name": "a"}, after={"name": "b"})
    assert timeline(shop)[0].pk == event.pk and event.actor_label == user.username
    event.verb = "changed"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        Event.objects.filter(pk=event.pk).update(verb="x")
    with pytest.raises(AppendOnlyError):
        Event.objects.filter(pk=event.pk).delete()
    assert Event.objects.get(pk=event.pk).verb == "shop.created"


def test_the_supervisor_sees_messages_that_did_not_go_out_and_sends_one_again(world: Any) -> None:
    """ADR 0008 / issue 19 drift: dead and failing outbox messages have a page; "send again" resets a
    given-up message once, on the audit trail; an agent may not see the page."""
    from django.test import Client

    from kefu.core import clock
    from kefu.core.models import Event, OutboxMessage

    from .conftest import PASSWORD

    now = clock.now()
    dead = OutboxMessage.objects.create(
        kind="desk.reply", payload={"text": "秘密"}, created_at=now, next_attempt_at=now, attempts=8,
        last_error="ConnectionError: gateway down", dead=True,
    )  # fmt: skip
    OutboxMessage.objects.create(kind="desk.reply", payload={}, created_at=now, next_attempt_at=now, sent_at=now)
    boss = Client()
    boss.login(username="boss", password=PASSWORD)
    page = boss.get("/outbox/").content.decode()
    assert "gateway down" in page and "秘密" not in page and page.count('data-testid="outbox-') == 1
    boss.post("/outbox/", {"message": dead.pk})
    dead.refresh_from_db()
    assert not dead.dead and dead.attempts <= 1  # tried again at once (the embedded drain), not given up
    assert Event.objects.filter(verb="outbox.retried").count() == 1
    agent = Client()
    agent.login(username="agent_a", password=PASSWORD)
    assert agent.get("/outbox/").status_code == 403
    assert boss.post("/outbox/", {"message": "abc"}).status_code == 302  # an unreadable id changes nothing


def test_a_platform_refunds_states_and_a_conversation_read_as_words() -> None:
    """Review of issue 19 §6: a synced refund's facts showed the platform's codes (SUCCESS, 3) and a
    conversation's events were labelled "buyer @ 12"."""
    from django.utils import translation

    from kefu.core import wording
    from kefu.desk.models import Conversation

    with translation.override("zh-hans"):
        assert wording.value_text("SUCCESS", "platform_status") == "已退款"
        assert wording.value_text("WAIT_SELLER_AGREE", "platform_status") == "等待卖家同意"
        assert wording.value_text("3", "cs_status") == "客服已经介入"
        assert wording.value_text("3", "quantity") == "3"  # a number elsewhere stays a number
        assert str(Conversation(buyer="tb_小明", shop_id=12)) == "与 tb_小明 的会话"
    with translation.override("en"):
        assert wording.value_text("SUCCESS", "platform_status") == "Refunded"
