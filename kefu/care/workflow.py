"""Complaints on the shared workflow core: R-CARE-1's handling steps as the checklist."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kefu.workflow.registry import Workflow

from .models import ComplaintCategory as Cat

# seed 001 七.安抚客户情绪 / 003 处理用户抱怨的步骤
HANDLING_STEPS = (
    ("listen", _("Listen to the customer to the end, without interrupting")),
    ("judge", _("Judge whether we are at fault")),
    ("understand", _("Show understanding and apologise")),
    ("explain", _("Explain the cause and what we will do")),
    ("record", _("Record everything in detail")),
    ("win_back", _("Win the customer back: make good and keep them (seed 003)")),
)

COMPLAINTS = Workflow(
    capability="care.handle",
    key="care.complaint",
    label=_("Complaints"),
    model="care.Complaint",
    categories=Cat,
    transitions={
        Cat.OPEN: frozenset({Cat.HANDLING, Cat.RESOLVED}),
        Cat.HANDLING: frozenset({Cat.RESOLVED, Cat.OPEN}),
        Cat.RESOLVED: frozenset({Cat.CLOSED, Cat.HANDLING}),
        Cat.CLOSED: frozenset({Cat.HANDLING}),
    },
    default_labels=(
        ("已受理", Cat.OPEN, True),
        ("处理中", Cat.HANDLING, True),
        ("已解决", Cat.RESOLVED, True),
        ("已回访关闭", Cat.CLOSED, True),
    ),
    initial=Cat.OPEN,
    done=frozenset({Cat.CLOSED}),
    closed=Cat.CLOSED,
    event_prefix="complaint",
    assignee_field="owner",
    deadline_fields=(),
    checklist=lambda item: HANDLING_STEPS,
)
