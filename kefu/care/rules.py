"""What customer care declares (issue 19): its section of the handbook policy (rest hours, emotions,
complaint reasons), who assigns customers and complaints, the R-CARE rules and the timeline's verbs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from django.utils.translation import gettext_lazy as _

from kefu.core.rulebook import (
    Capability,
    CodeLabel,
    ModuleRules,
    Name,
    Row,
    Section,
    Verbs,
    Whole,
    Window,
    setting,
    table,
    unique,
    whole,
    words,
)
from kefu.org.models import Position
from kefu.org.rules import LEADS, TEAM_LEADS


class Emotion(Row):
    code: Name
    label: Name
    keywords: Annotated[tuple[str, ...], words(20)]


class CarePolicy(Section):
    title = _("Customer care")
    new_customer_contact_days: Whole = setting(_("First contact with a new customer within (days)"), rule="R-CARE-2")
    member_visit_coverage_percent: Annotated[int, whole(0, 100)] = setting(
        _("Members visited (percent)"), rule="R-CARE-3"
    )
    rest_windows: tuple[Window, ...] = setting(rule="R-CARE-3", editable=False)
    emotions: tuple[Emotion, ...] = table(rule="R-CARE-1", key="code", editable=False)
    complaint_reasons: tuple[CodeLabel, ...] = table(rule="R-CARE-1", key="code", editable=False)

    def cross_checks(self) -> Iterable[tuple[str, str]]:
        yield from unique(self.emotions, "code", "emotions")
        yield from unique(self.complaint_reasons, "code", "complaint_reasons")


class Verb(Verbs):
    COMPLAINT_RECEIVED = "complaint.received", _("received the complaint")
    COMPLAINT_RESOLVED = "complaint.resolved", _("resolved the complaint")
    COMPLAINT_EMOTION_CONFIRMED = "complaint.emotion_confirmed", _("confirmed the customer's emotion")
    COMPLAINT_STATUS_CHANGED = "complaint.status_changed", _("changed the complaint's status")
    COMPLAINT_REOPENED = "complaint.reopened", _("reopened the complaint")
    COMPLAINT_STEP_DONE = "complaint.step_done", _("did a handling step")
    COMPLAINT_STEP_UNDONE = "complaint.step_undone", _("undid a handling step")
    VISIT_SCHEDULED = "visit.scheduled", _("scheduled a return visit")
    VISIT_DONE = "visit.done", _("made the customer's return visit")
    CUSTOMER_FIRST_CONTACT = "customer.first_contact", _("made the first contact with the customer")
    COMPLAINT_ASSIGNED = "complaint.assigned", _("assigned the complaint")
    VISIT_MEMBERS_SCHEDULED = "visit.members_scheduled", _("scheduled the members' return visits")


RULE_TEXTS = {
    "R-CARE-1": _("A complaint records the customer's emotion and follows the handling steps, then a return visit."),
    "R-CARE-2": _("Customers are assigned by count and skill; a new customer is contacted within 7 days."),
    "R-CARE-3": _("Return visits never in the customer's rest hours; every member visited; every visit recorded."),
}


RULES = ModuleRules(
    module="care",
    order=60,
    policy={"care": CarePolicy},
    capabilities={
        "customers.assign": Capability(LEADS, _("assign customers to agents (R-CARE-2)")),
        "complaints.assign": Capability(TEAM_LEADS, _("give a complaint to the person who handles it")),
        "customers.serve": Capability(
            frozenset({Position.PRESALES, Position.AFTERSALES, Position.TEAM_LEAD}),
            _("be assigned customers to look after (R-CARE-2)"),
        ),
        "care.handle": Capability(
            TEAM_LEADS | {Position.AFTERSALES, Position.PRESALES}, _("take complaints and make return visits")
        ),
    },
    rules=RULE_TEXTS,
    verbs=Verb,
)
