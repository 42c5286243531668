"""Customer-care writes (SPEC §7, R-CARE-1 … R-CARE-3): one action per write, the change and its
event in one transaction."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Sequence

from django.utils.translation import gettext as _

from kefu.care.rules import Verb
from kefu.commerce.models import Customer, Order
from kefu.commerce.services import customer_assign, customer_record
from kefu.core import clock
from kefu.core.actions import action
from kefu.core.actors import Actor, user_of
from kefu.core.errors import ApplicationError
from kefu.core.events import event_record
from kefu.core.policy_store import policy_in_force
from kefu.org.models import Shop, Staff
from kefu.org.permissions import staff_holds
from kefu.org.selectors import staff_of
from kefu.policies import care as rules
from kefu.service.models import ServiceRequest
from kefu.workflow import services as wf

from . import selectors
from .models import Assignment, Complaint, ComplaintCategory, Emotion, ReturnVisit, VisitChannel, VisitTopic
from .workflow import COMPLAINTS, HANDLING_STEPS

CHANNELS = ("phone", "online", "wechat", "email", "visit")


def _text(value: str, limit: int) -> str:
    return (value or "").strip()[:limit]


@action(capability="care.handle", scope=("shop", "customer", "order", "service_request"))
def complaint_create(
    *,
    actor: Actor,
    shop: Shop,
    contact_name: str,
    text: str,
    channel: str = "phone",
    contact_phone: str = "",
    emotion: str = "",
    customer: Customer | None = None,
    order: Order | None = None,
    service_request: ServiceRequest | None = None,
    buyer_nick: str = "",
) -> Complaint:
    """R-CARE-1 intake: the emotion is suggested from the text by the policy's keyword model and
    confirmed (or changed) by the agent; both are kept, with the words that suggested it. Every
    complaint belongs to a customer (SPEC §7 clarified): the one given, the order's, else found by
    buyer nick or phone in the shop's platform, else created — so its return visit can be made."""
    if not (text or "").strip() or not (contact_name or "").strip():
        raise ApplicationError("complaint", _("Who complains, and what did they say?"))
    if channel not in CHANNELS:
        raise ApplicationError("complaint", _("Choose how the complaint came in."))
    if emotion and emotion not in Emotion.values:
        raise ApplicationError("complaint", _("Choose the customer's emotion from the list."))
    guess = rules.suggest_emotion(policy_in_force().document, text)
    now = clock.now()
    customer = customer or (order.customer if order and order.customer_id else None)
    if customer is None:
        customer = _customer_found_or_created(actor, shop, buyer_nick, contact_name, contact_phone, now)
    item = Complaint.objects.create(
        number=f"tmp-{uuid.uuid4().hex[:16]}",
        shop=shop,
        customer=customer,
        order=order,
        service_request=service_request,
        contact_name=_text(contact_name, 64),
        contact_phone=_text(contact_phone, 32),
        channel=channel,
        text=_text(text, 5000),
        emotion_suggested=guess.code or "",
        emotion=emotion or guess.code or Emotion.CALM,
        emotion_matches=guess.matches,
        owner=staff_of(actor),
        **wf.open_fields(COMPLAINTS, now),
    )
    item.number = f"TS{clock.local_date(now):%Y%m%d}{item.pk:05d}"
    Complaint.objects.filter(pk=item.pk).update(number=item.number)
    event_record(
        actor=actor,
        verb=Verb.COMPLAINT_RECEIVED,
        subject=item,
        after={"complaint_no": item.number, "emotion": item.emotion, "suggested": item.emotion_suggested},
    )
    return item


def _customer_found_or_created(
    actor: Actor, shop: Shop, buyer_nick: str, contact_name: str, contact_phone: str, now: dt.datetime
) -> Customer:
    """Found among the customers the actor may see (another team's stay theirs), else created."""
    nick = _text(buyer_nick, 100)
    # "139 1111 2222", "139-1111-2222" and "13911112222" are one phone
    phone = re.sub(r"[\s\-()（）]", "", _text(contact_phone, 32))
    if not nick and not phone:
        raise ApplicationError(
            "complaint", _("Give the customer's phone, buyer nick or order: every complaint belongs to a customer.")
        )
    platform = shop.platform
    mine = Customer.objects.restrict(actor)
    if nick:
        found = mine.filter(platform=platform, nick=nick).first()
    else:
        found = mine.filter(platform=platform, phone=phone).order_by("pk").first()
        nick = phone  # a customer known by phone only (a call, the web form) goes by the number
    if found is not None:
        return found
    return customer_record(
        actor=actor, shop=shop, nick=nick, name=_text(contact_name, 64), phone=phone, at=now, source="complaint"
    )


