"""The desk KPIs' turns made by the query (``selectors._day_turns``, issue 20 §3) are the turns the
pure rules make from the same messages (``policies.desk.turns``): on random conversations with
ties in time, auto-replies, system messages, notes, replies without an agent and replies nobody
asked for, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kefu.core import clock
from kefu.desk import selectors
from kefu.desk.models import Channel, ChannelKind, Conversation, Message
from kefu.org.models import Staff
from kefu.policies import desk as rules

from .conftest import World

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 11, 20)
message = st.tuples(
    st.integers(0, 2),  # conversation
    # seconds after the day's local midnight: its edges (the second before, the first, 07:59 — still the
    # day before in UTC —, 08:00, the last second, the next day) or a busy minute where ties are common
    st.one_of(st.sampled_from([-1, 0, 1, 28740, 28800, 86399, 86400]), st.integers(32400, 32440)),
    st.sampled_from(["in", "out", "note"]),
    st.sampled_from(["text", "image", "auto", "system"]),
    st.sampled_from([None, 0, 1]),  # agent
    st.integers(0, 1),  # channel
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(message, max_size=30))
def test_the_querys_turns_are_the_rules_turns(world: World, drawn: list[tuple[Any, ...]]) -> None:
    Message.objects.all().delete()
    Conversation.objects.filter(buyer__startswith="t-").delete()
    agents = [Staff.objects.get(user=world.agent_a), Staff.objects.get(user=world.lead_a)]
    channels = [
        Channel.objects.get_or_create(code=f"c{i}", defaults={"name": f"c{i}", "kind": ChannelKind.PLATFORM})[0]
        for i in range(2)
    ]
    conversations = [_conversation(world, i) for i in range(3)]
    start = clock.day_start(DAY)
    expected = []
    end = start + dt.timedelta(days=1)
    for n, (conv, second, direction, kind, agent, channel) in enumerate(drawn):
        at = start + dt.timedelta(seconds=second)
        sender = agents[agent] if agent is not None and direction == "out" else None
        Message.objects.create(
            conversation=conversations[conv],
            shop=world.shop_a,
            channel=channels[channel],
            external_id=f"m{n}",
            direction=direction,
            kind=kind,
            agent=sender,
            sent_at=at,
            received_at=at,
        )
        if direction != "note" and start <= at < end:
            ident = f"{channels[channel].pk}:m{n}"
            agent_no = sender.employee_no if sender else None
            expected.append(rules.Message(conversations[conv].pk, at, direction, kind, agent_no, ident))
    made, _conversations = selectors._day_turns([world.shop_a.pk], start, end)
    assert sorted(made, key=_key) == sorted(rules.turns(expected), key=_key)


def _key(t: rules.Turn) -> tuple[Any, ...]:
    return (t.conversation, t.start or t.reply_at, t.reply_at or t.start, t.agent or "")


def _conversation(world: World, i: int) -> Conversation:
    from kefu.desk.workflow import CONVERSATIONS
    from kefu.workflow.services import default_label

    return Conversation.objects.create(
        shop=world.shop_a,
        buyer=f"t-{i}",
        status=default_label(CONVERSATIONS, "waiting"),
        opened_at=clock.now(),
        updated_at=clock.now(),
    )
