"""Canned replies, the question log and follow-ups (R-DESK-4, R-DESK-5)."""

from __future__ import annotations

import datetime as dt

from django.db.models import F
from django.utils.translation import gettext as _

from kefu.core import clock
from kefu.core.actions import action, is_operator
from kefu.core.actors import Actor
from kefu.core.errors import ApplicationError
from kefu.core.events import event_record
from kefu.desk.rules import Verb
from kefu.org.models import Shop, Staff
from kefu.org.permissions import has_capability
from kefu.org.selectors import staff_of

from ..models import (
    Conversation,
    FollowUp,
    Question,
    Script,
    ScriptStatus,
)
from .agents import _own_staff

# --- canned replies, question log, follow-ups (R-DESK-4, R-DESK-5) ------------------------------


def _clean(value: str, limit: int, message: str) -> str:
    value = (value or "").strip()
    if not value or len(value) > limit or "\x00" in value:
        raise ApplicationError("validation_error", message)
    return value


@action(capability="desk.handle", scope=("shop",))
def script_propose(*, actor: Actor, shop: Shop, category: str, title: str, text: str) -> Script:
    """An agent proposes a canned reply; a team lead's (or above) is approved at once."""
    staff = _own_staff(actor)
    approved = is_operator(actor) or has_capability(actor, "scripts.decide")
    script = Script.objects.create(
        shop=shop,
        category=_clean(category, 40, _("Give the canned reply a category of at most 40 characters.")),
        title=_clean(title, 80, _("Give the canned reply a title of at most 80 characters.")),
        text=_clean(text, 2000, _("Write the canned reply (at most 2,000 characters).")),
        status=ScriptStatus.APPROVED if approved else ScriptStatus.PROPOSED,
        proposed_by=staff,
        approved_by=staff if approved else None,
        created_at=clock.now(),
    )
    event_record(
        actor=actor, verb=Verb.SCRIPT_PROPOSED, subject=script, after={"title": script.title, "status": script.status}
    )
    return script


@action(capability="scripts.decide", scope=("script",))
def script_decide(*, actor: Actor, script: Script, approve: bool) -> Script:
    """The team lead approves a proposed canned reply or retires one."""
    status = ScriptStatus.APPROVED if approve else ScriptStatus.RETIRED
    before = script.status
    Script.objects.filter(pk=script.pk).update(
        status=status, approved_by=staff_of(actor) if approve else script.approved_by
    )
    script.refresh_from_db()
    event_record(
        actor=actor, verb=Verb.SCRIPT_DECIDED, subject=script, before={"status": before}, after={"status": status}
    )
    return script


def script_used(*, script_id: int) -> None:
    """Count a use (inserting it into a reply); a counter, not a state change."""
    Script.objects.filter(pk=script_id).update(uses=F("uses") + 1)


@action(capability="desk.handle", scope=("shop", "conversation"))
def question_record(
    *, actor: Actor, shop: Shop, question: str, buyer: str = "", conversation: Conversation | None = None
) -> Question:
    staff = _own_staff(actor)
    item = Question.objects.create(
        shop=shop,
        conversation=conversation,
        buyer=(buyer or (conversation.buyer if conversation else ""))[:100],
        question=_clean(question, 2000, _("Write the question (at most 2,000 characters).")),
        asked_at=clock.now(),
        recorded_by=staff,
    )
    event_record(actor=actor, verb=Verb.QUESTION_RECORDED, subject=item, after={"question": item.question[:100]})
    return item


@action(capability="desk.handle", scope=("item",))
def question_answer(
    *, actor: Actor, item: Question, answer: str, promote: bool = False, category: str = ""
) -> Question:
    """Record the answer once known; ``promote`` makes it a canned reply of the shop (approved when
    a team lead answers, proposed otherwise)."""
    staff = _own_staff(actor)
    answer = _clean(answer, 2000, _("Write the answer (at most 2,000 characters)."))
    updated = Question.objects.filter(pk=item.pk, answered_at__isnull=True).update(
        answer=answer, answered_by=staff, answered_at=clock.now()
    )
    if not updated:
        raise ApplicationError("changed", _("This question was answered meanwhile; reload the page."), status=409)
    item.refresh_from_db()
    event_record(actor=actor, verb=Verb.QUESTION_ANSWERED, subject=item, after={"answer": answer[:100]})
    if promote:
        script = script_propose(
            actor=actor, shop=item.shop, category=category or _("Questions"), title=item.question[:80], text=answer
        )
        Question.objects.filter(pk=item.pk).update(script=script)
        item.script = script
    return item


@action(capability="desk.handle", scope=("shop", "owner", "conversation"))
def followup_create(
    *,
    actor: Actor,
    shop: Shop,
    buyer: str,
    problem: str,
    owner: Staff,
    due_at: dt.datetime,
    order_no: str = "",
    purchase_date: dt.date | None = None,
    request: str = "",
    conversation: Conversation | None = None,
) -> FollowUp:
    if due_at < clock.now() - dt.timedelta(minutes=10):
        raise ApplicationError("validation_error", _("The follow-up's due time lies in the past."))
    if purchase_date is not None and purchase_date > clock.today():
        raise ApplicationError("validation_error", _("The purchase date lies in the future."))
    if len((order_no or "").strip()) > 64:
        raise ApplicationError("validation_error", _("An order number has at most 64 characters."))
    item = FollowUp.objects.create(
        shop=shop,
        conversation=conversation,
        buyer=_clean(buyer, 100, _("Give the buyer's nick.")),
        order_no=(order_no or "").strip()[:64],
        purchase_date=purchase_date,
        problem=_clean(problem, 300, _("Describe the problem (at most 300 characters).")),
        request=(request or "").strip()[:300],
        owner=owner,
        due_at=due_at,
        created_at=clock.now(),
    )
    event_record(
        actor=actor, verb=Verb.FOLLOWUP_CREATED, subject=item, after={"problem": item.problem, "owner": owner.name}
    )
    return item


@action(capability="desk.handle", scope=("item",))
def followup_done(*, actor: Actor, item: FollowUp, outcome: str) -> FollowUp:
    outcome = _clean(outcome, 300, _("Say how it was settled (at most 300 characters)."))
    if not FollowUp.objects.filter(pk=item.pk, done_at__isnull=True).update(done_at=clock.now(), outcome=outcome):
        raise ApplicationError("changed", _("This follow-up was closed meanwhile; reload the page."), status=409)
    item.refresh_from_db()
    event_record(actor=actor, verb=Verb.FOLLOWUP_DONE, subject=item, after={"outcome": outcome})
    return item
