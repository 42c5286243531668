"""After-sales cases on the shared workflow core: their categories, the moves between them, the
default labels, the SLA from the policy, the playbook as checklist and evidence as attachments."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from kefu.core.errors import ApplicationError
from kefu.core.policy_store import policy_in_force
from kefu.policies.aftersales import playbook
from kefu.workflow.registry import Workflow

from .models import Category, EvidenceKind, MoneyStatus

WAITING = frozenset(
    {Category.WAITING_BUYER, Category.WAITING_WAREHOUSE, Category.WAITING_COURIER, Category.WAITING_PLATFORM}
)
DONE = frozenset({Category.RESOLVED, Category.CLOSED})


def _no_pending_refund(case: Any) -> None:
    if case.money.filter(status=MoneyStatus.REQUESTED).exists():
        raise ApplicationError(
            "case_pending_refund", _("A refund is awaiting approval; the case cannot be closed yet.")
        )


def _work_done(case: Any) -> None:
    """A case is resolved once a resolution was chosen (or it was closed on the platform's side)
    and no refund of it still waits for a decision."""
    _no_pending_refund(case)
    if not case.resolution and not case.external_ref:
        raise ApplicationError("transition_guard", _("Choose a resolution before the case is resolved."))


CASES = Workflow(
    capability="cases.handle",
    key="aftersales.case",
    label=_("After-sales cases"),
    model="aftersales.Case",
    categories=Category,
    transitions={
        Category.OPEN: frozenset({*WAITING, Category.RESOLVED, Category.OPEN}),
        **{w: frozenset({Category.OPEN, Category.RESOLVED, *WAITING}) for w in WAITING},
        Category.RESOLVED: frozenset({Category.CLOSED, Category.OPEN}),
        Category.CLOSED: frozenset({Category.OPEN}),
    },
    default_labels=(
        ("新建", Category.OPEN, True),
        ("处理中", Category.OPEN, False),
        ("待买家回复", Category.WAITING_BUYER, True),
        ("待仓库处理", Category.WAITING_WAREHOUSE, True),
        ("待快递回复", Category.WAITING_COURIER, True),
        ("待平台处理", Category.WAITING_PLATFORM, True),
        ("已解决", Category.RESOLVED, True),
        ("已关闭", Category.CLOSED, True),
    ),
    initial=Category.OPEN,
    done=DONE,
    closed=Category.CLOSED,
    event_prefix="case",
    assignee_field="owner",
    deadline_fields=("platform_deadline", "sla_due_at"),
    sla_hours=lambda case: int(policy_in_force().aftersales.sla_resolution_hours),
    escalate_before_hours=lambda: int(policy_in_force().aftersales.escalate_before_deadline_hours),
    checklist=lambda case: playbook(case.case_type),
    guards={Category.RESOLVED: _work_done, Category.CLOSED: _no_pending_refund},
    attachment_model="aftersales.Evidence",
    attachment_fk="case",
    attachment_kinds=tuple(EvidenceKind.choices),
)