@action(capability="complaints.assign", scope=("item", "owner"))
def complaint_assign(*, actor: Actor, item: Complaint, owner: Staff) -> Complaint:
    """SPEC §7 (003 §4.1.3 客户投诉分配及处理): the team lead or the supervisor gives a complaint to the
    person who handles it."""
    if not staff_holds(owner, "care.handle"):
        raise ApplicationError("complaint", _("%(name)s does not handle complaints.") % {"name": owner.name})
    return wf.assign(actor=actor, item=item, assignee=owner)  # type: ignore[no-any-return]


@action(capability="care.handle", scope=("customer",))
def customer_first_contact(*, actor: Actor, customer: Customer, note: str) -> Assignment:
    """R-CARE-2: the agent records the first contact with a newly assigned customer (on the
    customer's page), which closes the contact duty — once."""
    note = _text(note, 300)
    if not note:
        raise ApplicationError("visit", _("Record what was said in the first contact."))
    assignment = Assignment.objects.select_for_update().filter(customer=customer, active=True).first()
    if assignment is None:
        raise ApplicationError("assignment", _("This customer is not assigned to anyone yet."))
    now = clock.now()
    if not Assignment.objects.filter(pk=assignment.pk, contacted_at__isnull=True).update(contacted_at=now):
        raise ApplicationError("changed", _("The first contact is already recorded."), status=409)
    assignment.contacted_at = now
    event_record(
        actor=actor,
        verb=Verb.CUSTOMER_FIRST_CONTACT,
        subject=customer,
        after={"agent": assignment.agent.name, "note": note, "on_time": now <= assignment.contact_due},
    )
    return assignment


@action(capability="customers.assign")
def member_visits_schedule(*, actor: Actor = None, today: dt.date | None = None) -> int:
    """R-CARE-3 (clarified): every member customer with an agent gets a return visit scheduled in each
    month they have none (done or planned) — with their agent, outside the rest hours, spread over
    the month's remaining days — so that coverage can reach 100 %. Daily; idempotent."""
    today = today or clock.today()
    first = today.replace(day=1)
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    start, end = clock.day_start(first), clock.day_start(last + dt.timedelta(days=1))
    windows = policy_in_force(today).care.rest_windows
    planned = ReturnVisit.objects.filter(scheduled_at__gte=start, scheduled_at__lt=end).values("customer_id")
    done = ReturnVisit.objects.filter(done_at__gte=start, done_at__lt=end).values("customer_id")
    due = (
        Assignment.objects.filter(active=True, customer__member_level__gt="")
        .exclude(customer_id__in=planned)
        .exclude(customer_id__in=done)
        .select_related("customer", "agent")
        .order_by("agent_id", "customer_id")
    )
    days = max(1, (last - today).days + 1)
    tz = clock.local_tz()
    made = 0
    for i, assignment in enumerate(due[:5000]):
        day = today + dt.timedelta(days=i % days)
        at = rules.next_allowed(dt.datetime.combine(day, dt.time(10, 0)), windows).replace(tzinfo=tz)
        if at < clock.now():
            at = rules.next_allowed(
                (clock.now() + dt.timedelta(hours=1)).astimezone(tz).replace(tzinfo=None), windows
            ).replace(tzinfo=tz)
        ReturnVisit.objects.create(
            customer=assignment.customer,
            agent=assignment.agent,
            channel=VisitChannel.PHONE,
            topic=VisitTopic.OPINION,
            scheduled_at=at,
        )
        made += 1
    if made:
        event_record(actor=actor, verb=Verb.VISIT_MEMBERS_SCHEDULED, data={"month": f"{first:%Y-%m}", "visits": made})
    return made


