"""What the web layer's settings pages declare (issue 19): the policy's ``[meta]`` section and who
may change the policy, read the audit log, send failed messages again and configure status labels."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kefu.core.rulebook import Capability, ModuleRules, Section, setting
from kefu.org.models import Position
from kefu.org.rules import LEADS


class MetaPolicy(Section):
    title = _("About this policy")
    # title, currency and time zone are kept as written (the app runs in CNY and Asia/Shanghai)
    name: str = setting(default="seed-handbook", editable=False)


RULES = ModuleRules(
    module="web",
    order=1,
    policy={"meta": MetaPolicy},
    capabilities={
        "policy.change": Capability(frozenset({Position.SUPERVISOR}), _("save a new handbook policy version")),
        "audit.view": Capability(LEADS, _("read the audit log")),
        "outbox.manage": Capability(LEADS, _("see messages that did not go out and send them again")),
        "workflow.configure": Capability(LEADS, _("edit the status labels of the workflows")),
    },
)
