"""What the workflow core declares (issue 19): the verbs every workflow records (a pattern such as
"*.status_changed" reads the same for cases, requests and conversations) and its status labels'."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kefu.core.rulebook import ModuleRules, Verbs


class Verb(Verbs):
    ANY_STATUS_CHANGED = "*.status_changed", _("changed the status")
    ANY_REOPENED = "*.reopened", _("reopened it")
    ANY_ASSIGNED = "*.assigned", _("assigned it")
    ANY_STEP_DONE = "*.step_done", _("ticked a checklist step")
    ANY_STEP_UNDONE = "*.step_undone", _("unticked a checklist step")
    ANY_EVIDENCE_ADDED = "*.evidence_added", _("attached a file")
    ANY_ESCALATED = "*.escalated", _("escalated it (deadline near)")
    ANY_DEADLINE_BREACHED = "*.deadline_breached", _("marked the deadline as missed")
    STATUS_LABEL_CREATED = "status_label.created", _("added a status label")
    STATUS_LABEL_CHANGED = "status_label.changed", _("changed a status label")
    STATUS_LABEL_DELETED = "status_label.deleted", _("removed a status label")


RULES = ModuleRules(module="workflow", order=5, verbs=Verb)