@action(capability="care.handle", scope=("item",))
def complaint_resolve(*, actor: Actor, item: Complaint, reason: str, resolution: str, our_fault: bool) -> Complaint:
    """Resolve a complaint once every handling step is done: a reason from the catalogue (for the
    reason statistics), whether we were at fault, what was done."""
    item = Complaint.objects.select_for_update().get(pk=item.pk)  # no join under the lock (see service._locked)
    reasons = selectors.reason_labels()
    if reason not in reasons:
        raise ApplicationError("complaint", _("Choose a complaint reason from the catalogue."))
    if not (resolution or "").strip():
        raise ApplicationError("complaint", _("Describe the resolution."))
    missing = [str(label) for code, label in HANDLING_STEPS if code not in (item.checklist or {})]
    if missing:
        raise ApplicationError("complaint", _("Handling steps not done yet: %(steps)s") % {"steps": "; ".join(missing)})
    now = clock.now()
    updated = Complaint.objects.filter(pk=item.pk, resolved_at__isnull=True).update(
        reason=reason, resolution=_text(resolution, 2000), our_fault=our_fault, resolved_at=now, updated_at=now
    )
    if not updated:
        raise ApplicationError("changed", _("Already resolved."), status=409)
    item.refresh_from_db()
    wf.transition(actor=actor, item=item, label=wf.default_label(COMPLAINTS, ComplaintCategory.RESOLVED))
    # the reason as the catalogue words it (the catalogue is policy data, not a translatable code)
    event_record(
        actor=actor,
        verb=Verb.COMPLAINT_RESOLVED,
        subject=item,
        after={"reason": reasons[reason], "our_fault": our_fault},
    )
    return item


def _outside_rest(at: dt.datetime) -> None:
    """R-CARE-3: never in the customer's rest hours (the policy's windows, local time)."""
    windows = policy_in_force(clock.local_date(at)).care.rest_windows
    local = at.astimezone(clock.local_tz())
    if rules.in_rest_hours(local.time(), windows):
        suggestion = rules.next_allowed(local, windows)
        raise ApplicationError(
            "rest_hours",
            _("%(time)s is in the customer's rest hours (R-CARE-3); the next possible time is %(next)s.")
            % {"time": f"{local:%H:%M}", "next": f"{suggestion:%m-%d %H:%M}"},
        )


@action(capability="care.handle", scope=("customer", "agent", "complaint"))
def visit_schedule(
    *,
    actor: Actor,
    customer: Customer,
    agent: Staff,
    at: dt.datetime,
    channel: str = VisitChannel.PHONE,
    topic: str = VisitTopic.OPINION,
    complaint: Complaint | None = None,
) -> ReturnVisit:
    if channel not in VisitChannel.values or topic not in VisitTopic.values:
        raise ApplicationError("visit", _("Choose how and why the customer is visited."))
    if complaint is not None and complaint.customer_id not in (None, customer.pk):
        raise ApplicationError("visit", _("The complaint is another customer's."))
    if at < clock.now() - dt.timedelta(minutes=5):
        raise ApplicationError("visit", _("The time is in the past."))
    _outside_rest(at)
    visit = ReturnVisit.objects.create(
        customer=customer, agent=agent, channel=channel, topic=topic, scheduled_at=at, complaint=complaint
    )
    event_record(
        actor=actor,
        verb=Verb.VISIT_SCHEDULED,
        subject=customer,
        after={"at": at, "agent": agent.name, "topic": topic, "channel": channel},
    )
    return visit


@action(capability="care.handle", scope=("item", "agent"))
def complaint_visit_schedule(
    *, actor: Actor, item: Complaint, agent: Staff | None, at: dt.datetime, channel: str = VisitChannel.PHONE
) -> ReturnVisit:
    """The tracking return visit of a complaint (R-CARE-3), with an agent of the actor's scope."""
    if item.customer is None:
        raise ApplicationError("visit", _("The complaint names no customer to visit."))
    if agent is None:
        raise ApplicationError("visit", _("Choose the agent from the list."))
    return visit_schedule(  # type: ignore[no-any-return]
        actor=actor,
        customer=item.customer,
        agent=agent,
        at=at,
        channel=channel,
        topic=VisitTopic.AFTER_COMPLAINT,
        complaint=item,
    )


