"""Conversations on the shared workflow core: a buyer waiting, answered, or closed; the SLA is the
policy's 空挂 threshold from the buyer's first unanswered message."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kefu.workflow.registry import Workflow

from .models import ConversationCategory as Cat

CONVERSATIONS = Workflow(
    capability="desk.handle",
    key="desk.conversation",
    label=_("Conversations"),
    model="desk.Conversation",
    categories=Cat,
    transitions={
        Cat.WAITING: frozenset({Cat.ANSWERED, Cat.CLOSED}),
        Cat.ANSWERED: frozenset({Cat.WAITING, Cat.CLOSED}),
        Cat.CLOSED: frozenset({Cat.WAITING, Cat.ANSWERED}),
    },
    default_labels=(("买家等待中", Cat.WAITING, True), ("已回复", Cat.ANSWERED, True), ("已结束", Cat.CLOSED, True)),
    initial=Cat.WAITING,
    done=frozenset({Cat.CLOSED}),
    closed=Cat.CLOSED,
    event_prefix="conversation",
    assignee_field="owner",
    deadline_fields=("sla_due_at",),
)
