"""What the connectors declare: who manages them, who sees their health, the timeline's verbs."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kefu.core.rulebook import Capability, ModuleRules, Verbs
from kefu.org.rules import LEADS, TEAM_LEADS


class Verb(Verbs):
    CONNECTOR_ADDED = "connector.added", _("added the connector")
    CONNECTOR_CHANGED = "connector.changed", _("changed the connector")
    CONNECTOR_SYNCED = "connector.synced", _("synced the connector")
    CONNECTOR_FAILED = "connector.failed", _("found the connector failing")
    CONNECTOR_RECOVERED = "connector.recovered", _("found the connector working again")
    MEMO_WRITTEN = "connector.memo_written", _("wrote the order remark to the platform")


RULES = ModuleRules(
    module="connectors",
    order=90,
    policy={},
    capabilities={
        "connectors.manage": Capability(LEADS, _("add platform and DingTalk connectors and change their keys")),
        "connectors.view": Capability(TEAM_LEADS, _("see the connectors' health and start a sync")),
    },
    rules={},
    verbs=Verb,
)
