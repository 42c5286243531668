"""What the service desk declares (issue 19): its section of the handbook policy (KPI definitions,
urging, the widget), who integrates and handles conversations, the R-DESK rules and its verbs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kefu.core.rulebook import (
    Capability,
    ModuleRules,
    Name,
    Row,
    Section,
    Verbs,
    Window,
    setting,
    table,
    text,
    unique,
    whole,
)
from kefu.org.models import Platform as ShopPlatform
from kefu.org.models import Position
from kefu.org.rules import TEAM_LEADS


class NoSaleReason(Row):
    code: Name = setting(_("Code"), kind="text")
    label: Name = setting(_("Label"), kind="text")


class Platform(Row):
    platform: Name = setting(_("Platform"), kind="text", choices=ShopPlatform.choices)
    window: Window = setting(_("Window (from、to)"), kind="list")
    no_reply_after_minutes: Annotated[int, whole(0, 24 * 60)] = setting(
        _("No reply after (minutes, 0 = never)"), kind="int", default=0
    )


class DeskPolicy(Section):
    title = _("Service desk")
    urge_script: Annotated[str, text(500)] = setting(_("Urging script"), rule="R-DESK-6", editable=False)
    widget_greeting: str = setting(default="", editable=False)
    idle_flag_minutes: Annotated[int, whole(0, 24 * 60)] = setting(
        _("Flag an idle agent after (minutes)"), rule="R-DESK-2"
    )
    conversion_window_days: Annotated[int, whole(0, 31)] = setting(
        _("Inquiry → payment window (days)"), rule="R-DESK-3"
    )
    response_cap_minutes: Annotated[int, whole(0, 24 * 60)] = setting(
        _("A round's response time counts at most (minutes)"), rule="R-DESK-3"
    )
    fast_reply_seconds: Annotated[int, whole(0, 3600)] = setting(_("Fast reply within (seconds)"), rule="R-DESK-3")
    urge_after_minutes: Annotated[int, whole(0, 7 * 24 * 60)] = setting(
        _("Urge payment after (minutes unpaid)"), rule="R-DESK-6"
    )
    urge_consultation_hours: Annotated[int, whole(0, 30 * 24)] = setting(
        _("Consultation counts within (hours before the order)"), rule="R-DESK-6"
    )
    urge_due_minutes: Annotated[int, whole(0, 7 * 24 * 60)] = setting(_("Urge within (minutes)"), rule="R-DESK-6")
    urge_max_days: Annotated[int, whole(0, 31)] = setting(_("Do not urge orders older than (days)"), rule="R-DESK-6")
    no_sale_reasons: tuple[NoSaleReason, ...] = table(_("Reasons for no sale"), rule="R-DESK-6", key="code")
    platforms: tuple[Platform, ...] = table(_("Platform KPI windows"), rule="R-DESK-3", key="platform")

    def cross_checks(self) -> Iterable[tuple[str, str]]:
        yield from unique(self.no_sale_reasons, "code", "no_sale_reasons")
        yield from unique(self.platforms, "platform", "platforms")
        for i, row in enumerate(self.platforms, start=1):
            start, end = row.window
            if end != "24:00" and not start < end:
                yield f"platforms[{i}].window", gettext("start before end (end may be 24:00)")
            if row.platform not in ShopPlatform.values:
                yield f"platforms[{i}].platform", gettext("choose one of the platforms")


class Verb(Verbs):
    CONVERSATION_OPENED = "conversation.opened", _("opened the conversation")
    CONVERSATION_ROUTED = "conversation.routed", _("routed the conversation")
    CONVERSATION_TRANSFERRED = "conversation.transferred", _("transferred the conversation")
    CONVERSATION_ASSIGNED = "conversation.assigned", _("took the conversation")
    CONVERSATION_REOPENED = "conversation.reopened", _("reopened the conversation")
    CONVERSATION_STATUS_CHANGED = "conversation.status_changed", _("changed the conversation's status")
    PRESENCE_CHANGED = "presence.changed", _("changed their desk status")
    CHANNEL_CREATED = "channel.created", _("created a chat channel")
    CHANNEL_UPDATED = "channel.updated", _("changed a chat channel")
    SCRIPT_PROPOSED = "script.proposed", _("proposed a canned reply")
    SCRIPT_DECIDED = "script.decided", _("decided on a canned reply")
    QUESTION_RECORDED = "question.recorded", _("recorded a question")
    QUESTION_ANSWERED = "question.answered", _("answered a question")
    FOLLOWUP_CREATED = "followup.created", _("added a follow-up")
    FOLLOWUP_DONE = "followup.done", _("closed a follow-up")
    DESK_SUMMARY_SENT = "desk.summary_sent", _("sent the daily summary")
    CHASE_OPENED = "chase.opened", _("opened a payment-urging task")
    CHASE_URGED = "chase.urged", _("urged the buyer to pay")
    CHASE_PAID = "chase.paid", _("saw the order paid")
    CHASE_LOST = "chase.lost", _("recorded no sale")


RULE_TEXTS = {
    "R-DESK-1": _("Routing: the team that serves the shop; pre-sales until the latest order ships, then after-sales."),
    "R-DESK-2": _("Any online agent may answer; an auto-reply is not a response; idle agents are flagged."),
    "R-DESK-3": _("Response metrics per agent and day, as the platforms define them; inquiry → payment conversion."),
    "R-DESK-4": _("Questions an agent cannot answer are logged the same day, with the answer once known."),
    "R-DESK-5": _("Orders that cannot be settled at once are follow-ups with an owner and a due time."),
    "R-DESK-6": _("Orders awaiting payment after a consultation are urged; the reason for no sale is recorded."),
    "R-DESK-7": _("The team lead's daily summary: difficult issues, no-sale reasons, open follow-ups."),
}

RULES = ModuleRules(
    module="desk",
    order=50,
    policy={"desk": DeskPolicy},
    capabilities={
        "desk.integrate": Capability(
            TEAM_LEADS, _("push buyer messages into the desk with an API token (the shops in one's scope)")
        ),
        "desk.take": Capability(
            frozenset({Position.PRESALES, Position.AFTERSALES, Position.TEAM_LEAD}),
            _("be given buyer conversations (routing and transfers)"),
        ),
        "desk.staffed": Capability(
            frozenset({Position.PRESALES, Position.AFTERSALES}),
            _("keep a desk status on the presence board (flagged idle with a buyer waiting, R-DESK-2)"),
        ),
        "desk.sell": Capability(
            frozenset({Position.PRESALES, Position.TEAM_LEAD}),
            _("take orders in pre-sales conversations (a payment follows the last such reply, R-DESK-3)"),
        ),
        "desk.convert": Capability(
            frozenset({Position.PRESALES}),
            _("be credited with the payment that follows one's pre-sales reply (R-DESK-3)"),
        ),
        "scripts.decide": Capability(TEAM_LEADS, _("approve canned replies (one's own are approved at once)")),
        "desk.handle": Capability(
            TEAM_LEADS | {Position.AFTERSALES, Position.PRESALES}, _("answer, close and transfer buyer conversations")
        ),
    },
    rules=RULE_TEXTS,
    verbs=Verb,
)