@action(capability="care.handle", scope=("visit",))
def visit_record(
    *, actor: Actor, visit: ReturnVisit, opinion: str, satisfaction: int, suggestions: str = ""
) -> ReturnVisit:
    """Record a return visit completely (R-CARE-3): what the customer said and their satisfaction
    are required. A first contact closes the new customer's contact duty (R-CARE-2); a visit after
    a resolved complaint closes the complaint."""
    if not (opinion or "").strip():
        raise ApplicationError("visit", _("Record what the customer said."))
    if isinstance(satisfaction, bool) or not isinstance(satisfaction, int) or not 1 <= satisfaction <= 5:
        raise ApplicationError("visit", _("Satisfaction is from 1 to 5."))
    now = clock.now()
    _outside_rest(now)  # the call is made now: not in the customer's rest hours either
    updated = ReturnVisit.objects.filter(pk=visit.pk, done_at__isnull=True).update(
        done_at=now, opinion=_text(opinion, 2000), suggestions=_text(suggestions, 2000), satisfaction=satisfaction
    )
    if not updated:
        raise ApplicationError("changed", _("This visit is already recorded."), status=409)
    visit.refresh_from_db()
    Assignment.objects.filter(customer=visit.customer, active=True, contacted_at__isnull=True).update(contacted_at=now)
    event_record(
        actor=actor,
        verb=Verb.VISIT_DONE,
        subject=visit.customer,
        after={"satisfaction": satisfaction, "topic": visit.topic, "opinion": visit.opinion[:300]},
    )
    if visit.complaint_id:
        complaint = Complaint.objects.select_related("status").get(pk=visit.complaint_id)
        if complaint.status.category == ComplaintCategory.RESOLVED:
            wf.transition(actor=actor, item=complaint, label=wf.default_label(COMPLAINTS, ComplaintCategory.CLOSED))
    return visit


@action(capability="customers.assign")
def assignments_confirm(*, actor: Actor, pairs: Sequence[tuple[Customer, Staff]]) -> list[Assignment]:
    """R-CARE-2: confirm the supervisor's (possibly edited) proposal: each customer to one agent, the
    previous assignment ended, the first contact due within the policy's days."""
    days = int(policy_in_force().care.new_customer_contact_days)
    now = clock.now()
    out = []
    for customer, agent in pairs:
        if not staff_holds(agent, "customers.serve"):
            raise ApplicationError("assignment", _("%(name)s does not take customers.") % {"name": agent.name})
        Assignment.objects.filter(customer=customer, active=True).update(active=False)
        out.append(
            Assignment.objects.create(
                customer=customer,
                agent=agent,
                assigned_at=now,
                assigned_by=user_of(actor),
                contact_due=now + dt.timedelta(days=days),
            )
        )
        customer_assign(actor=actor, customer=customer, agent=agent)
    return out


@action(capability="care.handle", scope=("item",))
def complaint_step(*, actor: Actor, item: Complaint, code: str, done: bool) -> Complaint:
    """Tick a handling step (R-CARE-1); the first one moves a received complaint into handling."""
    item = Complaint.objects.select_related("status").get(pk=item.pk)
    if item.status.category in (ComplaintCategory.RESOLVED, ComplaintCategory.CLOSED):
        raise ApplicationError("transition", _("The complaint is already resolved."))
    wf.checklist_toggle(actor=actor, item=item, code=code, done=done)
    if done and item.status.category == ComplaintCategory.OPEN:
        wf.transition(actor=actor, item=item, label=wf.default_label(COMPLAINTS, ComplaintCategory.HANDLING))
    return item


@action(capability="care.handle", scope=("item",))
def complaint_emotion_set(*, actor: Actor, item: Complaint, emotion: str) -> Complaint:
    """R-CARE-1: the agent confirms the suggested emotion or changes it."""
    if emotion not in Emotion.values:
        raise ApplicationError("complaint", _("Choose the customer's emotion from the list."))
    before = item.emotion
    Complaint.objects.filter(pk=item.pk).update(emotion=emotion, updated_at=clock.now())
    item.emotion = emotion
    event_record(
        actor=actor,
        verb=Verb.COMPLAINT_EMOTION_CONFIRMED,
        subject=item,
        before={"emotion": before},
        after={"emotion": emotion},
    )
    return item
