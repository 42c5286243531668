"""Leaving Kefu: agents' replies to the chat platforms, and the team lead's daily summary to the
DingTalk group robot — both from the outbox, after commit, with retries.

A platform reply goes through the sender named by ``KEFU_DESK_SENDER`` (a dotted path to a callable
``send(channel_code, buyer, shop_code, text)``); the embedded default logs it. Widget visitors read
replies from Kefu itself, so nothing leaves for a widget channel.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy

from kefu.core.outbox import outbox_handler

from .models import ChannelKind, Message

log = logging.getLogger("kefu.desk")
DELIVER = "desk.deliver"
SUMMARY = "desk.daily_summary"


def logging_sender(channel: str, buyer: str, shop: str, text: str) -> None:
    log.info("reply to %s in %s via %s: %s", buyer, shop, channel, text[:200])


@outbox_handler(DELIVER, gettext_lazy("Reply to a buyer"))
def _deliver(payload: dict[str, Any]) -> None:
    pk = int(payload.get("message") or 0)
    message = Message.objects.select_related("channel", "conversation__shop").filter(pk=pk).first()
    if message is None or message.channel.kind == ChannelKind.WIDGET:
        return
    path = getattr(settings, "KEFU_DESK_SENDER", "") or "kefu.desk.delivery.logging_sender"
    send = import_string(path)
    send(message.channel.code, message.conversation.buyer, message.conversation.shop.code, message.text)


@outbox_handler(SUMMARY, gettext_lazy("Daily desk summary to the group"))
def _summary(payload: dict[str, Any]) -> None:
    """Post the team lead's daily summary to the DingTalk robot, when one is configured."""
    from kefu.workforce.publication import robot_send

    url = getattr(settings, "KEFU_DINGTALK_ROBOT_URL", "")
    if url and payload.get("text"):
        robot_send(
            url=url,
            secret=getattr(settings, "KEFU_DINGTALK_ROBOT_SECRET", ""),
            title=str(payload.get("title") or "组长日报"),
            text=str(payload["text"]),
        )
